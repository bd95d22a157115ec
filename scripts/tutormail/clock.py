"""Time, injectable: tests move a clock instead of sleeping, and the sandbox shifts its own.

The sandbox keeps an offset in seconds in a file (`TUTORMAIL_CLOCK_FILE`) and moves it on
`advance-clock`. A command reads it once, with the other runtime settings (runtime.py), and keeps
that offset for its whole run; only the long-running AWS emulator follows the file as it changes
(`FileClock`), so the CLI and the emulated SES agree on what time it is.
"""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path


class Clock:
    """The real time, shifted by a fixed offset (zero outside the sandbox)."""

    def __init__(self, offset: timedelta = timedelta(0)):
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def read_offset(path: Path) -> timedelta:
    """The offset a clock file holds; ValueError with the reason when it holds none."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        seconds = float(text or 0)
    except ValueError:
        raise ValueError(f"{path} must hold a number of seconds, not {text[:40]!r}") from None
    if not is_real_offset(seconds):
        raise ValueError(f"{path} holds {text[:40]!r}: an offset must be a finite number of seconds "
                         "within a century")
    return timedelta(seconds=seconds)


def is_real_offset(seconds: float) -> bool:
    """timedelta holds about 2.7 million years; a finite offset within a century is a real shift."""
    return math.isfinite(seconds) and abs(seconds) <= 100 * 365 * 86400


class FileClock(Clock):
    """A clock whose offset follows a file, re-read only when the file changes (the emulator)."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self._seen: tuple[int, int] | None = None

    def now(self) -> datetime:
        try:
            stat = os.stat(self.path)
        except OSError:
            stat = None
        seen = (stat.st_mtime_ns, stat.st_size) if stat else None
        if seen != self._seen:
            self._seen = seen
            self.offset = read_offset(self.path) if stat else timedelta(0)
        return super().now()


class FixedClock(Clock):
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None):
        super().__init__()
        self._now = start or datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
