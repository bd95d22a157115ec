"""The phase gate: the SMTP password is released (phase 2) and a test message sent (phase 3) only
for senders SES has verified (phase 1), and each step is recorded where `status` reads it.

A mark is written only after the step it records succeeded: "released" once the settings are in
the file or on stdout, "tested" once SES accepted the message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tutormail.aws.progress_tags import RELEASED, TESTED, Progress
from tutormail.aws.ses import Ses
from tutormail.clock import Clock, iso
from tutormail.plan.build import InstitutionPlan, Sender
from tutormail.tutor_setup.send_test import SendResult, send_test
from tutormail.tutor_setup.smtp_settings import SmtpSecret, read_smtp_secret, select_senders, settings_rows
from tutormail.verification.identity_check import IdentityCheck, check_identity

TEST_ACCOUNT = "comunicacao"  # send-test's default account when no company is chosen


@dataclass(frozen=True)
class SettingsRelease:
    senders: list[Sender]
    rows: list[dict[str, Any]]
    rules: list[dict[str, str]]
    blocked: list[IdentityCheck] = field(default_factory=list)  # with --reveal: why nothing is released


def check_senders(plan: InstitutionPlan, senders: Iterable[Sender], ses: Ses, clock: Clock,
                  recorded: dict[str, str]) -> dict[str, IdentityCheck]:
    """One check per identity (several accounts may share one)."""
    return {name: check_identity(plan, name, ses.identity(name), clock, recorded)
            for name in sorted({s.identity for s in senders})}


def release_settings(plan: InstitutionPlan, company: str | None, account: str | None, reveal: bool, ses: Ses,
                     progress: Progress, clock: Clock,
                     read_secret: Callable[[InstitutionPlan], SmtpSecret] = read_smtp_secret) -> SettingsRelease:
    """The Contas de E-mail fields of the selected accounts. With `reveal`, every selected sender
    must be verified, or nothing is released and `blocked` says why."""
    senders = select_senders(plan, company, account)
    checks = check_senders(plan, senders, ses, clock, progress.read())
    blocked = list({checks[s.identity].identity: checks[s.identity] for s in senders
                    if not checks[s.identity].verified}.values())
    rules = [{"company": c.name, "rule": rule, "account": target}
             for c in plan.institution.companies for rule, target in c.rules]
    if reveal and blocked:
        return SettingsRelease(senders, [], rules, blocked)
    rows = settings_rows(plan, senders, checks, read_secret(plan), reveal)
    return SettingsRelease(senders, rows, rules)


def record_released(progress: Progress, senders: Iterable[Sender], clock: Clock) -> None:
    progress.write({RELEASED + s.address: iso(clock.now()) for s in senders})


def sender_to_test(plan: InstitutionPlan, company: str | None, account: str | None, ses: Ses, progress: Progress,
                   clock: Clock) -> tuple[Sender, IdentityCheck]:
    sender = select_senders(plan, company, account or (TEST_ACCOUNT if not company else None))[0]
    return sender, check_senders(plan, [sender], ses, clock, progress.read())[sender.identity]


def record_tested(progress: Progress, sender: Sender, clock: Clock) -> None:
    progress.write({TESTED + sender.address: iso(clock.now())})


@dataclass(frozen=True)
class TestOutcome:
    sender: Sender
    check: IdentityCheck
    endpoint: str
    result: SendResult | None  # None: the sender is not verified, nothing was sent


def phase_test(plan: InstitutionPlan, company: str | None, account: str | None, to: str, endpoint: tuple[str, int],
               ca_bundle: str | None, attempts: int, ses: Ses, progress: Progress, clock: Clock,
               send: Callable[..., SendResult] = send_test,
               read_secret: Callable[[InstitutionPlan], SmtpSecret] = read_smtp_secret) -> TestOutcome:
    """Phase 3 for one account: refused before any SMTP traffic unless its sender is verified;
    recorded only when SES accepted the message."""
    sender, check = sender_to_test(plan, company, account, ses, progress, clock)
    host, port = endpoint
    if not check.verified:
        return TestOutcome(sender, check, f"{host}:{port}", None)
    result = send(plan, sender, read_secret(plan), to, host, port, ca_bundle, attempts=attempts)
    if result.ok:
        record_tested(progress, sender, clock)
    return TestOutcome(sender, check, f"{host}:{port}", result)
