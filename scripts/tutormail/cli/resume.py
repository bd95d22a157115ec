"""`tutormail resume SLUG`: turn one institution's sending back on, unless a rate is still too high."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tutormail.cli.output import emit_json
from tutormail.exitcodes import Exit
from tutormail.plan.loader import load_catalog
from tutormail.reputation.use_cases import ResumeRefused, resume_institution

log = logging.getLogger("tutormail")


def cmd_resume(args: argparse.Namespace) -> int:
    catalog = load_catalog(Path(args.institutions), only=[args.slug])
    try:
        mark = resume_institution(catalog, args.slug, args.force)
    except ResumeRefused as exc:
        log.error("%s stays paused: %s (wait for the rate to fall, or --force)", args.slug, exc)
        if args.output == "json":
            emit_json({"institution": args.slug, "paused": True, "refused": str(exc)})
        return Exit.ACTION_NEEDED
    if args.output == "json":
        emit_json({"institution": args.slug, "paused": False, "at": mark.at, "by": mark.by, "reason": mark.reason})
    else:
        print(f"{args.slug}: sending resumed at {mark.at} by {mark.by}")
    return Exit.OK


def register(add) -> None:
    resume = add("resume", cmd_resume, "turn one institution's sending back on; refused while a rate is still at "
                 "or above the pause level")
    resume.add_argument("slug")
    resume.add_argument("--force", action="store_true", help="resume even above the pause level")
