"""`tutormail offboard SLUG [--apply]`: an institution removed in ordered, resumable steps, each a plan and an apply."""

from __future__ import annotations

import argparse
from pathlib import Path

from tutormail.cli import arguments
from tutormail.cli.output import emit_json, section, sentence
from tutormail.cli.plan_view import changes_view
from tutormail.lifecycle.offboard import offboarding, run
from tutormail.lifecycle.offboard import outcome as offboard_outcome
from tutormail.plan.change import SCHEMA_VERSION, Change
from tutormail.plan.loader import load_catalog


def _print_step(step: str, entry: dict, output: str) -> None:
    when = f"done at {entry['at']}" if entry.get("earlier") else entry["at"]
    markdown = output == "markdown"
    title = f"{step} ({when})" if markdown else f"== {step} ({when})"
    if "changes" not in entry:  # a step recorded before the record kept its changes
        lines = [("- " if markdown else "  ") + sentence(f"{label}: {item}", output)
                 for label, key in (("removed", "removed"), ("left", "left"), ("already gone", "already_gone"))
                 for item in entry[key]]
        section(title, "\n".join(lines), markdown=markdown)
        return
    section(title, changes_view([Change.from_dict(c) for c in entry["changes"]], output), markdown=markdown)


def cmd_offboard(args: argparse.Namespace) -> int:
    job = offboarding(load_catalog(Path(args.institutions)), args.slug, args.apply, args.runtime.dns,
                      args.runtime.clock)
    text = args.output != "json"
    if text and not args.apply:
        print(sentence(f"dry run: nothing is changed; pass --apply to offboard {args.slug}", args.output))
    steps: dict[str, dict] = {}

    def shown(step: str, entry: dict) -> None:
        steps[step] = entry
        if text:
            _print_step(step, entry, args.output)

    record = run(job, shown)
    code = offboard_outcome(list(steps.values()))
    if args.output == "json":
        emit_json({"schema_version": SCHEMA_VERSION, "institution": args.slug, "applied": args.apply,
                   "steps": steps, "record": record, "exit_code": int(code)})
    elif args.apply:
        print(sentence(f"offboarding of {args.slug} finished at {record['finished']}; record kept in the progress "
                       "table", args.output))
    return code


def register(add) -> None:
    offboard = add("offboard", cmd_offboard, "remove an institution: sending off, keys off, its RFC 2136 records, "
                   "its stack, its retained identities; dry run unless --apply; resumable",
                   outputs=arguments.CHANGE_OUTPUTS)
    offboard.add_argument("slug")
    offboard.add_argument("--apply", action="store_true", help="do it (default: print what would be done)")
