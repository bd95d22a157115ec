"""Rendering data for people (tables) and for pipelines (JSON with stable keys)."""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from tutormail.markdown import markdown_text
from tutormail.vocabulary import SCHEMA_VERSION


def emit_json(data: dict[str, Any], out: TextIO | None = None) -> None:
    payload = {"schema_version": SCHEMA_VERSION, **data}
    (out or sys.stdout).write(json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1
               for c in text)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    rows = [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def section(title: str, body: str, out: TextIO | None = None, markdown: bool = False) -> None:
    """A titled block; in Markdown the title is a heading (the body is the caller's, already Markdown)."""
    head = f"### {markdown_text(title)}\n\n" if markdown else f"{title}\n"
    (out or sys.stdout).write(f"{head}{body}\n\n")


def sentence(text: str, output: str) -> str:
    """A line for people, escaped when --output is markdown."""
    return markdown_text(text) if output == "markdown" else text
