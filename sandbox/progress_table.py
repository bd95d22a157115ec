"""The platform stack's progress table, created directly for tests and benches that do not
deploy `TutorMail-Platform` (its key schema comes from the one module the construct uses too)."""

from __future__ import annotations

import boto3
from tutormail.aws.progress_store import PARTITION_KEY, SORT_KEY, TABLE


def ensure_progress_table(region: str = "us-east-1") -> None:
    client = boto3.client("dynamodb", region_name=region)
    if TABLE in client.list_tables().get("TableNames", []):
        return
    client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": PARTITION_KEY, "AttributeType": "S"},
                                              {"AttributeName": SORT_KEY, "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
                                   {"AttributeName": SORT_KEY, "KeyType": "RANGE"}])
