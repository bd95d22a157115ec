"""`tutormail receiving-activate`: make tutor-mail's receipt rule set the active one; dry run unless --apply."""

from __future__ import annotations

import argparse
import logging

from tutormail.aws.receipt_rules import activate
from tutormail.cli.output import emit_json
from tutormail.exitcodes import UsageError
from tutormail.plan.loader import load_catalog

log = logging.getLogger("tutormail")


def cmd_receiving_activate(args: argparse.Namespace) -> int:
    catalog = load_catalog(args.institutions, only=[])
    platform = catalog.platform
    if platform.receiving is None:
        raise UsageError(f"receiving-activate: {platform.source} has no receiving: (nothing to activate)")
    state = activate(platform.region, apply=args.apply)
    if args.output == "json":
        emit_json(state.as_dict())
    else:
        print(state.message)
    if state.conflict:
        log.error("%s", state.conflict)
    return state.exit_code


def register(add) -> None:
    activate_parser = add("receiving-activate", cmd_receiving_activate,
                          "make tutor-mail's receipt rule set the account's active one (never replacing another "
                          "application's); dry run unless --apply")
    activate_parser.add_argument("--apply", action="store_true",
                                 help="activate it (otherwise only say what would be done)")


