"""`tutormail reputation [SLUG...|--all]`: sending health, paused or not and why, rates, alarms."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tutormail.cli.institutions import selected
from tutormail.cli.output import emit_json, table
from tutormail.exitcodes import Exit
from tutormail.names import FAILED_PAUSES_QUEUE
from tutormail.plan.loader import load_catalog
from tutormail.reputation.health import rate_text
from tutormail.reputation.use_cases import failed_pauses, fleet_health

log = logging.getLogger("tutormail")


def cmd_reputation(args: argparse.Namespace) -> int:
    catalog = load_catalog(Path(args.institutions), only=selected(args, "reputation"))
    found = fleet_health(catalog, list(catalog.institutions))
    # A failed pause: the alarm stays in ALARM and will not fire again, so a person must pause by hand.
    in_queue, failed = failed_pauses(catalog, None if args.all else list(catalog.institutions))
    code = Exit.ACTION_NEEDED if any(h.paused for h in found) or failed else Exit.OK
    if args.output == "json":
        emit_json({"exit_code": int(code), "institutions": [h.as_dict() for h in found],
                   "failed_pauses": [f.as_dict() for f in failed], "failed_pauses_in_queue": in_queue})
        return code
    print(table(["institution", "sending", "bounce", "complaint", "alarms in ALARM", "why"],
                [[h.slug, h.health, rate_text(h.rates.get("bounce")), rate_text(h.rates.get("complaint")),
                  ", ".join(n for n, s in sorted(h.alarms.items()) if s == "ALARM") or "-", h.why or "-"]
                 for h in found]))
    for health in found:
        for event in health.events:
            print(f"{health.slug}: {event}")
    for failure in failed:
        print(f"{failure.institution or '-'}: PAUSE FAILED at {failure.at} ({failure.alarm}): {failure.error}")
    if failed:
        log.error("%d pause(s) failed and were not retried: pause by hand (tutormail pause SLUG --reason ...), then "
                  "delete the message from the %s queue", len(failed), FAILED_PAUSES_QUEUE)
    return code


def register(add) -> None:
    health = add("reputation", cmd_reputation, "sending health: paused or not and why, bounce and complaint "
                 "rates, alarms, last events")
    health.add_argument("slugs", nargs="*", metavar="SLUG")
    health.add_argument("--all", action="store_true", help="every institution in the directory")
