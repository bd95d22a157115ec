"""Failed pauses: the pause alarms whose pause did not happen, kept in the platform's dead-letter queue.

The queue (infra/reputation.py) gets a message in two ways, and this reader takes both shapes:
- Lambda, after the pause function's asynchronous invocation failed and was retried: the event as
  the body, the error in the `ErrorMessage` attribute
  (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html#invocation-dlq);
- EventBridge, when it could not invoke the function at all: the event as the body, the error in
  `ERROR_CODE` / `ERROR_MESSAGE` (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).

Messages are read without hiding them from anyone (aws/sqs.py): a failed pause stays until a person
has paused the institution and deletes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tutormail import names
from tutormail.aws.sqs import peek

READS = 5  # ReceiveMessage calls (10 messages each) per command: a bound, not the whole queue


@dataclass(frozen=True)
class FailedPause:
    institution: str | None  # None: an alarm tutor-mail did not name
    alarm: str
    at: str
    error: str

    def as_dict(self) -> dict[str, Any]:
        return {"institution": self.institution, "alarm": self.alarm, "at": self.at, "error": self.error}


def _attribute(message: dict[str, Any], *keys: str) -> str:
    found = message.get("MessageAttributes") or {}
    return next((str(found[k].get("StringValue", "")) for k in keys if k in found), "")


def parse(message: dict[str, Any]) -> FailedPause:
    try:
        event = json.loads(message.get("Body") or "")
    except ValueError:
        event = {}
    detail = (event.get("detail") or {}) if isinstance(event, dict) else {}
    alarm = str(detail.get("alarmName") or "")
    sent = int((message.get("Attributes") or {}).get("SentTimestamp") or 0)
    error = _attribute(message, "ErrorMessage", "ERROR_MESSAGE") or _attribute(message, "ErrorCode", "ERROR_CODE")
    return FailedPause(names.slug_of_pause_alarm(alarm), alarm or "(not an alarm event)",
                       datetime.fromtimestamp(sent / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                       error or "no error given")


def read_failed_pauses(sqs: Any) -> tuple[int, list[FailedPause]]:
    """(how many messages the queue holds, those read); (0, []) before the platform made the queue."""
    count, messages = peek(sqs, names.FAILED_PAUSES_QUEUE, READS)
    found = [parse(message) for message in messages]
    return max(count, len(found)), sorted(found, key=lambda f: (f.at, f.alarm))
