"""What SES says about identities, read in as few calls as the task allows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tutormail.aws import client as aws
from tutormail.catalog.model import Platform


@dataclass(frozen=True)
class IdentityState:
    name: str
    exists: bool
    status: str = "MISSING"  # SUCCESS | PENDING | FAILED | TEMPORARY_FAILURE | NOT_STARTED | MISSING
    verified_for_sending: bool = False
    dkim_status: str | None = None
    dkim_tokens: tuple[str, ...] = ()
    signing_hosted_zone: str | None = None
    mail_from_domain: str | None = None
    mail_from_status: str | None = None


class Ses:
    def __init__(self, platform: Platform, sesv2: Any = None, sesv1: Any = None):
        self.platform = platform
        self.v2 = sesv2 or aws.client("sesv2", platform.region)
        self._v1 = sesv1

    def identity(self, name: str) -> IdentityState:
        try:
            raw = aws.call(f"SES GetEmailIdentity {name}", self.v2.get_email_identity, EmailIdentity=name)
        except aws.ServiceError as exc:
            if aws.is_not_found(exc):
                return IdentityState(name, exists=False)
            raise
        dkim = raw.get("DkimAttributes") or {}
        mail_from = raw.get("MailFromAttributes") or {}
        return IdentityState(
            name=name, exists=True, status=raw.get("VerificationStatus", "PENDING"),
            verified_for_sending=bool(raw.get("VerifiedForSendingStatus")),
            dkim_status=dkim.get("Status"), dkim_tokens=tuple(dkim.get("Tokens") or ()),
            signing_hosted_zone=dkim.get("SigningHostedZone"),
            mail_from_domain=mail_from.get("MailFromDomain") or None,
            mail_from_status=mail_from.get("MailFromDomainStatus"))

    def statuses(self) -> dict[str, str]:
        """Every identity's verification status, a page of up to 1000 per call (botocore has no
        paginator for SES v2 ListEmailIdentities, so the NextToken loop is ours)."""
        result: dict[str, str] = {}
        kwargs: dict[str, Any] = {"PageSize": 1000}
        while True:
            page = aws.call("SES ListEmailIdentities", self.v2.list_email_identities, **kwargs)
            for entry in page.get("EmailIdentities", []):
                result[entry["IdentityName"]] = entry.get("VerificationStatus", "PENDING")
            if not page.get("NextToken"):
                return result
            kwargs["NextToken"] = page["NextToken"]

    def resend_link(self, address: str) -> None:
        """SES v1 VerifyEmailIdentity: on an identity that exists it mails a new link and changes
        nothing else, so the identity CloudFormation manages stays as it is (SES v2 has no resend;
        deleting and re-creating would break the stack and the sender)."""
        if self._v1 is None:
            self._v1 = aws.client("ses", self.platform.region)
        aws.call(f"SES VerifyEmailIdentity {address}", self._v1.verify_email_identity, EmailAddress=address)
