"""Failed pauses: the pause alarms whose pause did not happen, kept in the platform's dead-letter queue.

The queue (infra/reputation.py) gets a message in two ways, and this reader takes both shapes:
- Lambda, after the pause function's asynchronous invocation failed and was retried: the event as
  the body, the error in the `ErrorMessage` attribute
  (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html#invocation-dlq);
- EventBridge, when it could not invoke the function at all: the event as the body, the error in
  `ERROR_CODE` / `ERROR_MESSAGE` (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).

Messages are read with a visibility timeout of 0, so reading does not hide them from anyone: a
failed pause stays until a person has paused the institution and deletes it
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html).
ReceiveMessage returns at most 10 messages a call and may return fewer than are there; the count
is the queue's ApproximateNumberOfMessages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tutormail import names
from tutormail.aws import client as aws

# GetQueueUrl's answer for a queue that does not exist, in SQS's JSON and query protocols.
_NO_QUEUE = ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue")
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
    try:
        url = aws.call("SQS GetQueueUrl", sqs.get_queue_url, QueueName=names.FAILED_PAUSES_QUEUE)["QueueUrl"]
    except aws.ServiceError as exc:
        if any(code in str(exc) for code in _NO_QUEUE):
            return 0, []
        raise
    count = int(aws.call("SQS GetQueueAttributes", sqs.get_queue_attributes, QueueUrl=url,
                         AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
    found: dict[str, FailedPause] = {}
    for _ in range(READS if count else 0):
        page = aws.call("SQS ReceiveMessage", sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=10,
                        VisibilityTimeout=0, WaitTimeSeconds=0, MessageAttributeNames=["All"],
                        AttributeNames=["SentTimestamp"])
        for message in page.get("Messages", []):
            found[message["MessageId"]] = parse(message)
        if len(found) >= count or not page.get("Messages"):
            break
    return max(count, len(found)), sorted(found.values(), key=lambda f: (f.at, f.alarm))
