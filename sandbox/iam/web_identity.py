"""STS as a GitHub Actions job meets it: a token endpoint, AssumeRoleWithWebIdentity decided by the
role's trust policy, and sessions that end on the sandbox's clock.

- GitHub's token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`): `/_sandbox/oidc/token?audience=A` with
  `Authorization: bearer <request token>` answers `{"value": JWT}`, as GitHub does
  (https://docs.github.com/en/actions/reference/security/oidc). A test registers a job's claims
  (`/_sandbox/oidc/jobs`, e.g. the `sub` of a job in the `production` environment) and gets its
  request token. The JWT is RS256-signed by a key made when the emulator starts, with
  `iss` https://token.actions.githubusercontent.com and a lifetime of five minutes.
- AssumeRoleWithWebIdentity (unsigned, as in AWS) is refused unless the token's signature holds, it
  has not expired (ExpiredTokenException), an IAM OIDC provider of the account has its issuer and its
  audience in the client ids (InvalidIdentityToken), DurationSeconds is within the role's
  MaxSessionDuration (ValidationError), and the role's trust policy allows it, decided by the same
  evaluator as every other call with `token.actions.githubusercontent.com:sub` and `:aud` set from the
  claims (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif,
  https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html).
- Every role session (AssumeRole, AssumeRoleWithWebIdentity) ends DurationSeconds after it was made on
  the sandbox clock; a request signed with it afterwards is refused with ExpiredToken. AssumeRole from a
  role session (role chaining) asking for more than one hour is a ValidationError, as in STS
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use.html).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from moto.core.exceptions import JsonRESTError, _RESTError

ISSUER_HOST = "token.actions.githubusercontent.com"
ISSUER = f"https://{ISSUER_HOST}"
TOKEN_LIFETIME = timedelta(minutes=5)
CHAINED_LIMIT = 3600
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_JOBS: dict[str, dict[str, Any]] = {}  # request token -> the job's claims
_lock = threading.Lock()


class StsError(_RESTError):
    """An error of the query protocol (STS, IAM, CloudFormation, ...)."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(code, message)
        self.code = status


class JsonError(JsonRESTError):
    """The same for the JSON protocols (SES v2, DynamoDB, Secrets Manager, ...)."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(code, message)
        self.code = status


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def register_job(claims: dict[str, Any]) -> str:
    """A GitHub job with these claims (`sub`, `environment`, `ref`, ...): its request token."""
    token = secrets.token_urlsafe(24)
    with _lock:
        _JOBS[token] = dict(claims)
    return token


def issue(bearer: str, audience: str, now: datetime) -> str | None:
    """The job's OIDC token for `audience`, or None for an unknown request token."""
    with _lock:
        claims = _JOBS.get(bearer)
    if claims is None:
        return None
    payload = {**claims, "iss": ISSUER, "aud": audience, "iat": int(now.timestamp()), "nbf": int(now.timestamp()),
               "exp": int((now + TOKEN_LIFETIME).timestamp()), "jti": secrets.token_hex(8)}
    signing = f"{_b64(json.dumps({'alg': 'RS256', 'typ': 'JWT', 'kid': 'sandbox'}).encode())}." \
              f"{_b64(json.dumps(payload).encode())}"
    signature = _KEY.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing}.{_b64(signature)}"


def verified_claims(token: str, now: datetime) -> dict[str, Any]:
    try:
        header, payload, signature = token.split(".")
        _KEY.public_key().verify(_unb64(signature), f"{header}.{payload}".encode(), padding.PKCS1v15(),
                                 hashes.SHA256())
        claims = json.loads(_unb64(payload))
    except (ValueError, InvalidSignature):
        raise StsError("InvalidIdentityToken", "The web identity token that was passed could not be validated "
                       "by AWS. Get a new identity token from the identity provider and then retry the request."
                       ) from None
    if now.timestamp() >= claims.get("exp", 0):
        raise StsError("ExpiredTokenException", "Token expired: current date/time must be before the expiration "
                       "date/time of the token")
    return claims


def _provider(backend: Any, claims: dict[str, Any]) -> Any:
    issuer = str(claims.get("iss", "")).removeprefix("https://")
    found = [p for p in backend.open_id_providers.values() if p.url.removeprefix("https://") == issuer]
    if not found:
        raise StsError("InvalidIdentityToken", f"No OpenIDConnect provider found in your account for "
                       f"https://{issuer}")
    if claims.get("aud") not in found[0].client_id_list:
        raise StsError("InvalidIdentityToken", "Incorrect token audience")
    return found[0]


def requested_duration(params: dict[str, Any]) -> int:
    """DurationSeconds as STS takes it: 3600 when the request leaves it out (or moto's parser hands
    it on as None), at least 900 (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html)."""
    given = params.get("DurationSeconds")
    if given is None:
        return 3600
    try:
        seconds = int(given)
    except (TypeError, ValueError):
        raise StsError("ValidationError", f"Value '{given}' at 'durationSeconds' failed to satisfy constraint: "
                       "Member must be a number") from None
    if seconds < 900:
        raise StsError("ValidationError", f"1 validation error detected: Value '{seconds}' at 'durationSeconds' "
                       "failed to satisfy constraint: Member must have value greater than or equal to 900")
    return seconds


def authorise(params: dict[str, Any], iam_backend: Any, now: datetime, decide) -> None:
    """Raises the error STS would answer; returns when the role may be assumed with this token.
    `decide(principal, role_arn, trust policy as IAM stores it, context)` -> the evaluator's decision."""
    claims = verified_claims(str(params.get("WebIdentityToken", "")), now)
    provider = _provider(iam_backend, claims)
    role_arn = str(params.get("RoleArn", ""))
    try:
        role = iam_backend.get_role_by_arn(role_arn)
    except Exception:  # moto's NotFoundException: AWS answers AccessDenied for a role it cannot assume
        role = None
    if role is not None and requested_duration(params) > int(role.max_session_duration or 3600):
        raise StsError("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for "
                       "this role.")
    context = {f"{ISSUER_HOST}:sub": str(claims.get("sub", "")), f"{ISSUER_HOST}:aud": str(claims.get("aud", ""))}
    if role is None or decide(provider.arn, role_arn, role.assume_role_policy_document, context) != "Allowed":
        raise StsError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403)


def sandbox_now(clock) -> datetime:
    """moto keeps naive UTC times."""
    return clock.now().astimezone(UTC).replace(tzinfo=None)


def check_duration(caller_is_session: bool, params: dict[str, Any]) -> None:
    if caller_is_session and requested_duration(params) > CHAINED_LIMIT:
        raise StsError("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for "
                       "roles assumed by role chaining.")
