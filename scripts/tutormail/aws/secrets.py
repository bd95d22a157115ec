"""Secrets Manager: a secret's value."""

from __future__ import annotations

from typing import Any

from tutormail.aws import client as aws


def secret_value(secret_id: str, region: str, client: Any = None) -> dict[str, Any]:
    """GetSecretValue's answer: the value is in SecretString, or in SecretBinary when it was stored as
    bytes (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html)."""
    client = client or aws.client("secretsmanager", region)
    return aws.call(f"Secrets Manager GetSecretValue {secret_id}", client.get_secret_value, SecretId=secret_id)
