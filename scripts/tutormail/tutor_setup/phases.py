"""Phases 2 and 3 as use cases: the SMTP password is released and a test message sent only through
the phase gate (gate.py: verified by SES, and deliverable or its DMARC risk accepted), and each
step is recorded where `status` reads it.

A mark is written only after the step it records succeeded: "released" once the settings are in
the file or on stdout, "tested" once SES accepted the message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from tutormail.aws.progress_marks import RELEASED, TESTED, Progress
from tutormail.aws.smtp_keys import access_keys
from tutormail.clock import Clock, iso
from tutormail.plan.build import InstitutionPlan, Sender
from tutormail.plan.selection import select_senders
from tutormail.services import Services
from tutormail.tutor_setup.gate import Gate, Hold, phase_gate
from tutormail.tutor_setup.send_test import SendResult, send_test
from tutormail.tutor_setup.smtp_settings import AccountSettings, SmtpSecret, read_smtp_secret, settings_rows

TEST_ACCOUNT = "comunicacao"  # send-test's default account when no company is chosen


@dataclass(frozen=True)
class NotReady:
    """A selected account not to configure in Tutor yet: why, and the way out."""

    sender: Sender
    hold: Hold

    def as_dict(self) -> dict[str, Any]:
        return {"company": self.sender.company, "account": self.sender.account, "address": self.sender.address,
                "from": self.sender.mailbox, **self.hold.as_dict()}


@dataclass(frozen=True)
class Rule:
    """A Tutor e-mail rule of a company and the account it sends from."""

    company: str
    rule: str
    account: str

    def as_dict(self) -> dict[str, str]:
        return {"company": self.company, "rule": self.rule, "account": self.account}


@dataclass(frozen=True)
class SettingsRelease:
    senders: list[Sender]
    gate: Gate
    rows: list[AccountSettings] = field(default_factory=list)  # the accounts ready to configure
    rules: list[Rule] = field(default_factory=list)
    not_ready: list[NotReady] = field(default_factory=list)  # not to configure yet: reason and way out

    @property
    def released(self) -> list[Sender]:
        return [s for s in self.senders if self.gate.is_ready(s.identity)]

    def as_dict(self, slug: str) -> dict[str, Any]:
        """`smtp-settings --output json` (the CLI adds schema_version)."""
        return {"institution": slug, "accounts": [r.as_dict() for r in self.rows],
                "not_ready": [n.as_dict() for n in self.not_ready], "rules": [r.as_dict() for r in self.rules]}


def release_settings(plan: InstitutionPlan, company: str | None, account: str | None, reveal: bool,
                     services: Services, accept_dmarc_risk: bool = False,
                     read_secret: Callable[[InstitutionPlan], SmtpSecret] = read_smtp_secret) -> SettingsRelease:
    """The Contas de E-mail fields of the selected accounts that are ready (verified, and deliverable
    or their DMARC risk accepted), the password only with `reveal`; every other selected account is
    listed as not to configure yet, with its reason and way out (`gate.held`)."""
    senders = select_senders(plan, company, account)
    gate = phase_gate(plan, senders, services.ses(plan.platform), services.progress(plan), services.clock,
                      accept_dmarc_risk, services.lookups)
    ready = [s for s in senders if gate.is_ready(s.identity)]
    not_ready = [NotReady(s, gate.held[s.identity]) for s in senders if not gate.is_ready(s.identity)]
    rules = [Rule(c.name, rule, target) for c in plan.institution.companies for rule, target in c.rules]
    if not ready:
        return SettingsRelease(senders, gate, [], rules, not_ready)
    return SettingsRelease(senders, gate, settings_rows(plan, ready, gate.checks, read_secret(plan), reveal),
                           rules, not_ready)


def record_released(progress: Progress, release: SettingsRelease, clock: Clock) -> None:
    """Phase 2 of the accounts whose settings went out, and the DMARC acceptances given for them."""
    progress.write({**release.gate.marks, **{RELEASED + s.address: iso(clock.now()) for s in release.released}})


def _with_key_state(plan: InstitutionPlan, secret: SmtpSecret, result: SendResult, keys: list[dict] | None
                    ) -> SendResult:
    """A 535 is a service error while the key may still be reaching SES; a key IAM holds as Inactive
    (offboarding, or a rotation that deactivated it) stays refused, so a person must act."""
    status = next((k.get("Status") for k in keys or [] if k.get("AccessKeyId") == secret.access_key_id), None)
    if status != "Inactive":
        return result
    return replace(result, key_inactive=True, explanation=(
        f"SES refused the credentials (535): the secret's access key is Inactive in IAM (offboarded, or "
        f"deactivated by a rotation); no retry will change that. Deploy {plan.stack_name} again to issue "
        f"a key, then read it with tutormail smtp-settings {plan.slug} --reveal."))


@dataclass(frozen=True)
class TestOutcome:
    sender: Sender
    gate: Gate
    endpoint: str
    result: SendResult | None  # None: the gate is shut, nothing was sent

    def as_dict(self, slug: str, to: str) -> dict[str, Any]:
        """`send-test --output json` once a message was sent (the CLI adds schema_version); in this order,
        its table's rows."""
        sender, result = self.sender, self.result
        if result is None:
            raise ValueError("the gate was shut: nothing was sent, so there is no result to show")
        return {"institution": slug, "company": sender.company, "account": sender.account, "from": sender.mailbox,
                "to": to, "endpoint": self.endpoint, "accepted": result.ok, "smtp_code": result.code,
                "server_reply": result.reply, "explanation": result.explanation, "message_id": result.message_id}


def phase_test(plan: InstitutionPlan, company: str | None, account: str | None, to: str, endpoint: tuple[str, int],
               ca_bundle: str | None, attempts: int, services: Services, accept_dmarc_risk: bool = False,
               send: Callable[..., SendResult] = send_test,
               read_secret: Callable[[InstitutionPlan], SmtpSecret] = read_smtp_secret,
               key_states: Callable[[InstitutionPlan], list[dict] | None] = access_keys) -> TestOutcome:
    """Phase 3 for one account: refused before any SMTP traffic unless the gate is open; recorded
    only when SES accepted the message."""
    sender = select_senders(plan, company, account or (TEST_ACCOUNT if not company else None))[0]
    progress, clock = services.progress(plan), services.clock
    gate = phase_gate(plan, [sender], services.ses(plan.platform), progress, clock, accept_dmarc_risk, services.lookups)
    host, port = endpoint
    if not gate.open:
        return TestOutcome(sender, gate, f"{host}:{port}", None)
    secret = read_secret(plan)
    result = send(plan, sender, secret, to, host, port, ca_bundle, attempts=attempts)
    if result.code == 535:
        result = _with_key_state(plan, secret, result, key_states(plan))
    if result.ok:  # the DMARC-risk acceptance, like phase 3, is recorded only once the step is done
        progress.write({**gate.marks, TESTED + sender.address: iso(clock.now())})
    return TestOutcome(sender, gate, f"{host}:{port}", result)
