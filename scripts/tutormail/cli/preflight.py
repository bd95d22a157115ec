"""`tutormail preflight [SLUG...|--all]`: parse, run the preflight, render."""

from __future__ import annotations

import argparse
from pathlib import Path

from tutormail.aws import client as aws
from tutormail.aws.ses import Ses
from tutormail.catalog.model import Platform
from tutormail.cli.institutions import selected
from tutormail.cli.output import emit_json, section, table
from tutormail.dnsclient.resolver import DnsEndpoints
from tutormail.exitcodes import Exit, worst
from tutormail.plan.build import InstitutionPlan, build_plan
from tutormail.plan.loader import load_catalog
from tutormail.preflight.caps import CAPS_HEADER, account_caps, caps_rows
from tutormail.preflight.check import Preflight, PreflightRun, run
from tutormail.preflight.dmarc import DmarcCheck
from tutormail.preflight.platform import check_platform


def register(add) -> None:
    parser = add("preflight", cmd_preflight, "before a first deploy: what already exists at every name we would "
                 "write, identities already in SES, the SES account's state; conflicts with the action to take")
    parser.add_argument("slugs", nargs="*", metavar="SLUG")
    parser.add_argument("--all", action="store_true", help="every institution in the directory")
    parser.add_argument("--platform", action="store_true", help="before TutorMail-Platform's first deploy (run by "
                        "its deployer): GitHub's OIDC provider, the progress table, the functions' log groups")


OFFLINE = ("skipped (--offline): nothing was read from AWS or the DNS, so records, identities and DMARC "
           "policies already there, and the conflicts they make, are not shown; run `tutormail preflight SLUG`")


def check_plans(platform: Platform, plans: list[InstitutionPlan], endpoints: DnsEndpoints) -> PreflightRun:
    """The preflight of these institutions with the runtime's clients (`preflight`, `plan`)."""
    clients = aws.Clients(platform.region)
    return run(plans, Ses(platform), clients["cloudformation"], clients["route53"], endpoints)


def _platform_preflight(args: argparse.Namespace) -> int:
    platform = load_catalog(Path(args.institutions), only=[]).platform
    found = check_platform(platform, aws.Clients(platform.region))
    if args.output == "json":
        emit_json(found.as_dict())
        return found.exit_code
    rows = [[c.what, c.name, "yes" if c.exists else "no", c.conflict or "clear"] for c in found.checks]
    section(found.stack, table(["what", "name", "exists", "conflict"], rows))
    return found.exit_code


def cmd_preflight(args: argparse.Namespace) -> int:
    if args.platform:
        return _platform_preflight(args)
    catalog = load_catalog(Path(args.institutions), only=selected(args, "preflight"))
    plans = [build_plan(catalog.institutions[slug], catalog.platform) for slug in catalog.institutions]
    found = check_plans(catalog.platform, plans, args.runtime.dns)
    caps = account_caps(catalog)
    full = any(c["institutions_left"] == 0 for c in caps)  # the next institution would not fit
    code = worst([found.exit_code, Exit.ACTION_NEEDED if full else Exit.OK])
    if args.output == "json":
        emit_json({**found.as_dict(), "caps": caps, "exit_code": int(code)})
        return code
    if found.account_summary:
        print(found.account_summary)
    section("account caps", table(CAPS_HEADER, caps_rows(caps)))
    for report in found.institutions:
        section(report.institution, report_text(report))
    return code


def _dmarc_line(check: DmarcCheck) -> str:
    if check.state == "unknown":
        in_force = "unknown"
    elif check.record:
        in_force = f"{check.policy or 'no DMARC processing'} ({check.record_name}: {check.record})"
    else:
        in_force = "none (no DMARC record)"
    ours = f"we publish {check.publishes}" if check.publishes else "we publish nothing"
    lines = [f"DMARC of {check.identity} (dmarc: {check.mode}): in force {in_force}; {ours}",
             f"  alignment: {check.alignment}"]
    return "\n".join(lines + ([f"  note: {check.note}"] if check.note else []))


def report_text(report: Preflight) -> str:
    """One institution's preflight for people: the names, the DMARC policies, the conflicts."""
    rows = [[n.name, n.type, n.source, " ".join(n.found) or "-", n.action, n.reason] for n in report.names]
    body = table(["name", "type", "asked", "there now", "action", "why"], rows) if rows else ""
    body += "".join("\n" + _dmarc_line(check) for check in report.dmarc)
    problems = report.conflicts or ([report.error] if report.error is not None else [])
    return body + "\n" + ("\n".join(f"CONFLICT: {c}" for c in problems) if problems else "clear: nothing in the way")
