"""Exit codes shared by every command (README, "Exit codes"), and the errors that carry them.

A failure is raised as a `TutormailError` holding its exit code; `cli.main` is the one place that
turns it into a message on stderr and the process's exit status.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    ACTION_NEEDED = 1
    BAD_INPUT = 2
    PENDING = 3
    SERVICE_ERROR = 4
    INTERRUPTED = 130


# What each code tells the person or pipeline that ran the command: `tutormail --help` and README's
# table are made from it (tests/unit/test_cli.py keeps README's table equal to `markdown_table()`).
MEANING = {
    Exit.OK: "done: verified, or nothing left to do",
    Exit.ACTION_NEEDED: "a person must act (verification failed or expired, a conflict to decide, a record to remove)",
    Exit.BAD_INPUT: "bad input or configuration (an option, a variable, a file)",
    Exit.PENDING: "still pending (e.g. `--wait` timed out inside the SES window)",
    Exit.SERVICE_ERROR: "AWS, DNS or SMTP service error after retries, or a check that could not run",
    Exit.INTERRUPTED: "interrupted",
}


def help_text() -> str:
    return "Exit codes: " + "; ".join(f"{int(code)} {MEANING[code]}" for code in Exit) + "."


def markdown_table() -> str:
    rows = [f"| {int(code)} | `{code.name}` | {MEANING[code]} |" for code in Exit]
    return "\n".join(["| exit | name | meaning |", "|---|---|---|", *rows])


# From best to worst: the code of a set of outcomes (a batch, --all) is that of its worst member.
SEVERITY = (Exit.OK, Exit.PENDING, Exit.ACTION_NEEDED, Exit.BAD_INPUT, Exit.SERVICE_ERROR)


def worst(codes: Iterable[Exit]) -> Exit:
    return max(list(codes) or [Exit.OK], key=SEVERITY.index)


class TutormailError(Exception):
    """A failure that ends a command; its message names what failed and why."""

    exit_code: Exit = Exit.SERVICE_ERROR

    def __init__(self, message: str, exit_code: Exit | int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = Exit(exit_code)


class UsageError(TutormailError):
    """A wrong option, environment variable or file named by one: exit 2, nothing changed."""

    exit_code = Exit.BAD_INPUT


if __name__ == "__main__":  # README's table: .venv/bin/python -m tutormail.exitcodes
    print(markdown_table())
