"""boto3 clients with adaptive retries, and AWS failures turned into one error (exit 4).

The endpoint comes from the environment (AWS_ENDPOINT_URL), so the same code talks to AWS or to
the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tutormail.exitcodes import Exit, TutormailError

T = TypeVar("T")
# SES management APIs allow about one request per second: adaptive mode waits client-side.
RETRIES = Config(retries={"mode": "adaptive", "max_attempts": 8}, connect_timeout=5, read_timeout=30)
NOT_FOUND = ("NotFoundException", "ResourceNotFoundException", "NoSuchEntity")


class ServiceError(TutormailError):
    """AWS, DNS or SMTP failed after retries (exit code 4)."""

    exit_code = Exit.SERVICE_ERROR


def client(service: str, region: str) -> Any:
    return boto3.session.Session().client(service, region_name=region, config=RETRIES)


def call(what: str, fn: Callable[..., T], **kwargs: Any) -> T:
    try:
        return fn(**kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise ServiceError(f"{what}: {error.get('Code', 'error')}: {error.get('Message', exc)}") from exc
    except BotoCoreError as exc:
        raise ServiceError(f"{what}: {exc}") from exc


def is_not_found(exc: BaseException) -> bool:
    cause = exc.__cause__ if isinstance(exc, ServiceError) else exc
    return isinstance(cause, ClientError) and cause.response.get("Error", {}).get("Code") in NOT_FOUND
