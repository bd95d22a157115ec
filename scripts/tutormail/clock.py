"""Time, injectable: tests move a clock instead of sleeping, and the sandbox shifts its own.

`TUTORMAIL_CLOCK_FILE` names a file holding an offset in seconds; the sandbox writes it on
`advance-clock` and its AWS emulator reads the same file, so the CLI and the emulated SES agree
on what time it is.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path


class Clock:
    def now(self) -> datetime:
        offset = 0.0
        path = os.environ.get("TUTORMAIL_CLOCK_FILE")
        if path and Path(path).is_file():
            offset = float(Path(path).read_text().strip() or 0)
        return datetime.now(UTC) + timedelta(seconds=offset)


class FixedClock(Clock):
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None):
        self._now = start or datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
