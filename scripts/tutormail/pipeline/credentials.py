"""The pipeline's AWS credentials: a role session from GitHub's OIDC token, renewed before it expires.

GitHub hands a job a fresh OIDC token on request (`ACTIONS_ID_TOKEN_REQUEST_URL` with the bearer
`ACTIONS_ID_TOKEN_REQUEST_TOKEN`, `&audience=`; the answer is `{"value": JWT}`:
https://docs.github.com/en/actions/reference/security/oidc). STS exchanges it for a role session
with AssumeRoleWithWebIdentity, a call that is not signed
(https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html). The
session lasts DurationSeconds, at most the role's MaxSessionDuration; a role the CDK CLI assumes
with it (the bootstrap deploy role) is role chaining, capped at one hour
(https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use.html). So the pipeline never relies
on one session for the job: before each stack operation it asks `ensure(seconds)` for credentials
that outlive the operation, and renews (a new token, a new session) when they would not.

Renewed credentials go into this process's environment: every boto3 client made afterwards
(`aws.client`) and every `cdk` started afterwards uses them.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.parse
import urllib.request
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from tutormail.aws.sts import assume_role_with_web_identity
from tutormail.clock import Clock, iso
from tutormail.exitcodes import Exit, TutormailError, UsageError

log = logging.getLogger("tutormail")
AUDIENCE = "sts.amazonaws.com"  # the client id the OIDC provider of TutorMail-Platform lists
# What the pipeline asks for and the CI roles allow (infra/platform_stack.py): the CDK CLI's chained
# session lasts one hour whatever the base session, so a longer one would buy nothing.
SESSION_SECONDS = 3600
# Renewed this long before the operation would outlive the credentials (clock skew, the STS call).
MARGIN = timedelta(minutes=5)
KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


class CredentialsError(TutormailError):
    """No credentials that outlive the next operation could be had (exit 4)."""


def github_token(environ: MutableMapping[str, str], audience: str = AUDIENCE) -> str:
    """A fresh OIDC token from the job's token endpoint (the job needs `id-token: write`)."""
    url, bearer = environ.get("ACTIONS_ID_TOKEN_REQUEST_URL"), environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if not url or not bearer:
        raise UsageError("--role-arn needs $ACTIONS_ID_TOKEN_REQUEST_URL and $ACTIONS_ID_TOKEN_REQUEST_TOKEN "
                         "(a GitHub Actions job with `permissions: id-token: write`)")
    separator = "&" if urllib.parse.urlsplit(url).query else "?"
    request = urllib.request.Request(f"{url}{separator}audience={urllib.parse.quote(audience)}",  # noqa: S310
                                     headers={"Authorization": f"bearer {bearer}", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (GitHub's endpoint, or the sandbox's)
            return json.loads(answer.read())["value"]
    except (OSError, ValueError, KeyError) as exc:
        raise CredentialsError(f"GitHub's OIDC token endpoint: {exc}") from None


@dataclass
class Session:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime


class WebIdentity:
    """Role sessions from web-identity tokens, renewed on demand. `token` fetches a fresh token."""

    def __init__(self, role_arn: str, region: str, clock: Clock, token: Callable[[], str],
                 environ: MutableMapping[str, str], duration: int = SESSION_SECONDS,
                 session_name: str = "tutormail-pipeline"):
        self.role_arn, self.region, self.clock, self.token = role_arn, region, clock, token
        self.environ, self.duration, self.session_name = environ, duration, session_name
        self.session: Session | None = None
        self.renewals: list[str] = []  # when each session was taken (the report says so)

    def remaining(self) -> timedelta:
        return self.session.expiration - self.clock.now() if self.session else timedelta(0)

    def lifetime(self) -> timedelta:
        """The longest operation one session can carry (the fresh session less the margin)."""
        return timedelta(seconds=self.duration) - MARGIN

    def ensure(self, needed: timedelta) -> None:
        """Credentials valid for `needed` more (plus the margin), renewed if they would not be."""
        if needed > self.lifetime():
            raise CredentialsError(f"an operation of {needed} cannot fit in a {self.duration} s session "
                                   f"(less {MARGIN} of margin): deploy fewer stacks at a time")
        if self.remaining() >= needed + MARGIN:
            return
        self._renew()
        if self.remaining() < needed + MARGIN:
            raise CredentialsError(f"STS gave a session ending {iso(self.session.expiration)}, too short for "
                                   f"an operation of {needed}")

    def _renew(self) -> None:
        found = assume_role_with_web_identity(self.region, self.role_arn, self.session_name, self.token(),
                                              self.duration)
        self.session = Session(found["AccessKeyId"], found["SecretAccessKey"], found["SessionToken"],
                               found["Expiration"])
        self.environ.update(zip(KEYS, (self.session.access_key_id, self.session.secret_access_key,
                                       self.session.session_token), strict=True))
        self.renewals.append(iso(self.clock.now()))
        log.info("credentials: a session of %s until %s", self.role_arn, iso(self.session.expiration))


class Ambient:
    """The credentials the environment already holds (a person's, or the credentials action's):
    their end is not known here, so nothing is renewed; `lifetime` bounds a wave all the same."""

    renewals: list[str] = []  # noqa: RUF012 (never appended to)

    def lifetime(self) -> timedelta:
        return timedelta(seconds=SESSION_SECONDS) - MARGIN

    def ensure(self, needed: timedelta) -> None:
        if needed > self.lifetime():
            raise CredentialsError(f"an operation of {needed} is longer than a session", Exit.SERVICE_ERROR)


def credentials(role_arn: str | None, region: str, clock: Clock, environ: MutableMapping[str, str] | None = None):
    """WebIdentity for `--role-arn` (in a GitHub job), else the environment's own credentials."""
    environ = os.environ if environ is None else environ
    if not role_arn:
        return Ambient()
    return WebIdentity(role_arn, region, clock, lambda: github_token(environ), environ)
