"""The replies Lambda's calls: the stored message (S3), the institution's replies settings (SSM),
the inbound table (DynamoDB) and the answer (SES v1 SendRawEmail).

Plain boto3 calls, not `client.call`: in a Lambda an error is the invocation's failure, which the
asynchronous invocation retries (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html)."""

from __future__ import annotations

from typing import Any


def stored_message(s3: Any, bucket: str, key: str) -> bytes:
    """https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html"""
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def parameter_value(ssm: Any, name: str) -> str:
    """https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html"""
    return ssm.get_parameter(Name=name)["Parameter"]["Value"]


def add_one(dynamodb: Any, table: str, key: dict[str, Any], counter: str, stamp: str, now: str) -> None:
    """ADD creates the number at 1 when absent
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html)."""
    dynamodb.update_item(
        TableName=table, Key=key, UpdateExpression="ADD #c :one SET #l = :now",
        ExpressionAttributeNames={"#c": counter, "#l": stamp},
        ExpressionAttributeValues={":one": {"N": "1"}, ":now": {"S": now}})


def put_if_absent(dynamodb: Any, table: str, item: dict[str, Any], key_attribute: str) -> bool:
    """False when an item of that key is there: a conditional put fails with
    ConditionalCheckFailedException (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html)."""
    try:
        dynamodb.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(#k)",
                          ExpressionAttributeNames={"#k": key_attribute})
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def send_raw(ses: Any, source: str, to: str, data: bytes, configuration_set: str) -> None:
    """https://docs.aws.amazon.com/ses/latest/APIReference/API_SendRawEmail.html"""
    ses.send_raw_email(Source=source, Destinations=[to], RawMessage={"Data": data},
                       ConfigurationSetName=configuration_set)
