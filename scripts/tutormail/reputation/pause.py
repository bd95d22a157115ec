"""An institution's own pause switch: its configuration set's sending, and the record of why.

The same functions serve the platform's Lambda (handler.py, on a pause alarm's state change) and
`tutormail pause` / `resume`. Turning a configuration set off stops only mail that uses it, and
every identity of an institution has it as its default configuration set, so one institution's
bounces never stop another's mail:
https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_PutConfigurationSetSendingOptions.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tutormail import names
from tutormail.aws import client as aws
from tutormail.aws import sending
from tutormail.aws.progress_marks import PAUSED
from tutormail.aws.progress_store import ProgressStore
from tutormail.exitcodes import Exit, TutormailError

AUTOMATIC = "automatic"
# The reason is shown in tables, logs and the status page: one line of plain characters, bounded.
_UNSAFE = re.compile(r"[^\w .:/=+\-@]", re.ASCII)
REASON_MAX = 200


def plain_reason(reason: str) -> str:
    """The reason as it is kept and shown: one line of plain characters, bounded (escape sequences
    and other control characters become spaces, so nothing reaches a terminal as a command)."""
    return " ".join(_UNSAFE.sub(" ", reason).split())[:REASON_MAX]


@dataclass(frozen=True)
class PauseMark:
    paused: bool
    at: str
    by: str
    reason: str

    def value(self) -> str:
        """The value of the institution's PAUSED mark in the progress table."""
        return f"{'paused' if self.paused else 'resumed'} {self.at} {self.by} {plain_reason(self.reason)}".strip()

    @classmethod
    def from_marks(cls, marks: dict[str, str]) -> PauseMark | None:
        parts = (marks.get(PAUSED) or "").split(" ", 3)
        if len(parts) < 3 or parts[0] not in ("paused", "resumed"):
            return None
        return cls(parts[0] == "paused", parts[1], parts[2], parts[3] if len(parts) > 3 else "")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def set_sending(sesv2: Any, slug: str, enabled: bool) -> None:
    """NotFoundException (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_PutConfigurationSetSendingOptions.html)
    means the institution is not deployed: no retry will change it, a person must deploy first."""
    name = names.configuration_set(slug)
    try:
        sending.set_sending(sesv2, name, enabled)
    except aws.ServiceError as exc:
        if aws.is_not_found(exc):
            raise TutormailError(f"{slug} is not deployed: its configuration set {name} does not exist "
                                 f"(deploy {names.stack_name(slug)} first)", Exit.ACTION_NEEDED) from exc
        raise


def switch(sesv2: Any, store: ProgressStore, slug: str, *, paused: bool, by: str, reason: str,
           at: str | None = None) -> PauseMark:
    """Turns the institution's sending off (or on), then records who did it and why.

    Sending first: a pause that could not be recorded still protects the account; a record of a
    pause that did not happen would mislead."""
    set_sending(sesv2, slug, not paused)
    mark = PauseMark(paused, at or now_iso(), by, plain_reason(reason))
    store.put_item(slug, PAUSED, mark.value())
    return mark


def decide(event: dict[str, Any]) -> tuple[str, str] | None:
    """(slug, reason) when an EventBridge "CloudWatch Alarm State Change" says a pause alarm went
    into ALARM; None for anything else (another alarm, OK, INSUFFICIENT_DATA)."""
    detail = event.get("detail") or {}
    if event.get("detail-type") != "CloudWatch Alarm State Change":
        return None
    state = detail.get("state") or {}
    if state.get("value") != "ALARM" or (detail.get("previousState") or {}).get("value") == "ALARM":
        return None
    slug = names.slug_of_pause_alarm(detail.get("alarmName", ""))
    if slug is None:
        return None
    return slug, f"alarm {detail['alarmName']}: {state.get('reason', 'threshold crossed')}"
