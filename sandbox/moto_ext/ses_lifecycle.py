"""SES identities that behave like SES: DKIM tokens, PENDING, SUCCESS, FAILED, links that expire."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import dns.exception
import dns.message
import dns.query
import dns.rdatatype
from moto.core.common_models import CloudFormationModel
from moto.ses import models as ses_models
from moto.sesv2.models import sesv2_backends
from tutormail.clock import FileClock, iso

from ..config import SandboxConfig

# The sandbox's clock file (advance-clock), followed while the emulator runs; the CLI reads the same file.
CLOCK = FileClock(Path(os.environ.get("TUTORMAIL_CLOCK_FILE") or os.devnull))


def _config() -> SandboxConfig:
    return SandboxConfig.from_env()


def resolve(name: str, rdtype: str) -> list[str]:
    """Values of a record as the sandbox DNS serves it (authoritatively), lower-cased."""
    host, _, port = _config().dns_server.rpartition(":")
    if not host:
        return []
    query = dns.message.make_query(name, rdtype)
    try:
        response = dns.query.udp(query, host, port=int(port), timeout=1.0)
    except (dns.exception.DNSException, OSError):
        return []
    wanted = dns.rdatatype.from_text(rdtype)
    return [rdata.to_text().lower().rstrip(".") for rrset in response.answer if rrset.rdtype == wanted
            for rdata in rrset]


class AlreadyExists(Exception):
    """A CloudFormation resource whose physical name is already taken outside the stack."""


class SandboxIdentity(ses_models.EmailIdentity, CloudFormationModel):
    """Replaces moto's EmailIdentity (same constructor) and is also the CloudFormation model of
    AWS::SES::EmailIdentity (a direct subclass of CloudFormationModel, as moto requires)."""

    def __init__(self, email_identity: str, tags: Any, dkim_signing_attributes: Any,
                 configuration_set_name: str | None) -> None:
        super().__init__(email_identity, tags, dkim_signing_attributes, configuration_set_name)
        self.created_at = CLOCK.now()
        self.forced_status: str | None = None
        self.mail_from_domain: str | None = None
        self.mail_from_behavior = "USE_DEFAULT_VALUE"
        self.verification_status = "PENDING"
        self.link_token: str | None = None
        self.link_sent_at = None
        self.links_sent = 0
        self.tokens: list[str] = []
        if self.identity_type == "DOMAIN":
            self.tokens = [secrets.token_hex(16) for _ in range(3)]
            self.dkim_attributes.update({"SigningEnabled": True, "Status": "PENDING", "Tokens": self.tokens,
                                         "SigningAttributesOrigin": "AWS_SES",
                                         "CurrentSigningKeyLength": self.dkim_attributes.get(
                                             "NextSigningKeyLength", "RSA_2048_BIT")})
        else:
            self.send_link()

    # -- the link (address identities) -------------------------------------------------------------
    def send_link(self) -> None:
        config = _config()
        self.link_token = secrets.token_urlsafe(24)
        self.link_sent_at = CLOCK.now()
        self.links_sent += 1
        if self.verification_status == "FAILED":
            self.verification_status = "PENDING"
        query = urlencode({"identity": self.email_identity, "token": self.link_token})
        url = f"{config.base_url}/_sandbox/verify?{query}"
        message = EmailMessage()
        message["From"] = "no-reply-aws@amazon.com"
        message["To"] = self.email_identity
        message["Subject"] = f"Amazon Web Services - Email Address Verification Request in region {config.region}"
        message["Date"] = self.link_sent_at.strftime("%a, %d %b %Y %H:%M:%S +0000")
        message.set_content(f"To confirm that {self.email_identity} may send through SES, open this link within "
                            f"{config.link_validity_hours} hours:\n\n{url}\n")
        config.outbox.mkdir(parents=True, exist_ok=True)
        name = f"{iso(self.link_sent_at)}-{self.links_sent:03d}-{self.email_identity}.eml".replace(":", "")
        (config.outbox / name).write_bytes(bytes(message))

    def open_link(self, token: str) -> str:
        """What opening a link does; returns the page's message."""
        if self.identity_type != "EMAIL_ADDRESS" or token != self.link_token:
            return "invalid"
        if self._link_expired():
            self.verification_status = "FAILED"
            return "expired"
        self.verification_status = "SUCCESS"
        return "verified"

    def _link_expired(self) -> bool:
        validity = timedelta(hours=_config().link_validity_hours)
        return self.link_sent_at is not None and CLOCK.now() > self.link_sent_at + validity

    # -- state ---------------------------------------------------------------------------------------
    def dkim_published(self) -> bool:
        for token in self.tokens:
            expected = f"{token}.dkim.amazonses.com"
            if expected not in resolve(f"{token}._domainkey.{self.email_identity}", "CNAME"):
                return False
        return True

    def mail_from_status(self) -> str:
        if not self.mail_from_domain:
            return "NOT_STARTED"
        return "SUCCESS" if resolve(self.mail_from_domain, "MX") else "PENDING"

    def refresh(self) -> None:
        if self.forced_status:
            self.verification_status = self.forced_status
        elif self.verification_status == "SUCCESS":
            pass
        elif self.identity_type == "DOMAIN":
            if self.dkim_published():
                self.verification_status = "SUCCESS"
            elif CLOCK.now() > self.created_at + timedelta(hours=_config().dkim_window_hours):
                self.verification_status = "FAILED"
        elif self._link_expired():
            self.verification_status = "FAILED"
        self.verified_for_sending_status = self.verification_status == "SUCCESS"
        if self.identity_type == "DOMAIN":
            self.dkim_attributes["Status"] = self.verification_status

    def arn(self, region: str, account: str) -> str:
        return f"arn:aws:ses:{region}:{account}:identity/{self.email_identity}"

    @property
    def get_response_object(self) -> dict[str, Any]:  # type: ignore[override]
        self.refresh()
        response = super().get_response_object
        response["MailFromAttributes"] = {"MailFromDomain": self.mail_from_domain or "",
                                          "MailFromDomainStatus": self.mail_from_status(),
                                          "BehaviorOnMxFailure": self.mail_from_behavior}
        response["Tags"] = self._tags()
        return response

    @property
    def list_response_object(self) -> dict[str, Any]:  # type: ignore[override]
        self.refresh()
        return super().list_response_object

    def resource_tags(self) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in self._tags()}

    def _tags(self) -> list[dict[str, str]]:
        backend = _owning_backend(self)
        if backend is None:
            return []
        arn = self.arn(backend.region_name, backend.account_id)
        return backend.tagger.list_tags_for_resource(arn).get("Tags", [])

    # -- CloudFormation: AWS::SES::EmailIdentity -------------------------------------------------------
    @staticmethod
    def cloudformation_name_type() -> str:
        return "EmailIdentity"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SES::EmailIdentity"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr.startswith(("DkimDNSTokenName", "DkimDNSTokenValue"))

    def get_cfn_attribute(self, attribute_name: str) -> str:
        index = int(attribute_name[-1]) - 1
        token = self.tokens[index]
        if attribute_name.startswith("DkimDNSTokenName"):
            return f"{token}._domainkey.{self.email_identity}"
        return f"{token}.dkim.amazonses.com"

    @property
    def physical_resource_id(self) -> str:
        return self.email_identity

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> SandboxIdentity:
        props = cloudformation_json.get("Properties", {})
        name = props["EmailIdentity"]
        backend = sesv2_backends[account_id][region_name]
        if name in backend.core_backend.email_identities:
            # CloudFormation creates; it never adopts an identity made outside the stack (that is
            # `cdk import`): the resource fails with AlreadyExists and the stack rolls back.
            raise AlreadyExists(f"Email identity {name} already exists (AlreadyExistsException); bring it "
                                "under the stack with `cdk import` or delete it, then deploy again")
        identity = backend.create_email_identity(
            email_identity=name, tags=None, dkim_signing_attributes=props.get("DkimSigningAttributes") or {},
            configuration_set_name=None)
        identity.apply_properties(props)
        identity.tag(props.get("Tags") or [], backend.core_backend)
        return identity

    def tag(self, tags: list[dict[str, str]], backend: Any) -> None:
        """The template's Tags, on the identity's own ARN (where TagResource and IAM's
        aws:ResourceTag find them)."""
        if tags:
            backend.tagger.tag_resource(self.arn(backend.region_name, backend.account_id), tags)

    def apply_properties(self, props: dict[str, Any]) -> None:
        self.configuration_set_name = (props.get("ConfigurationSetAttributes") or {}).get("ConfigurationSetName")
        mail_from = props.get("MailFromAttributes") or {}
        self.mail_from_domain = mail_from.get("MailFromDomain")
        self.mail_from_behavior = mail_from.get("BehaviorOnMxFailure", "USE_DEFAULT_VALUE")

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: SandboxIdentity, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> SandboxIdentity:
        props = cloudformation_json.get("Properties", {})
        original_resource.apply_properties(props)
        original_resource.tag(props.get("Tags") or [], sesv2_backends[account_id][region_name].core_backend)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str) -> None:
        sesv2_backends[account_id][region_name].core_backend.email_identities.pop(resource_name, None)


def _owning_backend(identity: SandboxIdentity):
    for regions in ses_models.ses_backends.values():
        for backend in regions.values():
            if backend.email_identities.get(identity.email_identity) is identity:
                return backend
    return None


def find_identity(name: str) -> SandboxIdentity | None:
    for regions in ses_models.ses_backends.values():
        for backend in regions.values():
            if name in backend.email_identities:
                return backend.email_identities[name]
    return None


def patch_backends() -> None:
    ses_models.EmailIdentity = SandboxIdentity  # moto builds identities through this module name

    def verify_email_identity(self, address: str) -> None:
        # SES v1 VerifyEmailIdentity on an existing address mails a new link, and leaves the identity
        # (and the stack that owns it) alone.
        identity = self.email_identities.get(address)
        if identity is None:
            self.create_email_identity_v2(address, None, None, None)
        else:
            identity.send_link()

    ses_models.SESBackend.verify_email_identity = verify_email_identity
    ses_models.SESBackend.verify_email_address = verify_email_identity
