"""boto3 clients with adaptive retries, and AWS failures turned into one error (exit 4).

The endpoint comes from the environment (AWS_ENDPOINT_URL), so the same code talks to AWS or to
the sandbox.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, ConnectTimeoutError, ReadTimeoutError

from tutormail.exitcodes import Exit, TutormailError

T = TypeVar("T")
# SES management APIs allow about one request per second: adaptive mode waits client-side. The time-outs
# bound one call against a hung endpoint to 4 x 8 s plus back-off (at most 1 + 2 + 4 s): under a minute.
RETRIES = Config(retries={"mode": "adaptive", "max_attempts": 4}, connect_timeout=4, read_timeout=8)
NOT_FOUND = ("NotFoundException", "ResourceNotFoundException", "NoSuchEntity")
# Endpoints that did not answer after retries in this run: later calls fail at once, so a command
# (or a batch that goes on past one institution) ends within the bound of one call, not one per call.
_UNANSWERED: set[str] = set()


class ServiceError(TutormailError):
    """AWS, DNS or SMTP failed after retries (exit code 4)."""

    exit_code = Exit.SERVICE_ERROR


# A long run (the pipeline, one process for a whole fleet) keeps one client per service and set of
# credentials instead of building one per institution (a boto3 session and its service model each
# time): renewed credentials in the environment make new clients.
_REUSED: dict[tuple[str, ...], Any] | None = None


def reuse_clients() -> None:
    global _REUSED
    _REUSED = {} if _REUSED is None else _REUSED


def client(service: str, region: str) -> Any:
    if _REUSED is None:
        return boto3.session.Session().client(service, region_name=region, config=RETRIES)
    key = (service, region, *(os.environ.get(name, "") for name in (
        "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL")))
    if key not in _REUSED:
        _REUSED[key] = boto3.session.Session().client(service, region_name=region, config=RETRIES)
    return _REUSED[key]


class Clients:
    """The AWS clients of one Region by service name, what use cases take instead of a client each
    or a dict of them (a test passes a dict of fakes). Every look-up asks `client`, so a long run
    gets a new client when its credentials were renewed, never one holding expired ones."""

    def __init__(self, region: str, given: Mapping[str, Any] | None = None):
        self.region = region
        self.given = dict(given or {})  # clients to use instead of made ones (a test's fakes, for some services)

    def __getitem__(self, service: str) -> Any:
        return self.given[service] if service in self.given else client(service, self.region)


ByService = Clients | Mapping[str, Any]  # clients by service name: a Clients, or a dict of them (a test's fakes)


def function_client(service: str, region: str | None = None, session: Any = None,
                    config: Config | None = RETRIES) -> Any:
    """A Lambda function's client: the role's credentials and the Region from the function's
    environment (or a session of the same role, which the sandbox passes); `config=None` keeps
    botocore's default retries."""
    session = session or boto3.session.Session()
    return session.client(service, region_name=region, config=config)


def call(what: str, fn: Callable[..., T], **kwargs: Any) -> T:
    endpoint = getattr(getattr(fn, "__self__", None), "meta", None)
    endpoint = endpoint.endpoint_url if endpoint is not None else ""
    if endpoint and endpoint in _UNANSWERED:
        raise ServiceError(f"{what}: {endpoint} did not answer earlier in this run; not asked again")
    try:
        return fn(**kwargs)
    except (ConnectTimeoutError, ReadTimeoutError, ConnectionError) as exc:
        if endpoint:
            _UNANSWERED.add(endpoint)
        raise ServiceError(f"{what}: {exc}") from exc
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise ServiceError(f"{what}: {error.get('Code', 'error')}: {error.get('Message', exc)}") from exc
    except BotoCoreError as exc:
        raise ServiceError(f"{what}: {exc}") from exc


def caller(region: str) -> str:
    """Who runs the command, as AWS knows it (recorded beside a decision a person made).
    GetCallerIdentity needs no permission
    (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html)."""
    return call("STS GetCallerIdentity", client("sts", region).get_caller_identity)["Arn"]


def is_not_found(exc: BaseException) -> bool:
    cause = exc.__cause__ if isinstance(exc, ServiceError) else exc
    return isinstance(cause, ClientError) and cause.response.get("Error", {}).get("Code") in NOT_FOUND
