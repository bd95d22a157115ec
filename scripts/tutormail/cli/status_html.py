"""`status --output html FILE`: the last positional argument names the page to write."""

from __future__ import annotations

import argparse
from pathlib import Path

from tutormail.clock import Clock, iso
from tutormail.exitcodes import UsageError
from tutormail.fleet.html_page import render

EPILOG = "With --output html, the last argument is the FILE to write: status --all --output html FILE"


def take_file(args: argparse.Namespace) -> Path | None:
    if args.output != "html":
        return None
    if not args.slugs:
        raise UsageError("status: --output html needs the FILE to write: status --all --output html FILE")
    target = Path(args.slugs.pop())
    if target.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"status: FILE {target} does not end in .html (is it a slug?)")
    return target


def write(rows: list[dict], target: Path, clock: Clock) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(rows, iso(clock.now())), encoding="utf-8")
    print(target.resolve())
