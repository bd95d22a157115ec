"""`tutormail verify SLUG...`: where each identity stands (DNS on every authoritative server, SES, the link)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tutormail.aws.ses import account_view
from tutormail.cli import arguments
from tutormail.cli.institutions import each_institution
from tutormail.cli.output import section, table
from tutormail.plan.loader import load_catalog
from tutormail.services import Services
from tutormail.verification.deliverability import deliverability_lines
from tutormail.verification.verify import IdentityVerdict, VerifyOptions, verify_and_drift


def _print_verify(slug: str, found: list[IdentityVerdict], institution: dict | None = None) -> None:
    for drift in (institution or {}).get("smtp_key_drift", []):
        section(f"{slug}: SMTP key", f"drift: {drift}")
    for verdict in found:
        check, ses, dns = verdict.check, verdict.ses, verdict.dns
        lines = [f"state: {check.state} (SES: {ses.status}: {ses.meaning})"]
        if ses.domain and ses.domain.mail_from_status:
            lines.append(f"MAIL FROM {ses.domain.mail_from_domain}: {ses.domain.mail_from_status}"
                         f" ({ses.domain.mail_from_meaning})")
        if check.missing:
            lines.append(f"missing: {check.missing}")
        lines.append(f"next: {check.next_action} ({check.actor})")
        lines += deliverability_lines(verdict.deliverability)
        lines += [f"drift: {d}" for d in verdict.drift]
        if dns and dns.problem:
            lines.append(f"DNS: {dns.problem}")
        if dns and dns.findings:
            lines.append(table(["server", "record", "type", "status", "found"],
                               [[f"{f.server} ({f.address})", f.record, f.type, f.status,
                                 " ".join(f.found) if f.status == "wrong" else f.detail]
                                for f in dns.findings]))
        section(f"{slug}: {check.identity} (Cenário {check.scenario})", "\n".join(lines))


def cmd_verify(args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.timeout
    options = VerifyOptions(auto_resend=args.auto_resend, max_resends=args.max_resends, wait=args.wait)
    services = Services.of(args.runtime.clock, args.runtime.dns)
    account, header = account_view(load_catalog(Path(args.institutions), only=[]).platform)
    if args.output != "json" and header:
        print(header)
    return each_institution(args, "identities", lambda plan: verify_and_drift(plan, services, options, deadline),
                            _print_verify, account=account)


def register(add) -> None:
    verify = add("verify", cmd_verify,
                 "where each identity stands: DNS on every authoritative server, SES, the link's age")
    verify.add_argument("slugs", nargs="+", metavar="SLUG")
    verify.add_argument("--wait", action="store_true", help="poll with backoff until verified, failed or timeout")
    verify.add_argument("--timeout", type=arguments.duration, default="10m",
                        help="for --wait: 90s, 10m, 2h (default 10m)")
    verify.add_argument("--auto-resend", action="store_true",
                        help="Cenário 2: request a new link when the last expired")
    verify.add_argument("--max-resends", type=arguments.resends, default=5,
                        help="upper bound of links sent per address")
