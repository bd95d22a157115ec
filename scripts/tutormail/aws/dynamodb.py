"""DynamoDB: whether a table exists (the progress table's reads and writes are aws/progress_store.py)."""

from __future__ import annotations

from typing import Any

from tutormail.aws import client as aws


def table_exists(dynamodb: Any, name: str) -> bool:
    """DescribeTable answers ResourceNotFoundException for a table that does not exist
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DescribeTable.html)."""
    try:
        aws.call(f"DynamoDB DescribeTable {name}", dynamodb.describe_table, TableName=name)
    except aws.ServiceError as exc:
        if not aws.is_not_found(exc):
            raise
        return False
    return True
