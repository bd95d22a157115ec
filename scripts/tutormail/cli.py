"""`tutormail`: thin command entry points over the library. Data on stdout, logs on stderr."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__
from .exitcodes import Exit
from .model import check_files, load_catalog
from .output import emit_json
from .plan import plan_for
from .plan_view import plan_data, print_plan
from .problems import ConfigurationError
from .schema import institution_schema

log = logging.getLogger("tutormail")


def _institutions_dir(args: argparse.Namespace) -> Path:
    return Path(args.institutions)


def cmd_validate(args: argparse.Namespace) -> int:
    directory = _institutions_dir(args)
    files = [Path(f) for f in args.files] or None
    if files:
        # The platform file sits beside the institution files: a different directory carries its own.
        parents = {f.parent.resolve() for f in files}
        if len(parents) == 1 and not args.institutions_given:
            directory = files[0].parent
    catalog, problems = check_files(directory, files)
    if args.output == "json":
        emit_json({"valid": not problems, "problems": [p.as_dict() for p in problems],
                   "institutions": sorted(catalog.institutions) if catalog else []})
    else:
        for problem in problems:
            print(problem)
        if not problems:
            print(f"{len(catalog.institutions)} institution(s) valid: {', '.join(catalog.institutions)}")
    if problems:
        log.error("%d problem(s) found; nothing may be deployed until they are fixed", len(problems))
        return Exit.BAD_INPUT
    return Exit.OK


def cmd_plan(args: argparse.Namespace) -> int:
    catalog = load_catalog(_institutions_dir(args), only=[args.slug])
    plan = plan_for(catalog, args.slug)
    if args.output == "json":
        emit_json(plan_data(plan))
    else:
        print_plan(plan, sys.stdout)
    return Exit.OK


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(institution_schema(), indent=2, sort_keys=True))
    return Exit.OK


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--institutions", metavar="DIR",
                        default=os.environ.get("TUTORMAIL_INSTITUTIONS"),
                        help="directory of institution files (default: ./institutions, or "
                             "$TUTORMAIL_INSTITUTIONS)")
    common.add_argument("--output", choices=("table", "json"), default="table",
                        help="table for people, json (stable keys, schema_version) for pipelines")
    common.add_argument("-v", "--verbose", action="store_true", help="debug logs on stderr")

    parser = argparse.ArgumentParser(
        prog="tutormail", parents=[common],
        description="A verified, least-privilege Amazon SES sender for every Tutor institution.",
        epilog="Exit codes: 0 done/verified; 1 a person must act (failed or expired); 2 bad input "
               "or configuration; 3 still pending; 4 AWS, DNS or SMTP error after retries; "
               "130 interrupted.")
    parser.add_argument("--version", action="version", version=f"tutormail {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        command.set_defaults(func=func)
        return command

    validate = add("validate", cmd_validate,
                   "check institution files; every problem as FILE:LINE: field: reason")
    validate.add_argument("files", nargs="*", metavar="FILE")
    plan = add("plan", cmd_plan, "what will exist for an institution: identities, records, SMTP user, "
               "accounts, rules")
    plan.add_argument("slug")
    add("schema", cmd_schema, "print the JSON Schema of an institution file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.institutions_given = args.institutions is not None
    if args.institutions is None:
        args.institutions = "institutions"
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except ConfigurationError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return Exit.BAD_INPUT
    except KeyboardInterrupt:
        log.error("interrupted")
        return Exit.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
