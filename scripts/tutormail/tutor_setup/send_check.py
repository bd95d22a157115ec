"""`send-test --check`: phase 3 as a receiver sees it (issue 25).

The test message goes through the SES SMTP endpoint, as `send-test` sends it, to the platform's check
address with a token; SES's receiving judges it (SPF, DKIM, DMARC), writes its Authentication-Results
and stores it under check/; the command waits for the stored copy (bounded, with back-off) and reads
what a receiver sees (`receiver_view`). Exit: the gate's or SMTP's code when nothing was accepted; 3
while the message has not arrived; 4 when SES's verdicts are missing (the check could not run); else
0 when DMARC passes aligned, 1 otherwise.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from tutormail.aws.check_mailbox import CheckMailbox, wait_for
from tutormail.exitcodes import Exit
from tutormail.services import Services
from tutormail.tutor_setup.phases import TestOutcome, phase_test
from tutormail.tutor_setup.receiver_view import ReceiverView, receiver_view
from tutormail.tutor_setup.send_test import send_test


@dataclass(frozen=True)
class CheckOutcome:
    test: TestOutcome
    arrived: bool = False
    view: ReceiverView | None = None

    @property
    def exit_code(self) -> Exit:
        result = self.test.result
        if result is None:
            return self.test.gate.code
        if not result.ok:
            return result.exit_code
        if not self.arrived:
            return Exit.PENDING
        if self.view is None:
            return Exit.SERVICE_ERROR
        return self.view.exit_code

    def as_dict(self, slug: str, to: str, wait: float) -> dict[str, Any]:
        """`send-test --check --output json` (the CLI adds schema_version)."""
        return {**self.test.as_dict(slug, to), "arrived": self.arrived,
                "check": self.view.as_dict(slug) if self.view else None,
                "check_explanation": self.explanation(slug, wait), "exit_code": int(self.exit_code)}

    def explanation(self, slug: str, wait: float) -> str | None:
        """The reason and way out when not 0 after sending (the gate and SMTP explain their own)."""
        if self.test.result is None or not self.test.result.ok:
            return None
        if not self.arrived:
            return (f"SES accepted the message but it was not stored within {wait:g} s: run send-test --check "
                    "again later; if it never arrives, check the check subdomain's MX and that the receipt rule set "
                    "is active (tutormail receiving-activate)")
        if self.view is None:
            return "the stored message carries no Authentication-Results of amazonses.com: SES's verdicts are missing"
        reason, way_out = self.view.reason, self.view.way_out(slug)
        return f"{reason}; way out: {way_out}" if reason else None


def check_test(plan, company: str | None, account: str | None, check_address: str, endpoint: tuple[str, int],
               ca_bundle: str | None, attempts: int, services: Services, accept_dmarc_risk: bool,
               mailbox: CheckMailbox, wait: float,
               send: Callable = send_test, sleep: Callable[[float], None] | None = None,
               **test_kwargs) -> CheckOutcome:
    token = secrets.token_hex(16)
    # S3 dates objects by the real time, whatever the sandbox clock says.
    since = datetime.now(UTC)
    outcome = phase_test(plan, company, account, check_address, endpoint, ca_bundle, attempts, services,
                         accept_dmarc_risk, send=functools.partial(send, check_token=token), **test_kwargs)
    if outcome.result is None or not outcome.result.ok:
        return CheckOutcome(outcome)
    waiting = {"sleep": sleep} if sleep is not None else {}
    raw = wait_for(lambda: mailbox.find(token, since), wait, **waiting)
    if raw is None:
        return CheckOutcome(outcome)
    view = receiver_view(raw)
    if view is not None and view.from_domain:
        view = replace(view, policy=services.lookups.verdict(view.from_domain).policy)
    return CheckOutcome(outcome, True, view)
