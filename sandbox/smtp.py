"""The stand-in for email-smtp.<region>.amazonaws.com: STARTTLS, AUTH with the SES SMTP password of
an IAM access key, and SES's refusals: raw non-ASCII (no SMTPUTF8), any From/Sender/Return-Path
address not allowed by the user's policy or not verified, a configuration set (the
X-SES-CONFIGURATION-SET header's, else the identity's default) the policy does not allow or that is
paused, and the account's state (paused, SES
sandbox recipients, 24-hour quota).

Which addresses must be authorised (addresses_to_authorise) is kept apart from whether the user's
policy allows one (may_send), so the policy evaluation can be replaced on its own.

An accepted message goes out as SES sends it (sandbox/amazonses.py: its DKIM signatures, SES's MAIL
FROM): into the mailbox directory as `<message id>.eml`, and, for each recipient whose MX is SES
receiving's endpoint of this region, over SMTP to sandbox/receiving.py, the outcome per recipient in
`<message id>.delivery.txt`."""

from __future__ import annotations

import email
import email.policy
import secrets
import ssl
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from moto.iam.models import iam_backends
from tutormail.tutor_setup.smtp_password import smtp_password

from . import amazonses, receiving
from .config import SandboxConfig
from .iam.enforce import policy_document
from .iam.evaluator import ALLOWED, EVALUATOR
from .moto_ext import ses_account
from .moto_ext.ses_lifecycle import CLOCK, SandboxIdentity, find_identity

NOT_VERIFIED = ("554 Message rejected: Email address is not verified. The following identities failed the "
                "check in region {region}: {address}")
NOT_AUTHORIZED = ("554 Message rejected: User `{arn}' is not authorized to perform `ses:SendRawEmail' on "
                  "resource `{resource}'")
# Our texts: SES documents the refusals, not these exact words.
NON_ASCII_HEADER = ("554 Transaction failed: non-ASCII characters in the message header; SMTPUTF8 is not "
                    "supported (use RFC 2047 encoded-words and punycode domains)")
NO_FROM = "554 Transaction failed: the message has no valid From address"


# SES refuses mail whose configuration set has sending turned off (ConfigurationSetSendingPausedException:
# https://docs.aws.amazon.com/ses/latest/APIReference/API_SendRawEmail.html#API_SendRawEmail_Errors); over
# SMTP that is a permanent 554 refusal of the message.
CONFIGURATION_SET_PAUSED = "554 Message rejected: Sending paused for this configuration set: {name}"
# ConfigurationSetDoesNotExistException, same page; the SMTP words are ours.
NO_CONFIGURATION_SET = "554 Configuration set does not exist: Configuration set <{name}> does not exist."
# Over SMTP a message names its configuration set in this header
# (https://docs.aws.amazon.com/ses/latest/dg/using-configuration-sets-in-email.html); without it SES uses
# the From identity's default configuration set.
CONFIGURATION_SET_HEADER = "X-SES-CONFIGURATION-SET"


def configuration_sets_named(message: email.message.Message) -> list[str]:
    """The configuration sets a message uses: every X-SES-CONFIGURATION-SET header (each one is
    authorised, the stricter reading when a client writes two), else the From identity's default."""
    named = [str(value).strip() for value in message.get_all(CONFIGURATION_SET_HEADER, [])]
    if named:
        return named
    identity = identity_for(getaddresses([str(value) for value in message.get_all("From", [])])[0][1])
    default = getattr(identity, "configuration_set_name", None)
    return [default] if default else []


def configuration_set_refusal(config: SandboxConfig, user, message: email.message.Message) -> str | None:
    """ses:SendRawEmail is authorised on each resource the request uses: the identity and the
    configuration set (the action's resource types in
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsimpleemailservicev2.html),
    so the user's policy must allow the configuration set too, as the From address. Then the set must
    exist and have sending on (issue 14)."""
    from .moto_ext.reputation import find_configuration_set, sending_enabled

    from_address = getaddresses([str(value) for value in message.get_all("From", [])])[0][1]
    for name in configuration_sets_named(message):
        arn = f"arn:{config.partition}:ses:{config.region}:{config.account}:configuration-set/{name}"
        if not may_send(config, user, from_address, arn):
            return NOT_AUTHORIZED.format(arn=user.arn, resource=arn)
        config_set = find_configuration_set(name, config.account, config.region)
        if config_set is None:
            return NO_CONFIGURATION_SET.format(name=name)
        if not sending_enabled(config_set):
            return CONFIGURATION_SET_PAUSED.format(name=name)
    return None


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


def identity_for(address: str) -> SandboxIdentity | None:
    """SES checks the address, then its domain and each parent domain."""
    # Domain names match in any case (RFC 4343); the address keeps its case for ses:FromAddress.
    candidates = [address, *amazonses.domains_of(address)]
    return next((found for name in candidates if (found := find_identity(name))), None)


def is_verified(address: str) -> bool:
    identity = identity_for(address)
    if identity is None:
        return False
    identity.refresh()
    return identity.verification_status == "SUCCESS"


def non_ascii_refusal(raw: bytes) -> str | None:
    """SES does not support SMTPUTF8: addresses are 7-bit ASCII (punycode domains) and a Unicode
    display name must be an RFC 2047 encoded-word
    (https://docs.aws.amazon.com/ses/latest/APIReference/API_Destination.html,
    https://docs.aws.amazon.com/ses/latest/dg/send-email-raw.html). aiosmtpd already refuses
    non-ASCII in MAIL FROM / RCPT TO and the SMTPUTF8 parameter (it does not offer SMTPUTF8);
    this refuses raw 8-bit bytes in the header section. The reply text is ours."""
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    if any(byte > 0x7F for byte in head):
        return NON_ASCII_HEADER
    return None


def addresses_to_authorise(message: email.message.Message, mail_from: str | None) -> list[str]:
    """Every address SES authorises for a message: each From mailbox, the Sender, and the
    Return-Path (the envelope MAIL FROM, and a Return-Path header if the client wrote one).
    SES: "you still have to verify all identities that you use as From, Source, Sender, or
    Return-Path addresses" (https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html).
    An empty entry stands for a mailbox that does not parse, which is refused."""
    found: list[str] = []
    for header in ("From", "Sender", "Return-Path"):
        values = [str(value) for value in message.get_all(header, [])]
        found += [address for _, address in getaddresses(values)] if values else []
    if mail_from:
        found.append(mail_from)
    return list(dict.fromkeys(address.strip() for address in found))


def sender_refusal(config: SandboxConfig, user, message: email.message.Message,
                   mail_from: str | None) -> str | None:
    """Each address must be allowed by the user's policy, then verified (SES's order: the 554
    "not authorized" comes before "not verified")."""
    addresses = addresses_to_authorise(message, mail_from)
    if not any(addresses) or "" in addresses or not message.get_all("From"):
        return NO_FROM
    for address in addresses:
        identity = identity_for(address)
        name = identity.email_identity if identity else address
        identity_arn = f"arn:{config.partition}:ses:{config.region}:{config.account}:identity/{name}"
        if not may_send(config, user, address, identity_arn):
            return NOT_AUTHORIZED.format(arn=user.arn, resource=identity_arn)
    unverified = [address for address in addresses if not is_verified(address)]
    if unverified:
        return NOT_VERIFIED.format(region=config.region.upper(), address=", ".join(unverified))
    return None


def account_refusal(config: SandboxConfig, recipients: list[str]) -> str | None:
    """The account's own state: paused, the SES sandbox's verified recipients, the 24-hour quota
    (sandbox/moto_ext/ses_account.py cites the pages)."""
    state = ses_account.account(config.account, config.region)
    if not state.may_send():
        return ses_account.SENDING_PAUSED
    if not state.production_access:
        unverified = [to for to in recipients
                      if not to.lower().endswith("@" + ses_account.SIMULATOR_DOMAIN) and not is_verified(to)]
        if unverified:
            return NOT_VERIFIED.format(region=config.region.upper(), address=", ".join(unverified))
    if not state.reserve(len(recipients), CLOCK.now()):
        return ses_account.QUOTA_EXCEEDED
    return None


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
        user = _iam().users.get(session.auth_data) if session.auth_data else None
        if user is None:
            return "530 Authentication required"
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        refusal = (non_ascii_refusal(raw) or sender_refusal(self.config, user, message, envelope.mail_from)
                   or configuration_set_refusal(self.config, user, message)
                   or account_refusal(self.config, envelope.rcpt_tos))
        if refusal:
            return refusal
        message_id = f"0100{secrets.token_hex(16)}-{secrets.token_hex(4)}-000000"
        from_address = getaddresses([str(value) for value in message.get_all("From", [])])[0][1]
        sent, mail_from = amazonses.prepare(raw, from_address, message_id, self.config.region)
        self.config.mailbox.mkdir(parents=True, exist_ok=True)
        (self.config.mailbox / f"{message_id}.eml").write_bytes(sent)
        delivered = receiving.deliver(self.config, mail_from, envelope.rcpt_tos, sent)
        if delivered:  # SES's delivery to SES receiving (a refusal there is a bounce SES would report)
            (self.config.mailbox / f"{message_id}.delivery.txt").write_text("\n".join(delivered) + "\n")
        return f"250 Ok {message_id}"


def start_smtp(config: SandboxConfig, port: int, cert_file: Path, key_file: Path) -> Controller:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert_file), str(key_file))
    handler = SesSmtpHandler(config)
    controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            auth_required=True, auth_require_tls=True, authenticator=handler.authenticate,
                            server_hostname="localhost", ident="tutor-mail sandbox SES SMTP",
                            enable_SMTPUTF8=False)  # SES does not offer SMTPUTF8 (non_ascii_refusal)
    controller.start()
    return controller
