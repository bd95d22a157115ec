"""Exit codes shared by every command (README, "Exit codes"), and the errors that carry them.

A failure is raised as a `TutormailError` holding its exit code; `cli.main` is the one place that
turns it into a message on stderr and the process's exit status.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


class Exit(IntEnum):
    OK = 0  # done / verified
    ACTION_NEEDED = 1  # verification failed or expired: a person must act
    BAD_INPUT = 2  # bad input or configuration
    PENDING = 3  # still pending (e.g. --wait timed out inside the SES window)
    SERVICE_ERROR = 4  # AWS, DNS or SMTP service error after retries
    INTERRUPTED = 130


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
