"""The SES account's own state in the sandbox: production access, sending, enforcement, quota.

SES documents that every new account starts in the SES sandbox, per region, where it may send only
to verified addresses and domains (or the mailbox simulator) and at most 200 messages in 24 hours;
with production access it may send to any recipient, but every From, Source, Sender and
Return-Path identity must still be verified:
https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html
Quotas count recipients, not messages: https://docs.aws.amazon.com/ses/latest/dg/quotas.html
Over the quota the SMTP interface answers "454 Throttling failure: Daily message quota exceeded":
https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas-errors.html
GetAccount (SES v2) reports ProductionAccessEnabled, SendingEnabled, EnforcementStatus
(HEALTHY | PROBATION | SHUTDOWN) and SendQuota:
https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_GetAccount.html

The sandbox starts as a new account does: production access off (the stricter reading).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from moto.sesv2 import urls as sesv2_urls
from moto.sesv2.responses import SESV2Response

SANDBOX_MAX_24H = 200
SANDBOX_MAX_RATE = 1.0
# SES publishes no fixed production quota ("varies based on your use case"): the sandbox uses a
# large one so that only the SES-sandbox quota is exercised.
PRODUCTION_MAX_24H = 50000
PRODUCTION_MAX_RATE = 14.0
ENFORCEMENT_STATUSES = ("HEALTHY", "PROBATION", "SHUTDOWN")
# The mailbox simulator is open to accounts in the SES sandbox too:
# https://docs.aws.amazon.com/ses/latest/dg/send-an-email-from-console.html#send-email-simulator
SIMULATOR_DOMAIN = "simulator.amazonses.com"

QUOTA_EXCEEDED = "454 Throttling failure: Daily message quota exceeded"
# SES documents that an account whose sending is paused cannot send; the reply text is ours.
SENDING_PAUSED = "554 Message rejected: Sending paused for this account"


@dataclass
class SesAccount:
    production_access: bool = False
    sending_enabled: bool = True
    enforcement_status: str = "HEALTHY"
    sent: list[tuple[datetime, int]] = field(default_factory=list)  # (when, recipients) of accepted mail
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def max_24h(self) -> int:
        return PRODUCTION_MAX_24H if self.production_access else SANDBOX_MAX_24H

    @property
    def max_rate(self) -> float:
        return PRODUCTION_MAX_RATE if self.production_access else SANDBOX_MAX_RATE

    def sent_last_24h(self, now: datetime) -> int:
        return sum(count for when, count in self.sent if when > now - timedelta(hours=24))

    def may_send(self) -> bool:
        """A paused account (SendingEnabled false) or one shut down does not send."""
        return self.sending_enabled and self.enforcement_status != "SHUTDOWN"

    def reserve(self, recipients: int, now: datetime) -> bool:
        """Counts a message against the 24-hour quota; False (nothing counted) when it would exceed it."""
        with self.lock:
            if self.sent_last_24h(now) + recipients > self.max_24h:
                return False
            self.sent.append((now, recipients))
            return True

    def update(self, production_access: bool | None = None, sending_enabled: bool | None = None,
               enforcement_status: str | None = None, reset_quota: bool = False) -> None:
        if enforcement_status is not None and enforcement_status not in ENFORCEMENT_STATUSES:
            raise ValueError(f"enforcement status must be one of {', '.join(ENFORCEMENT_STATUSES)}")
        if production_access is not None:
            self.production_access = production_access
        if sending_enabled is not None:
            self.sending_enabled = sending_enabled
        if enforcement_status is not None:
            self.enforcement_status = enforcement_status
        if reset_quota:
            self.sent.clear()

    def as_get_account(self, now: datetime) -> dict:
        """The body of SES v2 GetAccount."""
        return {
            "DedicatedIpAutoWarmupEnabled": False,
            "EnforcementStatus": self.enforcement_status,
            "ProductionAccessEnabled": self.production_access,
            "SendingEnabled": self.sending_enabled,
            "SendQuota": {"Max24HourSend": float(self.max_24h), "MaxSendRate": self.max_rate,
                          "SentLast24Hours": float(self.sent_last_24h(now))},
        }

    def as_sandbox_view(self, now: datetime) -> dict:
        return {"production_access": self.production_access, "sending_enabled": self.sending_enabled,
                "enforcement_status": self.enforcement_status, "max_24h": self.max_24h,
                "sent_last_24h": self.sent_last_24h(now)}


ACCOUNTS: dict[tuple[str, str], SesAccount] = {}


def account(account_id: str, region: str) -> SesAccount:
    """The state of one account in one region (SES keeps it per region)."""
    return ACCOUNTS.setdefault((account_id, region), SesAccount())


def patch_get_account(now) -> None:
    """moto 5.2 has no SES v2 GetAccount: answer it from the account state above."""

    def get_account(self: SESV2Response) -> str:
        return json.dumps(account(self.current_account, self.region).as_get_account(now()))

    SESV2Response.get_account = get_account
    # moto's catch-all "/v2/.*" is not a pattern once turned into a Flask rule: route the call.
    sesv2_urls.url_paths["{0}/v2/email/account$"] = SESV2Response.dispatch
