"""Cenário 2: SES's verification link, its history kept as tags on the identity (so every CI
runner sees the same), and the request for a new one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .clock import Clock, iso, parse_iso
from .ses import TAG_PREFIX, IdentityState, Ses

TAG_LAST = TAG_PREFIX + "link-sent"
TAG_COUNT = TAG_PREFIX + "link-count"
TAG_HISTORY = TAG_PREFIX + "link-history"
HISTORY_KEPT = 12  # a tag value holds 256 characters: the last 12 sending times fit

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


def link_state(identity: IdentityState, validity_hours: int) -> LinkState:
    last = identity.tags.get(TAG_LAST)
    sent = parse_iso(last) if last else None
    history = tuple(h for h in identity.tags.get(TAG_HISTORY, "").split(",") if h)
    return LinkState(sent, sent + timedelta(hours=validity_hours) if sent else None,
                     int(identity.tags.get(TAG_COUNT, "0") or 0), history)


class LinkRefused(Exception):
    """The last link is still valid (and --force was not given)."""


def request_link(ses: Ses, identity: IdentityState, validity_hours: int, clock: Clock,
                 force: bool = False) -> LinkState:
    now = clock.now()
    current = link_state(identity, validity_hours)
    if current.valid_at(now) and not force:
        raise LinkRefused(f"the link sent at {iso(current.sent_at)} is valid until {iso(current.expires_at)}; "
                          "use --force to send another")
    ses.resend_link(identity.name)
    stamp = iso(now)
    history = (*current.history, stamp.replace("-", "").replace(":", ""))[-HISTORY_KEPT:]
    ses.tag(identity.name, {TAG_LAST: stamp, TAG_COUNT: str(current.count + 1), TAG_HISTORY: ",".join(history)})
    return LinkState(now, now + timedelta(hours=validity_hours), current.count + 1, history)
