"""Validation problems, collected rather than raised one at a time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tutormail.exitcodes import Exit, TutormailError


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.reason}"

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "field": self.field, "reason": self.reason}


class ConfigurationError(TutormailError):
    """Raised once, at the end of a load, carrying every problem found (exit 2)."""

    exit_code = Exit.BAD_INPUT

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


def display_path(path: Path) -> str:
    """Paths as the user would type them: relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
