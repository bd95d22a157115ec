"""The progress table in DynamoDB: one item per institution and mark.

Progress marks used to be tags on the SMTP secret, and Secrets Manager allows 50 tags per
secret, keys of 127 characters and a limited character set
(https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_TagResource.html): about 16
addresses, a long address or a local part with `'` `#` `!` broke the commands after their effect
had happened. A DynamoDB sort key holds 1024 bytes and any string, an address at most 254
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html).

Key: `institution` (the slug, partition) and `mark` (sort: `tutormail:<kind>:<address>`, so the
marks of one address sit together). One institution is one Query; the fleet is one Scan, a page
per 1 MB (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Scan.html). Writes go 25 puts per
BatchWriteItem, and what DynamoDB leaves unprocessed is sent again
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from tutormail import names
from tutormail.aws import client as aws

TABLE = names.PROGRESS_TABLE
PARTITION_KEY = "institution"
SORT_KEY = "mark"
VALUE = "value"
BATCH = 25  # BatchWriteItem's limit of put or delete requests per call


class ProgressStore:
    def __init__(self, region: str, client: Any = None):
        self.client = client or aws.client("dynamodb", region)

    def _call(self, what: str, fn: Any, **kwargs: Any) -> dict:
        try:
            return aws.call(f"DynamoDB {what} {TABLE}", fn, **kwargs)
        except aws.ServiceError as exc:
            if aws.is_not_found(exc):
                # Imported here: the pause Lambda carries this module without the catalogue.
                from tutormail.plan.build import PLATFORM_STACK

                raise aws.ServiceError(f"the progress table {TABLE} does not exist: deploy {PLATFORM_STACK} "
                                       f"first (cdk deploy {PLATFORM_STACK})") from exc
            raise

    def _pages(self, what: str, fn: Any, **kwargs: Any) -> Iterator[dict]:
        while True:
            page = self._call(what, fn, TableName=TABLE, **kwargs)
            yield from page.get("Items", [])
            if not page.get("LastEvaluatedKey"):
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def institution(self, slug: str) -> dict[str, str]:
        """Every mark of one institution (a Query, paged by 1 MB)."""
        items = self._pages("Query", self.client.query, KeyConditionExpression="#i = :i",
                            ExpressionAttributeNames={"#i": PARTITION_KEY},
                            ExpressionAttributeValues={":i": {"S": slug}}, ConsistentRead=True)
        return {item[SORT_KEY]["S"]: item[VALUE]["S"] for item in items}

    def fleet(self) -> dict[str, dict[str, str]]:
        """Every mark of every institution, by slug (a Scan, paged by 1 MB)."""
        result: dict[str, dict[str, str]] = {}
        for item in self._pages("Scan", self.client.scan):
            result.setdefault(item[PARTITION_KEY]["S"], {})[item[SORT_KEY]["S"]] = item[VALUE]["S"]
        return result

    def put(self, marks: dict[str, dict[str, str]]) -> None:
        """Writes (overwrites) marks, by slug: 25 to a call."""
        self._batch([{"PutRequest": {"Item": {PARTITION_KEY: {"S": slug}, SORT_KEY: {"S": key},
                                               VALUE: {"S": value}}}}
                     for slug, items in sorted(marks.items()) for key, value in sorted(items.items())])

    def put_item(self, slug: str, key: str, value: str) -> None:
        """Writes (overwrites) one mark with PutItem, which, unlike BatchWriteItem, cannot delete:
        the pause Lambda is allowed this call only (infra/reputation.py)."""
        self._call("PutItem", self.client.put_item, TableName=TABLE,
                   Item={PARTITION_KEY: {"S": slug}, SORT_KEY: {"S": key}, VALUE: {"S": value}})

    def put_if(self, slug: str, key: str, value: str, expected: str | None) -> bool:
        """Writes one mark only if it still holds `expected` (None: absent); False when another
        writer changed it first. A conditional PutItem: DynamoDB checks the condition and writes in
        one step (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html),
        so two runs appending to one mark never overwrite each other."""
        condition = {"ConditionExpression": "attribute_not_exists(#v)"} if expected is None else {
            "ConditionExpression": "#v = :old", "ExpressionAttributeValues": {":old": {"S": expected}}}
        try:
            self._call("PutItem", self.client.put_item, TableName=TABLE, ExpressionAttributeNames={"#v": VALUE},
                       Item={PARTITION_KEY: {"S": slug}, SORT_KEY: {"S": key}, VALUE: {"S": value}}, **condition)
        except aws.ServiceError as exc:
            if getattr(exc.__cause__, "response", {}).get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def delete(self, slug: str, keys: Iterable[str]) -> None:
        self._batch([{"DeleteRequest": {"Key": {PARTITION_KEY: {"S": slug}, SORT_KEY: {"S": key}}}}
                     for key in sorted(keys)])

    def _batch(self, requests: list[dict]) -> None:
        for start in range(0, len(requests), BATCH):
            pending = {TABLE: requests[start:start + BATCH]}
            delay = 0.05
            while pending:
                answer = self._call("BatchWriteItem", self.client.batch_write_item, RequestItems=pending)
                pending = {k: v for k, v in (answer.get("UnprocessedItems") or {}).items() if v}
                if pending:  # throttled: DynamoDB asks for the rest again, with backoff
                    time.sleep(delay)
                    delay = min(delay * 2, 2.0)
