"""What SES says about identities, read in as few calls as the task allows."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from tutormail.aws import client as aws
from tutormail.catalog.model import Platform
from tutormail.vocabulary import VerificationStatus

log = logging.getLogger("tutormail")


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
    configuration_set: str | None = None  # the default configuration set: ours is tutormail-<slug>


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
            name=name, exists=True, status=raw.get("VerificationStatus", VerificationStatus.PENDING),
            verified_for_sending=bool(raw.get("VerifiedForSendingStatus")),
            dkim_status=dkim.get("Status"), dkim_tokens=tuple(dkim.get("Tokens") or ()),
            signing_hosted_zone=dkim.get("SigningHostedZone"),
            mail_from_domain=mail_from.get("MailFromDomain") or None,
            mail_from_status=mail_from.get("MailFromDomainStatus"),
            configuration_set=raw.get("ConfigurationSetName") or None)

    def statuses(self) -> dict[str, str]:
        """Every identity's verification status, a page of up to 1000 per call (botocore has no
        paginator for SES v2 ListEmailIdentities, so the NextToken loop is ours)."""
        result: dict[str, str] = {}
        kwargs: dict[str, Any] = {"PageSize": 1000}
        while True:
            page = aws.call("SES ListEmailIdentities", self.v2.list_email_identities, **kwargs)
            for entry in page.get("EmailIdentities", []):
                result[entry["IdentityName"]] = entry.get("VerificationStatus", VerificationStatus.PENDING)
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


@dataclass(frozen=True)
class AccountState:
    """SES v2 GetAccount: the account's own state in one region
    (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_GetAccount.html). Without production
    access the account is in the SES sandbox: verified recipients only, 200 messages a day
    (https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html)."""

    region: str
    production_access: bool
    sending_enabled: bool
    enforcement_status: str  # HEALTHY | PROBATION (under review) | SHUTDOWN (sending paused by AWS)
    max_24h: float
    sent_last_24h: float
    max_send_rate: float

    @property
    def summary(self) -> str:
        access = "production access" if self.production_access else (
            "SES sandbox (verified recipients only; request production access)")
        sending = "sending enabled" if self.sending_enabled else "sending PAUSED"
        review = {"PROBATION": "UNDER REVIEW (probation)", "SHUTDOWN": "SHUT DOWN by AWS"}.get(
            self.enforcement_status, self.enforcement_status.lower())
        return (f"SES account in {self.region}: {access}, {sending}, {review}, "
                f"{self.sent_last_24h:g} of {self.max_24h:g} sent in 24 h")

    def as_json(self) -> dict[str, Any]:
        return {"region": self.region, "production_access": self.production_access,
                "sending_enabled": self.sending_enabled, "enforcement_status": self.enforcement_status,
                "in_ses_sandbox": not self.production_access,
                "under_review": self.enforcement_status == "PROBATION",
                "paused": not self.sending_enabled or self.enforcement_status == "SHUTDOWN",
                "send_quota": {"max_24_hour_send": self.max_24h, "sent_last_24_hours": self.sent_last_24h,
                               "max_send_rate": self.max_send_rate},
                "summary": self.summary}


def read_account(platform: Platform, sesv2: Any = None) -> AccountState:
    client = sesv2 or aws.client("sesv2", platform.region)
    raw = aws.call("SES GetAccount", client.get_account)
    quota = raw.get("SendQuota") or {}
    return AccountState(region=platform.region, production_access=bool(raw.get("ProductionAccessEnabled")),
                        sending_enabled=bool(raw.get("SendingEnabled")),
                        enforcement_status=raw.get("EnforcementStatus") or "UNKNOWN",
                        max_24h=float(quota.get("Max24HourSend", 0)),
                        sent_last_24h=float(quota.get("SentLast24Hours", 0)),
                        max_send_rate=float(quota.get("MaxSendRate", 0)))


def account_view(platform: Platform) -> tuple[dict[str, Any], str | None]:
    """The account's state for a report's header and JSON. It informs and never decides a command's
    result, so a failed read is logged and shown in JSON as such instead of stopping the report."""
    try:
        state = read_account(platform)
    except aws.ServiceError as exc:
        log.warning("the SES account's state is unknown: %s", exc)
        return {"region": platform.region, "error": str(exc)}, None
    return state.as_json(), state.summary


def delete_identity(sesv2: Any, name: str) -> bool:
    """DeleteEmailIdentity; False when it was gone already
    (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_DeleteEmailIdentity.html)."""
    try:
        aws.call(f"SES DeleteEmailIdentity {name}", sesv2.delete_email_identity, EmailIdentity=name)
    except aws.ServiceError as exc:
        if not aws.is_not_found(exc):
            raise
        return False
    return True
