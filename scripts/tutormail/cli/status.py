"""`tutormail status [SLUG...|--all]`: one row per institution, company and account; what is missing, who acts."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from tutormail.aws.check_mailbox import received_counts
from tutormail.aws.ses import account_view
from tutormail.cli import arguments, status_html
from tutormail.cli.institutions import selected
from tutormail.cli.output import emit_json, table
from tutormail.exitcodes import worst
from tutormail.fleet.drift import add_drift, drift_lines
from tutormail.fleet.status import StatusRow, status_with_health
from tutormail.plan.fleet_caps import first_to_bite, fleet_caps
from tutormail.plan.loader import load_catalog
from tutormail.preflight.caps import account_caps
from tutormail.services import Services

log = logging.getLogger("tutormail")


def print_headroom(caps: list[dict[str, Any]]) -> None:
    """The fleet's first quota to bite (plan/fleet_caps.py), under status --all's table header."""
    if caps:
        tight = first_to_bite(caps)
        quota = f"the account's quota ({tight['quota']}: {tight['account_quota']})" if "account_quota" in tight \
            else f"the default quota ({tight['quota']})"
        print(f"headroom: {tight['institutions_left']} more institution(s) before {tight['cap']} reach {quota}; "
              f"`tutormail preflight --all` lists every cap")


def cmd_status(args: argparse.Namespace) -> int:
    page = status_html.take_file(args)
    catalog = load_catalog(Path(args.institutions), only=selected(args, "status"))
    services = Services.of(args.runtime.clock, args.runtime.dns)
    rows, code, health = status_with_health(catalog, services, dns_checks=not args.offline)
    code = worst([code, add_drift(catalog, rows, services, checked=args.drift)])
    add_received(catalog.platform, rows)  # issue 25: what each platform address received
    account, header = account_view(catalog.platform)
    # The whole fleet's headroom: the account's own quotas and use, or (--offline) the files' defaults.
    caps = ([] if not args.all else fleet_caps(catalog) if args.offline else account_caps(catalog))
    if page:
        status_html.write(rows, page, args.runtime.clock)
    elif args.output == "json":
        emit_json({"exit_code": int(code), "account": account, "rows": [r.as_dict() for r in rows], "caps": caps})
    else:
        if header:
            print(header)
        print_headroom(caps)
        print(table(["institution", "company", "account", "address", "scen.", "phase", "Tutor", "next action", "who",
                     "link expires", "DMARC", "sending", "received"],
                    [[r.institution, r.company, r.account, r.address, r.scenario, r.phase, r.tutor, r.next_action,
                      r.actor, r.link_expires_at or "", r.deliverability.summary, r.health.sending,
                      "-" if r.received is None else r.received] for r in rows]))
        for slug, found in health.items():
            if found.paused:
                log.warning("%s: %s", slug, found.why)
        for row in rows:
            if row.dmarc_warning:
                log.warning("%s: %s", row.address, row.dmarc_warning)
        for line in drift_lines(rows):  # --drift
            print(line)
    return code


def add_received(platform, rows: list[StatusRow], counts=received_counts) -> None:
    """status's `received` (JSON) and column: messages to the institution's platform address so far;
    None when the platform receives nothing (no receiving:)."""
    found = counts(platform.region) if platform.receiving is not None else {}
    for row in rows:
        row.received = found.get(row.institution, 0) if platform.receiving is not None else None


def register(add) -> None:
    status = add("status", cmd_status, "one row per institution, company and account: phase, what is "
                 "missing, next action and who takes it",
                 outputs=("table", "json", "html"))
    status.add_argument("slugs", nargs="*", metavar="SLUG")
    status.add_argument("--all", action="store_true", help="every institution in the directory")
    status.add_argument("--offline", action="store_true", help="skip the DMARC look-ups")
    status.add_argument("--drift", action="store_true", help="also report drift as verify does (records, DKIM, "
                        "SMTP key age): per institution, reads each identity, its DNS and its keys")
    status.add_argument("--format", choices=("html",), help="html: the fleet on one self-contained, filterable "
                        "page, written to --out")
    status.add_argument("--out", metavar="FILE", type=arguments.output_file, help="the page to write (mode 0600)")
    status.epilog = status_html.EPILOG
