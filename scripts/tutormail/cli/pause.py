"""`tutormail pause SLUG --reason`: turn off one institution's sending, recording why."""

from __future__ import annotations

import argparse
from pathlib import Path

from tutormail.cli.output import emit_json
from tutormail.exitcodes import Exit
from tutormail.plan.loader import load_catalog
from tutormail.reputation.pause import plain_reason
from tutormail.reputation.use_cases import pause_institution


def _reason(text: str) -> str:
    if not plain_reason(text):
        raise argparse.ArgumentTypeError("give a reason in words: it is recorded and shown with the pause")
    return text


def cmd_pause(args: argparse.Namespace) -> int:
    catalog = load_catalog(Path(args.institutions), only=[args.slug])
    mark = pause_institution(catalog, args.slug, args.reason)
    if args.output == "json":
        emit_json({"institution": args.slug, "paused": True, "at": mark.at, "by": mark.by, "reason": mark.reason})
    else:
        print(f"{args.slug}: sending paused at {mark.at} by {mark.by}: {mark.reason}")
    return Exit.OK


def register(add) -> None:
    pause = add("pause", cmd_pause, "turn off one institution's sending (its configuration set), recording why")
    pause.add_argument("slug")
    pause.add_argument("--reason", required=True, type=_reason, help="why, kept and shown as plain text")
