"""`status --format html --out FILE`: the fleet on one page. The spelling README had before,
`status --output html FILE` (the last positional argument names the page), still works."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tutormail.cli import arguments
from tutormail.clock import Clock, iso
from tutormail.exitcodes import UsageError
from tutormail.fleet.html_page import render
from tutormail.fleet.status import StatusRow
from tutormail.tutor_setup.smtp_settings import write_private

log = logging.getLogger("tutormail")
EPILOG = "The fleet on one page: status --all --format html --out FILE"


def _old_spelling(args: argparse.Namespace) -> Path:
    log.warning("status: --output html FILE is the old spelling of --format html --out FILE")
    if not args.slugs:
        raise UsageError("status: --output html needs the FILE to write: status --all --format html --out FILE")
    target = Path(args.slugs.pop())
    if target.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"status: FILE {target} does not end in .html (is it a slug?): give the page as "
                         "--format html --out FILE")
    if target.is_dir():
        raise UsageError(f"status: FILE {target} is a directory: give the path of the page to write")
    return target


def take_file(args: argparse.Namespace) -> Path | None:
    """The page to write, or None for a table or JSON on standard output."""
    if args.output == "html":
        if args.format is not None or args.out is not None:
            raise UsageError("status: --output html is the old spelling: give --format html --out FILE instead")
        return _old_spelling(args)
    if arguments.data_format(args, "status", "table") != "html":
        if args.out is not None:
            raise UsageError("status: --out FILE writes the page: add --format html")
        return None
    if args.out is None:
        raise UsageError("status: --format html needs --out FILE, the page to write")
    return args.out


def write(rows: list[StatusRow], target: Path, clock: Clock) -> None:
    """Written as --out files are: a new file of ours renamed over the path, so a symlink there is
    replaced, not followed, and a file someone else owns is never written into."""
    write_private(target, render(rows, iso(clock.now())))
    print(target.resolve())
