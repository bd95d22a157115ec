"""The phase gate: what must hold before the password is handed over (phase 2) or a test message
is sent (phase 3).

A sender is ready when SES has verified it AND receivers will take its mail
(verification/deliverability.py): handing the password of an address blocked by DMARC over would
switch Tutor to an address whose password-reset mail never arrives. Only a person who accepts
that risk, with `--accept-dmarc-risk`, opens the gate, and the gate records the acceptance.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from tutormail.aws import client as aws
from tutormail.aws.progress_marks import DMARC_RISK, Progress
from tutormail.aws.ses import Ses
from tutormail.cenario2.dmarc import DmarcLookups, domain_of
from tutormail.clock import Clock, iso
from tutormail.exitcodes import Exit, worst
from tutormail.plan.build import InstitutionPlan, Sender
from tutormail.verification.deliverability import (
    ACCEPTED,
    Acceptance,
    Deliverability,
    accepted_policy,
    deliverability,
)
from tutormail.verification.identity_check import IdentityCheck, check_identity
from tutormail.vocabulary import Scenario

log = logging.getLogger("tutormail")


@dataclass(frozen=True)
class Hold:
    """Why one sender is not to be configured in Tutor yet, and the way out."""

    code: Exit
    state: str  # pending | expired | failed | missing | blocked | unknown
    reason: str
    way_out: str

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "reason": self.reason, "way_out": self.way_out, "exit_code": int(self.code)}


@dataclass
class Gate:
    """The phase gate of each selected sender: `held` names the ones not ready, the others may be
    configured. `code` is the worst code of the held ones (0 when none is)."""

    checks: dict[str, IdentityCheck]
    readiness: dict[str, Deliverability]
    held: dict[str, Hold] = field(default_factory=dict)
    code: Exit = Exit.OK
    marks: dict[str, str] = field(default_factory=dict)  # progress marks to record once the step is done

    @property
    def open(self) -> bool:
        return not self.held

    def is_ready(self, identity: str) -> bool:
        return identity in self.checks and identity not in self.held

    @property
    def problems(self) -> list[str]:
        return [f"{name}: {hold.reason}; way out: {hold.way_out}" for name, hold in sorted(self.held.items())]


def _hold(check: IdentityCheck, ready: Deliverability, accept_dmarc_risk: bool) -> Hold | None:
    if not check.verified:
        return Hold(check.exit_code, check.state, f"not verified for sending: {check.missing}", check.next_action)
    if ready.holds_back and not accept_dmarc_risk:
        return Hold(ready.exit_code, ready.state, f"{ready.summary}: {ready.verdict.reason}", ready.way_out)
    return None


def phase_gate(plan: InstitutionPlan, senders: list[Sender], ses: Ses, progress: Progress, clock: Clock,
               accept_dmarc_risk: bool = False, lookups: DmarcLookups | None = None) -> Gate:
    """Whether each selected sender may have its settings released or a test sent: verified by
    SES, and receivers take its mail (or a person accepts the DMARC risk of that address).

    The institution has one SMTP user, so the password released for a ready account could also
    send as a held one: docs/ARCHITECTURE.md ("Readiness is per account") says why that is
    acceptable. A DMARC acceptance is recorded for the selected addresses only."""
    recorded = progress.read()
    names = sorted({s.identity for s in senders})
    checks = {name: check_identity(plan, name, ses.identity(name), clock, recorded) for name in names}
    verdicts = (lookups or DmarcLookups()).verdicts(
        domain_of(n) for n in names if checks[n].scenario == Scenario.LINK)
    gate = Gate(checks, {n: deliverability(plan, n, checks[n].scenario, verdicts, recorded) for n in names})
    for name in names:
        hold = _hold(checks[name], gate.readiness[name], accept_dmarc_risk)
        if hold:
            gate.held[name] = hold
    gate.code = worst([hold.code for hold in gate.held.values()])
    accepting = [n for n in names if n not in gate.held and gate.readiness[n].holds_back]
    if accepting:
        who, now = aws.caller(plan.platform.region), iso(clock.now())
        for name in accepting:
            acceptance = Acceptance(now, accepted_policy(gate.readiness[name].verdict), who)
            gate.marks[DMARC_RISK + name] = acceptance.as_mark()
            log.warning("%s: DMARC risk accepted by %s: %s", name, who, gate.readiness[name].verdict.reason)
    for name in names:
        if gate.readiness[name].state == ACCEPTED:
            log.warning("%s: %s (%s)", name, gate.readiness[name].summary, gate.readiness[name].verdict.reason)
    return gate
