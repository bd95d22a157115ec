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

from tutormail.aws import client as aws
from tutormail.aws.progress_tags import DMARC_RISK, Progress
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


@dataclass
class Gate:
    checks: dict[str, IdentityCheck]
    readiness: dict[str, Deliverability]
    code: Exit = Exit.OK
    problems: list[str] = field(default_factory=list)
    marks: dict[str, str] = field(default_factory=dict)  # progress marks to record once the step is done

    @property
    def open(self) -> bool:
        return self.code == Exit.OK


def phase_gate(plan: InstitutionPlan, senders: list[Sender], ses: Ses, progress: Progress, clock: Clock,
               accept_dmarc_risk: bool = False, lookups: DmarcLookups | None = None,
               shared_with: list[Sender] | None = None) -> Gate:
    """Whether the selected senders may have their password released or a test sent.

    `shared_with`: the other senders that the same credential can send as. The institution has one
    SMTP user whose policy allows every address of its file, so the password of one account is the
    password of all: releasing it is deliverable only if none of them is held back by DMARC."""
    recorded = progress.read()
    names = sorted({s.identity for s in senders})
    checks = {name: check_identity(plan, name, ses.identity(name), clock, recorded) for name in names}
    scenarios = {i.name: i.scenario for i in plan.identities} | {n: checks[n].scenario for n in names}
    covered = sorted({*names, *(s.identity for s in shared_with or [])})
    verdicts = (lookups or DmarcLookups()).verdicts(domain_of(n) for n in covered if scenarios[n] == Scenario.LINK)
    gate = Gate(checks, {n: deliverability(plan, n, scenarios[n], verdicts, recorded) for n in covered})
    codes, held = [], []
    for name in names:
        check = checks[name]
        if not check.verified:
            gate.problems.append(f"{name} is not verified for sending: {check.missing}; next: {check.next_action}")
            codes.append(Exit.ACTION_NEEDED)
    for name in covered:
        ready = gate.readiness[name]
        shared = "" if name in names else (f" (the password asked for is also the password of {name}: one SMTP "
                                           f"user sends as every address of {plan.slug})")
        if ready.state == ACCEPTED:
            log.warning("%s: %s (%s)", name, ready.summary, ready.verdict.reason)
        elif ready.holds_back and accept_dmarc_risk:
            held.append(name)
        elif ready.holds_back:
            gate.problems.append(f"{name}: {ready.summary}: {ready.verdict.reason}; way out: {ready.way_out}{shared}")
            codes.append(ready.exit_code)
    gate.code = worst(codes)
    if gate.open and held:
        who, now = aws.caller(plan.platform.region), iso(clock.now())
        for name in held:
            acceptance = Acceptance(now, accepted_policy(gate.readiness[name].verdict), who)
            gate.marks[DMARC_RISK + name] = acceptance.as_tag()
            log.warning("%s: DMARC risk accepted by %s: %s", name, who, gate.readiness[name].verdict.reason)
    return gate
