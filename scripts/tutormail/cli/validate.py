"""`tutormail validate [FILES]`: check institution files, every problem with its file, field and reason."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tutormail.cli.output import emit_json, table
from tutormail.exitcodes import Exit
from tutormail.plan.fleet_caps import fleet_caps
from tutormail.plan.loader import check_files

log = logging.getLogger("tutormail")


def cmd_validate(args: argparse.Namespace) -> int:
    directory = Path(args.institutions)
    files = [Path(f) for f in args.files] or None
    if files:
        # The platform file sits beside the institution files: a different directory carries its own.
        parents = {f.parent.resolve() for f in files}
        if len(parents) == 1 and not args.institutions_given:
            directory = files[0].parent
    catalog, problems = check_files(directory, files)
    # The account's quotas, counted from the whole directory (not when only some files are checked).
    caps = fleet_caps(catalog) if catalog and not problems and not files else []
    if args.output == "json":
        emit_json({"valid": not problems, "problems": [p.as_dict() for p in problems],
                   "institutions": sorted(catalog.institutions) if catalog else [], "caps": caps})
    else:
        for problem in problems:
            print(problem)
        if not problems:
            print(f"{len(catalog.institutions)} institution(s) valid: {', '.join(catalog.institutions)}")
        if caps:
            print(table(["cap", "used", "default quota", "institutions left", "quota to raise"],
                        [[c["cap"], c["used"], c["default"], c["institutions_left"], c["quota"]] for c in caps]))
    if problems:
        log.error("%d problem(s) found; nothing may be deployed until they are fixed", len(problems))
        return Exit.BAD_INPUT
    return Exit.OK


def register(add) -> None:
    validate = add("validate", cmd_validate,
                   "check institution files; every problem as FILE:LINE: field: reason")
    validate.add_argument("files", nargs="*", metavar="FILE")
