"""SQS: what a queue holds, read without taking it.

Messages are read with a visibility timeout of 0, so reading does not hide them from anyone
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html).
ReceiveMessage returns at most 10 messages a call and may return fewer than are there; the count
is the queue's ApproximateNumberOfMessages."""

from __future__ import annotations

from typing import Any

from tutormail.aws import client as aws

# GetQueueUrl's answer for a queue that does not exist, in SQS's JSON and query protocols.
_NO_QUEUE = ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue")


def peek(sqs: Any, queue_name: str, reads: int) -> tuple[int, list[dict[str, Any]]]:
    """(how many messages the queue holds, those read in at most `reads` calls, by MessageId);
    (0, []) when the queue does not exist."""
    try:
        url = aws.call("SQS GetQueueUrl", sqs.get_queue_url, QueueName=queue_name)["QueueUrl"]
    except aws.ServiceError as exc:
        if any(code in str(exc) for code in _NO_QUEUE):
            return 0, []
        raise
    count = int(aws.call("SQS GetQueueAttributes", sqs.get_queue_attributes, QueueUrl=url,
                         AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
    found: dict[str, dict[str, Any]] = {}
    for _ in range(reads if count else 0):
        page = aws.call("SQS ReceiveMessage", sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=10,
                        VisibilityTimeout=0, WaitTimeSeconds=0, MessageAttributeNames=["All"],
                        AttributeNames=["SentTimestamp"])
        for message in page.get("Messages", []):
            found[message["MessageId"]] = message
        if len(found) >= count or not page.get("Messages"):
            break
    return count, list(found.values())
