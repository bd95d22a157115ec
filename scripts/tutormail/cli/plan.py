"""`tutormail plan SLUG`: what will exist for an institution, with the preflight unless --offline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tutormail.cli import preflight
from tutormail.cli.output import emit_json
from tutormail.cli.plan_view import dmarc_warnings, plan_data, print_plan
from tutormail.exitcodes import Exit
from tutormail.plan.build import plan_for
from tutormail.plan.loader import load_catalog


def cmd_plan(args: argparse.Namespace) -> int:
    catalog = load_catalog(Path(args.institutions), only=[args.slug])
    plan = plan_for(catalog, args.slug)
    warnings = [] if args.offline else dmarc_warnings(plan, args.runtime.dns)
    # Online, the plan carries the preflight (what is already there) and its exit code: 1 a conflict, 4 AWS/DNS.
    found = None if args.offline else preflight.check_plans(catalog.platform, [plan], args.runtime.dns)
    if args.output == "json":
        checked = found.as_dict() if found else {"skipped": preflight.OFFLINE}
        emit_json({**plan_data(plan), "warnings": warnings, "preflight": checked})
    else:
        print_plan(plan, sys.stdout, warnings, found)
    return found.exit_code if found else Exit.OK


def register(add) -> None:
    plan = add("plan", cmd_plan, "what will exist for an institution: identities, records, SMTP user, "
               "accounts, rules")
    plan.add_argument("slug")
    plan.add_argument("--offline", action="store_true",
                      help="read nothing from AWS or the DNS: no preflight, no DMARC look-ups")
