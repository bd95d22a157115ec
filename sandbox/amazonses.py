"""What SES does to the mail it sends, as a receiver sees it: DKIM signatures, the MAIL FROM, and the
amazonses.com DNS that both rely on (issue 25).

Interfaces (used by sandbox/smtp.py, sandbox/receiving.py, sandbox/launcher.py):
- `SES_SENDING_IP`: the loopback address the sandbox's SES sends from. It stands for SES's sending
  IP ranges: amazonses.com's SPF record lists it (and only it), so SPF passes for `include:amazonses.com`
  when, and only when, the sandbox's SES delivered the message (a test talking to the inbound endpoint
  from 127.0.0.1 gets SPF fail, as any other host would).
- `zone(region)`: the amazonses.com zone the launcher serves in the sandbox BIND: its SPF record, the
  region's default MAIL FROM domain `<region>.amazonses.com` (SPF `include:amazonses.com`, MX to
  feedback-smtp), and nothing else; the DKIM keys are published into it while the sandbox runs.
- `prepare(raw, from_address, message_id, region)`: the message as SES sends it (its DKIM signatures
  prepended) and the envelope MAIL FROM SES uses.

SES's rules, as AWS documents them:
- Easy DKIM for a domain identity: SES signs with `d=<the identity's domain>` and a selector per CNAME
  token; the CNAME `<token>._domainkey.<domain>` points to `<token>.dkim.amazonses.com`, where SES keeps
  the public key (https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dkim-easy.html).
  The sandbox keeps one 2048-bit key per identity, published under its three token names, and signs
  with the first token, once the identity is verified.
- An address identity signs with DKIM only when its domain is set up for Easy DKIM
  (https://docs.aws.amazon.com/ses/latest/APIReference/API_SetIdentityDkimEnabled.html); otherwise
  (Cenário 2) the only signature is SES's own.
- "Every message that you send by using Amazon SES contains a DKIM header that references a signing
  domain of amazonses.com" (https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dkim-manual.html):
  every message gets the d=amazonses.com signature too, which never aligns with the From.
- MAIL FROM: by default "a subdomain of amazonses.com"; with a custom MAIL FROM domain that SES has
  verified (its MX found), that domain; while it is not verified, with BehaviorOnMxFailure
  UseDefaultValue, the default again
  (https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-spf.html,
  https://docs.aws.amazon.com/ses/latest/APIReference/API_SetIdentityMailFromDomain.html). The local
  part is the message id, the default domain `<region>.amazonses.com`.
Signed headers and canonicalization (relaxed/simple) follow the d=amazonses.com example in
https://docs.aws.amazon.com/ses/latest/dg/receiving-email-action-lambda-event.html.
"""

from __future__ import annotations

import secrets
import threading
from base64 import b64encode
from typing import TYPE_CHECKING

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .bind import Zone

if TYPE_CHECKING:
    from .moto_ext.ses_lifecycle import SandboxIdentity

DOMAIN = "amazonses.com"
SES_SENDING_IP = "127.0.0.25"
SIGNED_HEADERS = [b"From", b"To", b"Cc", b"Subject", b"MIME-Version", b"Content-Type",
                  b"Content-Transfer-Encoding", b"Date", b"Message-ID", b"Reply-To"]
_LOCK = threading.Lock()
# SES's own signing key for d=amazonses.com (selector, private key PEM), made at the first message.
_OWN: dict[str, tuple[str, bytes]] = {}


def zone(region: str, update_key: str, name_servers: tuple[tuple[str, str], ...]) -> Zone:
    region_label = region.lower()
    return Zone(DOMAIN, records=[
        ("@", 300, "TXT", f'"v=spf1 ip4:{SES_SENDING_IP} -all"'),
        (region_label, 300, "TXT", '"v=spf1 include:amazonses.com ~all"'),
        (region_label, 300, "MX", f"10 feedback-smtp.{region_label}.{DOMAIN}."),
    ], update_keys=(update_key,), name_servers=name_servers)


def domains_of(address: str) -> list[str]:
    """The address's domain and each parent domain (lower case: RFC 4343), the order SES looks in."""
    labels = address.rpartition("@")[2].lower().split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def _new_key() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, b64encode(public).decode()


def _publish(names: list[str], public_key: str) -> None:
    """The key's TXT record at each name, in strings of at most 255 characters (RFC 1035 3.3.14)."""
    from .moto_ext.cfn_models import mirror_to_dns

    text = f"v=DKIM1; k=rsa; p={public_key}"
    value = " ".join(f'"{text[i:i + 255]}"' for i in range(0, len(text), 255))
    mirror_to_dns(DOMAIN, [{"Name": f"{name}.", "Type": "TXT", "TTL": 300, "ResourceRecords": [{"Value": value}]}
                           for name in names])


def identity_key(identity: SandboxIdentity) -> bytes:
    """The identity's private key, made and published under `<token>.dkim.amazonses.com` on first use."""
    with _LOCK:
        key = getattr(identity, "sandbox_dkim_key", None)
        if key is None:
            key, public = _new_key()
            _publish([f"{token}.dkim.{DOMAIN}" for token in identity.tokens], public)
            identity.sandbox_dkim_key = key
        return key


def own_key() -> tuple[str, bytes]:
    with _LOCK:
        if "key" not in _OWN:
            selector = secrets.token_hex(16)
            key, public = _new_key()
            _publish([f"{selector}._domainkey.{DOMAIN}"], public)
            _OWN["key"] = (selector, key)
        return _OWN["key"]


def _verified_domain_identity(address: str) -> SandboxIdentity | None:
    from .moto_ext.ses_lifecycle import find_identity

    for name in domains_of(address):
        identity = find_identity(name)
        if identity is not None and identity.identity_type == "DOMAIN":
            identity.refresh()
            if identity.verification_status == "SUCCESS" and identity.dkim_attributes.get("SigningEnabled", True):
                return identity
    return None


def _signature(raw: bytes, selector: str, domain: str, key: bytes) -> bytes:
    return dkim.sign(raw, selector.encode(), domain.encode(), key, include_headers=SIGNED_HEADERS,
                     canonicalize=(b"relaxed", b"simple"), linesep=b"\r\n")


def sign(raw: bytes, from_address: str) -> bytes:
    """The message with SES's signatures on top: the identity's (Easy DKIM), then amazonses.com's."""
    signatures = b""
    identity = _verified_domain_identity(from_address)
    if identity is not None:
        signatures += _signature(raw, identity.tokens[0], identity.email_identity, identity_key(identity))
    selector, key = own_key()
    signatures += _signature(raw, selector, DOMAIN, key)
    return signatures + raw


def mail_from_domain(from_address: str, region: str) -> str:
    """The custom MAIL FROM of the identity that sends (the address's, else its domain's), once SES
    found its MX; else SES's default."""
    from .moto_ext.ses_lifecycle import find_identity

    for name in (from_address, *domains_of(from_address)):
        identity = find_identity(name)
        if identity is not None and identity.mail_from_domain:
            if identity.mail_from_status() == "SUCCESS":
                return identity.mail_from_domain.lower()
            break
    return f"{region.lower()}.{DOMAIN}"


def prepare(raw: bytes, from_address: str, message_id: str, region: str) -> tuple[bytes, str]:
    """(the message as SES sends it, the envelope MAIL FROM)."""
    return sign(raw, from_address), f"{message_id}@{mail_from_domain(from_address, region)}"
