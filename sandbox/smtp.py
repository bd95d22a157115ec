"""The stand-in for email-smtp.<region>.amazonaws.com: STARTTLS, AUTH with the SES SMTP password of
an IAM access key, and SES's refusals for a From that is not verified or not allowed."""

from __future__ import annotations

import email
import email.policy
import secrets
import ssl
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from moto.iam.models import iam_backends
from tutormail.tutor_setup.smtp_password import smtp_password

from .config import SandboxConfig
from .iam.enforce import policy_document
from .iam.evaluator import ALLOWED, EVALUATOR
from .moto_ext.ses_lifecycle import find_identity

NOT_VERIFIED = ("554 Message rejected: Email address is not verified. The following identities failed the "
                "check in region {region}: {address}")
NOT_AUTHORIZED = ("554 Message rejected: User `{arn}' is not authorized to perform `ses:SendRawEmail' on "
                  "resource `{resource}'")


def _iam():
    config = SandboxConfig.from_env()
    return iam_backends[config.account][config.partition]


def _find_key(access_key_id: str):
    for user in _iam().users.values():
        for key in user.access_keys:
            if key.access_key_id == access_key_id:
                return user, key
    return None, None


def _policies(user) -> list[dict[str, Any]]:
    """The user's identity policies as IAM holds them: inline, then attached managed ones."""
    iam = _iam()
    documents = [policy_document(doc) for doc in user.policies.values()]
    attached = (iam.managed_policies[arn] for arn in user.managed_policies if arn in iam.managed_policies)
    documents += [policy_document(policy) for policy in attached]
    return documents


def may_send(config: SandboxConfig, user, address: str, identity_arn: str) -> bool:
    """ses:SendRawEmail as `address`, decided by the same evaluator as every API call, with SES's
    condition key ses:FromAddress set to the From address as the message carries it (case kept)."""
    answer = EVALUATOR.decide(action="ses:SendRawEmail", principal=user.arn, resource=identity_arn,
                              account=config.account, policies=_policies(user),
                              context={"ses:FromAddress": address})
    return answer.get("decision") == ALLOWED


class SesSmtpHandler:
    def __init__(self, config: SandboxConfig):
        self.config = config

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode(errors="replace")
        user, key = _find_key(login)
        if key is None or key.status != "Active":
            return AuthResult(success=False, handled=False)
        if auth_data.password.decode(errors="replace") != smtp_password(key.secret_access_key, self.config.region):
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=user.name)

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        address = parseaddr(str(message.get("From", "")))[1] or envelope.mail_from
        # SES checks the address, then its domain and each parent domain.
        # Domain names match in any case (RFC 4343); the address keeps its case for ses:FromAddress.
        labels = address.rpartition("@")[2].lower().split(".")
        candidates = [address, *(".".join(labels[i:]) for i in range(len(labels) - 1))]
        identity = next((found for name in candidates if (found := find_identity(name))), None)
        user = _iam().users.get(session.auth_data) if session.auth_data else None
        if user is None:
            return "530 Authentication required"
        identity_name = identity.email_identity if identity else address
        config = self.config
        identity_arn = f"arn:{config.partition}:ses:{config.region}:{config.account}:identity/{identity_name}"
        if not may_send(config, user, address, identity_arn):
            return NOT_AUTHORIZED.format(arn=user.arn, resource=identity_arn)
        if identity is not None:
            identity.refresh()
        if identity is None or identity.verification_status != "SUCCESS":
            return NOT_VERIFIED.format(region=config.region.upper(), address=address)
        message_id = f"0100{secrets.token_hex(16)}-{secrets.token_hex(4)}-000000"
        self.config.mailbox.mkdir(parents=True, exist_ok=True)
        (self.config.mailbox / f"{message_id}.eml").write_bytes(envelope.original_content or envelope.content)
        return f"250 Ok {message_id}"


def start_smtp(config: SandboxConfig, port: int, cert_file: Path, key_file: Path) -> Controller:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert_file), str(key_file))
    handler = SesSmtpHandler(config)
    controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            auth_required=True, auth_require_tls=True, authenticator=handler.authenticate,
                            server_hostname="localhost", ident="tutor-mail sandbox SES SMTP")
    controller.start()
    return controller
