"""The stand-in for email-smtp.<region>.amazonaws.com: STARTTLS, AUTH with the SES SMTP password of
an IAM access key, and SES's refusals for a From that is not verified or not allowed."""

from __future__ import annotations

import email
import email.policy
import json
import secrets
import ssl
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from moto.iam.models import iam_backends
from tutormail.tutor_setup.smtp_password import smtp_password

from .config import ACCOUNT, REGION, SandboxConfig
from .moto_ext.ses_lifecycle import find_identity

NOT_VERIFIED = ("554 Message rejected: Email address is not verified. The following identities failed the "
                "check in region {region}: {address}")
NOT_AUTHORIZED = ("554 Message rejected: User `{arn}' is not authorized to perform `ses:SendRawEmail' on "
                  "resource `{resource}'")


# SES refuses mail whose configuration set has sending turned off (ConfigurationSetSendingPausedException:
# https://docs.aws.amazon.com/ses/latest/APIReference/API_SendRawEmail.html#API_SendRawEmail_Errors); over
# SMTP that is a permanent 554 refusal of the message.
CONFIGURATION_SET_PAUSED = "554 Message rejected: Sending paused for this configuration set: {name}"


def paused_configuration_set(identity) -> str | None:
    """The SES reply when the identity's default configuration set is paused (issue 14), else None."""
    from .moto_ext.reputation import find_configuration_set, sending_enabled

    name = getattr(identity, "configuration_set_name", None)
    config_set = find_configuration_set(name, ACCOUNT, REGION) if name else None
    if config_set is None or sending_enabled(config_set):
        return None
    return CONFIGURATION_SET_PAUSED.format(name=name)


def _iam():
    return iam_backends[ACCOUNT]["aws"]


def _find_key(access_key_id: str):
    for user in _iam().users.values():
        for key in user.access_keys:
            if key.access_key_id == access_key_id:
                return user, key
    return None, None


def _statements(user) -> list[dict[str, Any]]:
    documents = [json.loads(doc) if isinstance(doc, str) else doc for doc in user.policies.values()]
    for arn in getattr(user, "managed_policies", {}):
        policy = _iam().managed_policies.get(arn)
        if policy is not None:
            documents.append(json.loads(policy.document) if isinstance(policy.document, str) else policy.document)
    statements = []
    for document in documents:
        found = document.get("Statement", [])
        statements.extend(found if isinstance(found, list) else [found])
    return statements


def _as_list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def may_send(user, address: str, identity_arn: str) -> bool:
    """The part of IAM evaluation our policies use: Allow, action, resource, ses:FromAddress."""
    for statement in _statements(user):
        if statement.get("Effect") != "Allow":
            continue
        if not {"ses:SendRawEmail", "ses:*", "*"} & set(_as_list(statement.get("Action", []))):
            continue
        resources = _as_list(statement.get("Resource", []))
        if "*" not in resources and identity_arn not in resources:
            continue
        allowed = (statement.get("Condition") or {}).get("StringEquals", {}).get("ses:FromAddress")
        if allowed is None or address in _as_list(allowed):
            return True
    return False


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
        if auth_data.password.decode(errors="replace") != smtp_password(key.secret_access_key, REGION):
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=user.name)

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        address = parseaddr(str(message.get("From", "")))[1] or envelope.mail_from
        # SES checks the address, then its domain and each parent domain.
        labels = address.rpartition("@")[2].split(".")
        candidates = [address, *(".".join(labels[i:]) for i in range(len(labels) - 1))]
        identity = next((found for name in candidates if (found := find_identity(name))), None)
        user = _iam().users.get(session.auth_data) if session.auth_data else None
        if user is None:
            return "530 Authentication required"
        identity_name = identity.email_identity if identity else address
        identity_arn = f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{identity_name}"
        if not may_send(user, address, identity_arn):
            return NOT_AUTHORIZED.format(arn=user.arn, resource=identity_arn)
        if identity is not None:
            identity.refresh()
        if identity is None or identity.verification_status != "SUCCESS":
            return NOT_VERIFIED.format(region=REGION.upper(), address=address)
        if paused := paused_configuration_set(identity):
            return paused
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
