"""`tutormail cleanup SLUG [--apply]`: after a deploy, what the files no longer declare, removed."""

from __future__ import annotations

import argparse
from pathlib import Path

from tutormail.cli import arguments
from tutormail.cli.output import emit_json, sentence
from tutormail.cli.plan_view import changes_view
from tutormail.lifecycle import cleanup
from tutormail.plan.change import SCHEMA_VERSION
from tutormail.plan.loader import load_catalog


def cmd_cleanup(args: argparse.Namespace) -> int:
    job = cleanup.cleanup_job(load_catalog(Path(args.institutions)), args.slug, args.apply, args.runtime.dns,
                              Path(args.previous) if args.previous else None)
    found = cleanup.run(job)
    code = cleanup.outcome(found)
    if args.output == "json":
        emit_json({"schema_version": SCHEMA_VERSION, "institution": args.slug, "applied": args.apply,
                   "changes": [c.as_dict() for c in found], "exit_code": int(code)})
        return code
    if not args.apply:
        print(sentence(f"dry run: nothing is changed; pass --apply to remove what {args.slug}'s files no longer "
                       "declare", args.output))
    print(changes_view(found, args.output) if found else sentence(f"nothing to clean up for {args.slug}", args.output))
    return code


def register(add) -> None:
    clean = add("cleanup", cmd_cleanup, "after a deploy, remove what the files no longer declare: retained "
                "identities no file claims and their records; dry run unless --apply", outputs=arguments.CHANGE_OUTPUTS)
    clean.add_argument("slug")
    clean.add_argument("--apply", action="store_true", help="do it (default: print what would be removed)")
    clean.add_argument("--previous", metavar="DIR", help="the institution files as they were before the change "
                       "(e.g. a checkout of the previous commit): where removed domains' DNS servers were")
