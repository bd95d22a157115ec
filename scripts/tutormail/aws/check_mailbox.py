"""The stored `send-test --check` messages: S3 objects SES's check rule wrote under check/ (issue 25).

SES's S3 action names each object by the rule's prefix and its own message id, which the sender never
learns (https://docs.aws.amazon.com/ses/latest/dg/receiving-email-action-s3.html): the test message
carries a token header, and the command lists check/ (ListObjectsV2, 1000 keys a page:
https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html) for objects written since it
sent, reading each once.
"""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from tutormail import names
from tutormail.aws.client import call, client

TOKEN_HEADER = "X-Tutormail-Check"  # noqa: S105 (a header name, not a secret)
# Clocks differ between the machine that sends and S3's: an object may look a little older than the send.
SKEW = timedelta(minutes=5)


class CheckMailbox:
    def __init__(self, account: str, region: str, s3=None):
        self.bucket = names.inbound_bucket(account, region)
        self.s3 = s3 if s3 is not None else client("s3", region)
        self._read: set[str] = set()

    def find(self, token: str, since: datetime) -> bytes | None:
        """The stored message carrying this token, or None while it has not arrived."""
        kwargs = {"Bucket": self.bucket, "Prefix": names.CHECK_PREFIX}
        while True:
            page = call("S3 ListObjectsV2", self.s3.list_objects_v2, **kwargs)
            for item in page.get("Contents", []):
                if item["Key"] in self._read or item["LastModified"] < since - SKEW:
                    continue
                self._read.add(item["Key"])
                raw = call("S3 GetObject", self.s3.get_object, Bucket=self.bucket, Key=item["Key"])["Body"].read()
                headers = email.message_from_bytes(raw, policy=email.policy.default) if raw else None
                if headers is not None and str(headers.get(TOKEN_HEADER, "")).strip() == token:
                    return raw
            if not page.get("IsTruncated"):
                return None
            kwargs["ContinuationToken"] = page["NextContinuationToken"]


def wait_for(find: Callable[[], bytes | None], timeout: float, sleep: Callable[[float], None] = time.sleep,
             clock: Callable[[], float] = time.monotonic, first: float = 2.0, cap: float = 20.0) -> bytes | None:
    """Asks until found or `timeout` seconds passed, waiting 2, 4, 8... seconds (at most `cap`) between."""
    deadline, delay = clock() + timeout, first
    while True:
        found = find()
        if found is not None or clock() >= deadline:
            return found
        sleep(min(delay, max(0.0, deadline - clock())))
        delay = min(delay * 2, cap)


def received_counts(region: str, dynamodb=None) -> dict[str, int]:
    """What each institution's platform address received (the replies handler's `received` items of
    the inbound table), from one Scan, a page per 1 MB
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Scan.html)."""
    from tutormail.aws.progress_store import PARTITION_KEY, SORT_KEY

    dynamodb = dynamodb if dynamodb is not None else client("dynamodb", region)
    kwargs = {"TableName": names.INBOUND_TABLE, "FilterExpression": "#m = :received",
              "ExpressionAttributeNames": {"#m": SORT_KEY},
              "ExpressionAttributeValues": {":received": {"S": "received"}}}
    counts: dict[str, int] = {}
    while True:
        page = call("DynamoDB Scan tutormail-inbound", dynamodb.scan, **kwargs)
        for item in page.get("Items", []):
            counts[item[PARTITION_KEY]["S"]] = int(item.get("count", {}).get("N", "0"))
        if "LastEvaluatedKey" not in page:
            return counts
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
