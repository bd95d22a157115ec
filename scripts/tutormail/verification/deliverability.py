"""What a sender's readiness is made of, beside SES's verification: whether receivers will take
its mail (DMARC, Cenário 2), and a person's recorded acceptance of that risk.

A Cenário 2 address at a domain whose DMARC policy rejects or quarantines unaligned mail, or at a
free-mail domain, is "blocked by DMARC" (cenario2/dmarc.py). Only a person who accepts that risk,
with `--accept-dmarc-risk`, opens the phase gate (tutor_setup/gate.py); the acceptance is a
progress mark (who, when, and the policy accepted: a stricter policy published later needs a new
acceptance). A DMARC look-up that failed is "unknown": never ready, and the same override applies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tutormail.aws.progress_marks import DMARC_RISK
from tutormail.catalog.model import platform_default_address
from tutormail.cenario2.dmarc import BLOCKED, READY, UNKNOWN, DmarcLookups, DmarcVerdict, domain_of
from tutormail.exitcodes import Exit, worst
from tutormail.plan.build import InstitutionPlan
from tutormail.verification.identity_check import INSTITUTION, PLATFORM, IdentityCheck
from tutormail.vocabulary import IdentityKind, Readiness, Scenario

ACCEPTED, UNCHECKED = Readiness.ACCEPTED, Readiness.UNCHECKED
# A mark's value keeps to what a Secrets Manager tag value holds, where marks were kept before the
# progress table: at most 256 characters, letters, digits, spaces and + - = . _ : / @
# (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_TagResource.html).
MARK_VALUE_UNSAFE = re.compile(r"[^\w +\-=.:/@]")


@dataclass(frozen=True)
class Acceptance:
    at: str
    policy: str
    who: str

    @classmethod
    def parse(cls, value: str | None) -> Acceptance | None:
        parts = (value or "").split(" ", 2)
        return cls(*parts) if len(parts) == 3 else None

    def as_mark(self) -> str:
        return MARK_VALUE_UNSAFE.sub("_", f"{self.at} {self.policy} {self.who}")[:256]


def accepted_policy(verdict: DmarcVerdict) -> str:
    """What an acceptance is of: the policy receivers apply, free mail, or an unknown policy."""
    if verdict.state == UNKNOWN:
        return "unknown"
    return verdict.policy or "free-mail"


@dataclass(frozen=True)
class Deliverability:
    """Whether receivers will take a sender's mail: ready | blocked | unknown | accepted | unchecked."""

    state: str
    verdict: DmarcVerdict | None = None
    accepted: Acceptance | None = None
    way_out: str | None = None
    aligned: bool = True  # False for Cenário 2: SES signs as amazonses.com, never as the From's domain

    @property
    def holds_back(self) -> bool:
        return self.state in (BLOCKED, UNKNOWN)

    @property
    def unreadable(self) -> bool:
        """Unknown because the published record cannot be read: asking again will not change it."""
        return self.state == UNKNOWN and self.verdict is not None and self.verdict.record is not None

    @property
    def exit_code(self) -> Exit:
        if self.unreadable:
            return Exit.ACTION_NEEDED
        return {BLOCKED: Exit.ACTION_NEEDED, UNKNOWN: Exit.SERVICE_ERROR}.get(self.state, Exit.OK)

    @property
    def phase(self) -> str:
        return "1 blocked by DMARC" if self.state == BLOCKED else "1 DMARC unknown"

    @property
    def actor(self) -> str:
        return INSTITUTION if self.state == BLOCKED or self.unreadable else PLATFORM

    @property
    def summary(self) -> str:
        if self.state == ACCEPTED and self.accepted:
            return f"risk accepted by {self.accepted.who} at {self.accepted.at}"
        if self.state == READY and not self.aligned:
            return "ready, not aligned"
        return {BLOCKED: "blocked by DMARC", UNKNOWN: "DMARC unknown", UNCHECKED: "not checked"}.get(self.state, "ok")

    @property
    def alignment(self) -> str | None:
        """What an unaligned sender means for bulk mail, or None when aligned."""
        if self.aligned or self.verdict is None:
            return None
        domain = self.verdict.domain
        return (f"not aligned: SES signs mail from {domain} as amazonses.com (Cenário 2), so DMARC passes only "
                "where the domain asks for no policy; Gmail and Yahoo require DMARC alignment from senders of "
                "more than 5,000 messages a day (https://support.google.com/mail/answer/81126, "
                f"https://senders.yahooinc.com/best-practices/); a dns entry for {domain} (Cenário 1, Easy DKIM "
                f"signs as {domain}) aligns it")

    @property
    def reason(self) -> str | None:
        return (self.verdict.reason or None) if self.verdict else None

    @property
    def note(self) -> str | None:
        return self.verdict.note if self.verdict else None

    def as_dict(self) -> dict[str, Any]:
        verdict = self.verdict.as_dict() if self.verdict else {}
        return {"state": self.state, "summary": self.summary, "way_out": self.way_out,
                "reason": self.reason, "record": verdict.get("record"),
                "record_name": verdict.get("record_name"), "policy": verdict.get("policy"),
                "note": self.note, "aligned": self.aligned, "alignment": self.alignment,
                "accepted_by": self.accepted.who if self.accepted else None,
                "accepted_at": self.accepted.at if self.accepted else None}


def way_out(plan: InstitutionPlan, verdict: DmarcVerdict) -> str:
    accept = f"or, knowing the risk: tutormail smtp-settings {plan.slug} --reveal --accept-dmarc-risk"
    if verdict.state == UNKNOWN and verdict.record is not None:
        return (f"the owner of {verdict.domain} corrects {verdict.record_name} (RFC 7489 6.3), or move the address "
                f"to Cenário 1 or another address; {accept}")
    if verdict.state == UNKNOWN:
        return f"run again once DNS answers (tutormail dmarc {verdict.domain}); {accept}"
    default = platform_default_address(plan.slug, plan.platform)
    return f"{verdict.way_out} (e.g. the platform default {default}); {accept}"


def deliverability(plan: InstitutionPlan, identity: str, scenario: int, verdicts: dict[str, DmarcVerdict] | None,
                   recorded: dict[str, str]) -> Deliverability:
    if scenario != Scenario.LINK:
        return Deliverability(READY)  # SES signs with DKIM as the domain itself: aligned (RFC 7489 3.1)
    if verdicts is None:
        return Deliverability(UNCHECKED, aligned=False)
    verdict = verdicts[domain_of(identity)]
    if verdict.state == READY:
        return Deliverability(READY, verdict, aligned=False)
    acceptance = Acceptance.parse(recorded.get(DMARC_RISK + identity))
    if acceptance and acceptance.policy == accepted_policy(verdict):
        return Deliverability(ACCEPTED, verdict, acceptance, aligned=False)
    return Deliverability(verdict.state, verdict, way_out=way_out(plan, verdict), aligned=False)


def readiness_code(check: IdentityCheck, ready: Deliverability) -> Exit:
    """A sender still in phase 1 keeps its verification code; a verified one is ready only if
    receivers will take its mail."""
    return worst([check.exit_code, ready.exit_code]) if check.verified else check.exit_code


def cenario2_domains(plan: InstitutionPlan) -> list[str]:
    return sorted({domain_of(i.name) for i in plan.identities if i.kind == IdentityKind.EMAIL})


def plan_verdicts(plans: Iterable[InstitutionPlan], lookups: DmarcLookups | None = None) -> dict[str, DmarcVerdict]:
    """Every Cenário 2 domain of these institutions, looked up together (one query per name)."""
    return (lookups or DmarcLookups()).verdicts(d for plan in plans for d in cenario2_domains(plan))


def deliverability_lines(ready: Deliverability) -> list[str]:
    """The deliverability of a sender in words, for verify's table."""
    if ready.state in (READY, UNCHECKED):
        return ([f"DMARC note: {ready.note}"] if ready.note else []) + (
            [f"alignment: {ready.alignment}"] if ready.alignment else [])
    lines = [f"deliverability: {ready.summary}" + (f": {ready.reason}" if ready.reason else "")]
    if ready.way_out:
        lines.append(f"way out: {ready.way_out}")
    return lines
