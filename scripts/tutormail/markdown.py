"""Markdown (CommonMark with GFM tables) that shows text from a file as written: the handoff, the changes."""

from __future__ import annotations

import re

# Characters that change what Markdown (CommonMark with GFM tables) shows; a backslash makes each
# one literal, so a display name is shown as written and never becomes a tag, a link or a column.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#!])")


def markdown_text(text: str) -> str:
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


def markdown_code(text: str) -> str:
    """A code span that holds any text: a fence longer than any run of backticks inside, and `|`
    escaped, which GFM requires even inside code in a table."""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}".replace("|", "\\|")
