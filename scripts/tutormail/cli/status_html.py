"""`status --output html FILE`: the last positional argument names the page to write."""

from __future__ import annotations

import argparse
from pathlib import Path

from tutormail.clock import Clock, iso
from tutormail.exitcodes import UsageError
from tutormail.fleet.html_page import render
from tutormail.tutor_setup.smtp_settings import write_private

EPILOG = "With --output html, the last argument is the FILE to write: status --all --output html FILE"


def take_file(args: argparse.Namespace) -> Path | None:
    if args.output != "html":
        return None
    if not args.slugs:
        raise UsageError("status: --output html needs the FILE to write: status --all --output html FILE")
    target = Path(args.slugs.pop())
    if target.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"status: FILE {target} does not end in .html (is it a slug?)")
    if target.is_dir():
        raise UsageError(f"status: FILE {target} is a directory: give the path of the page to write")
    return target


def write(rows: list[dict], target: Path, clock: Clock) -> None:
    """Written as --out files are: a new file of ours renamed over the path, so a symlink there is
    replaced, not followed, and a file someone else owns is never written into."""
    write_private(target, render(rows, iso(clock.now())), option="--output html")
    print(target.resolve())
