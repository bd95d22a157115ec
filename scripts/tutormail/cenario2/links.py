"""Cenário 2: SES's verification link, its history kept with the institution's progress (the
progress table, so any CI runner sees the same), and the request for a new one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tutormail.aws.client import ServiceError
from tutormail.aws.progress_marks import LINK
from tutormail.aws.ses import Ses
from tutormail.clock import Clock, iso, parse_iso

HISTORY_KEPT = 12  # the last 12 sending times (a mark once had to fit a 256-character tag value)

LINK_MEANING = {
    "SUCCESS": "the address opened SES's link: it may send (phase 2 may start)",
    "PENDING": "SES is waiting for the address to open the verification link",
    "FAILED": "the verification link expired unopened",
    "MISSING": "the identity does not exist in SES (deploy the stack)",
}


@dataclass(frozen=True)
class LinkState:
    sent_at: datetime | None
    expires_at: datetime | None
    count: int
    history: tuple[str, ...]

    def valid_at(self, moment: datetime) -> bool:
        return self.expires_at is not None and moment <= self.expires_at


def link_state(progress: dict[str, str], address: str, validity_hours: int) -> LinkState:
    count, _, times = progress.get(LINK + address, "0 ").partition(" ")
    history = tuple(t for t in times.split(",") if t)
    sent = parse_iso(history[-1]) if history else None
    return LinkState(sent, sent + timedelta(hours=validity_hours) if sent else None, int(count or 0), history)


class LinkRefused(Exception):
    """The last link is still valid (and --force was not given)."""


def request_link(ses: Ses, progress: dict[str, str], address: str, validity_hours: int, clock: Clock,
                 force: bool = False) -> tuple[LinkState, dict[str, str]]:
    """Makes SES mail a new link; returns the new state and the progress tag to record."""
    now = clock.now()
    current = link_state(progress, address, validity_hours)
    if current.valid_at(now) and not force:
        raise LinkRefused(f"the link sent at {iso(current.sent_at)} is valid until {iso(current.expires_at)}; "
                          "use --force to send another")
    ses.resend_link(address)
    history = (*current.history, iso(now))[-HISTORY_KEPT:]
    state = LinkState(now, now + timedelta(hours=validity_hours), current.count + 1, history)
    return state, {LINK + address: f"{state.count} {','.join(history)}"}


RECORD_ATTEMPTS = 5


def record_link(progress, recorded: dict[str, str], address: str, sent_at: str) -> dict[str, str]:
    """Adds one sending time to the address's mark, conditioned on the mark being what was read:
    when another run (a parallel `request-link --force`) wrote first, its value is read again and
    ours appended to it, so every link SES mailed is counted. Returns the mark as written."""
    key = LINK + address
    for _ in range(RECORD_ATTEMPTS):
        before = recorded.get(key)
        current = link_state(recorded, address, 0)
        history = (*current.history, sent_at)[-HISTORY_KEPT:]
        value = f"{current.count + 1} {','.join(history)}"
        if progress.write_if(key, value, before):
            recorded[key] = value
            return {key: value}
        recorded.update(progress.read())
    raise ServiceError(f"the link sent to {address} at {sent_at} could not be recorded: its mark kept changing "
                       f"under {RECORD_ATTEMPTS} attempts (other runs writing it); run request-link again")
