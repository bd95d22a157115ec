"""`status`: where every institution, company and account stands, read in batches.

AWS calls: SES ListEmailIdentities (up to 1000 identities a page) and a Scan of the DynamoDB
progress table (a page per 1 MB: links sent, phases 2 and 3; see aws/progress_marks.py), plus
ListSecrets pages only while some institution's old secret tags are not migrated. Nothing is
read per identity. DMARC look-ups: one per distinct domain, concurrently (cenario2/dmarc.py); a
verified sender blocked by DMARC stands at "1 blocked by DMARC" (verification/deliverability.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tutormail.aws.progress_marks import RELEASED, TESTED
from tutormail.aws.ses import IdentityState
from tutormail.catalog.model import Catalog
from tutormail.clock import iso
from tutormail.exitcodes import Exit, worst
from tutormail.plan.build import InstitutionPlan, Sender, build_plan
from tutormail.reputation.health import Health, SendingColumns, health_columns
from tutormail.reputation.use_cases import fleet_health
from tutormail.services import Services
from tutormail.verification.deliverability import (
    UNCHECKED,
    Deliverability,
    deliverability,
    plan_verdicts,
    readiness_code,
)
from tutormail.verification.identity_check import INSTITUTION, PLATFORM, IdentityCheck, check_identity
from tutormail.vocabulary import SenderState, TutorAdvice, VerificationStatus

log = logging.getLogger("tutormail")
CONFIGURE, NOT_YET = TutorAdvice.CONFIGURE, TutorAdvice.NOT_YET


@dataclass
class StatusRow:
    """One account of one company of one institution; `as_dict` is its row of `status --output json`.
    The sweep fills what its batched reads give; the parts after `tutor` are filled later by their
    own reads, and stay None (null in the JSON) until then."""
    institution: str
    company: str
    account: str
    address: str
    scenario: int
    state: SenderState
    phase: str
    missing: str | None
    next_action: str
    actor: str
    link_expires_at: str | None
    deliverability: Deliverability
    tutor: TutorAdvice
    health: SendingColumns = field(default_factory=SendingColumns)  # status_with_health
    drift: list[str] | None = None  # fleet/drift.py add_drift; None without --drift
    drift_unchecked: list[str] | None = None
    received: int | None = None  # cli/status.py add_received; None when the platform receives nothing

    @property
    def dmarc_warning(self) -> str | None:
        return self.deliverability.verdict.warning if self.deliverability.verdict else None

    def as_dict(self) -> dict[str, Any]:
        return {"institution": self.institution, "company": self.company, "account": self.account,
                "address": self.address, "scenario": self.scenario, "state": self.state, "phase": self.phase,
                "missing": self.missing, "next_action": self.next_action, "actor": self.actor,
                "link_expires_at": self.link_expires_at, "dmarc_warning": self.dmarc_warning,
                "deliverability": self.deliverability.as_dict(), "tutor": self.tutor,
                **self.health.as_dict(),
                "drift": self.drift, "drift_unchecked": self.drift_unchecked, "received": self.received}


def status_with_health(catalog: Catalog, services: Services, dns_checks: bool = True
                       ) -> tuple[list[StatusRow], int, dict[str, Health]]:
    """`status`: the sweep with each institution's sending health (issue 14) in its rows; the
    progress marks are read once for both. A paused institution needs a person (exit 1)."""
    slugs = list(catalog.institutions)
    marks = services.fleet_marks(catalog.platform, slugs)
    rows, code = sweep(catalog, slugs, services, dns_checks=dns_checks, marks=marks)
    health = {h.slug: h for h in fleet_health(catalog, slugs, marks=marks)}
    for row in rows:
        row.health = health_columns(health[row.institution])
    return rows, worst([code, *(Exit.ACTION_NEEDED for h in health.values() if h.paused)]), health


def phase_of(plan: InstitutionPlan, sender: Sender, check: IdentityCheck, progress: dict[str, str]
             ) -> tuple[str, str, str, str]:
    """(phase, next action, who acts, what is missing) of one account, from its identity's check
    and the progress marks: phase 1 until verified, then 2 once released, 3 once tested."""
    if not check.verified:
        return "1 pending", check.next_action, check.actor, check.missing
    if TESTED + sender.address in progress:
        return "3 tested", "none", PLATFORM, ""
    if RELEASED + sender.address in progress:
        return ("2 settings released", "the institution fills in Contas de E-mail and runs the phase 3 test",
                INSTITUTION, "phase 3 test")
    return ("1 verified", f"hand over the settings: tutormail smtp-settings {plan.slug} --reveal", PLATFORM,
            "settings not yet released")


def sweep(catalog: Catalog, slugs: Iterable[str], services: Services, dns_checks: bool = True,
          marks: dict[str, dict[str, str]] | None = None) -> tuple[list[StatusRow], int]:
    """`marks`: services.fleet_marks() when the caller needs them too (status's health columns)."""
    statuses = services.ses(catalog.platform).statuses()
    plans = [build_plan(catalog.institutions[slug], catalog.platform) for slug in slugs]
    tags = marks if marks is not None else services.fleet_marks(catalog.platform, [p.slug for p in plans])
    # one query per distinct domain, concurrent
    dmarc = plan_verdicts(plans, services.lookups) if dns_checks else None
    rows, codes = [], []
    for number, plan in enumerate(plans, start=1):
        if number % 100 == 0:
            log.info("status: %d of %d institutions", number, len(plans))
        secret = tags.get(plan.slug, {})
        states: dict[str, IdentityState] = {}
        for identity in plan.identities:
            status = statuses.get(identity.name)
            states[identity.name] = (IdentityState(identity.name, exists=False) if status is None else
                                     IdentityState(identity.name, True, status, status == VerificationStatus.SUCCESS))
        for sender in plan.senders:
            check = check_identity(plan, sender.identity, states[sender.identity], services.clock, secret)
            phase, action, actor, missing = phase_of(plan, sender, check, secret)
            ready = deliverability(plan, sender.identity, check.scenario, dmarc, secret)
            if check.verified and ready.holds_back:
                phase, action, actor, missing = ready.phase, ready.way_out, ready.actor, ready.verdict.reason
            elif phase == "1 verified" and ready.state == UNCHECKED:  # --offline: never advise a release unchecked
                phase, missing = "1 verified (DMARC not checked)", "the DMARC check of this Cenário 2 address"
                action = f"check DMARC before handing over: tutormail status {plan.slug} (without --offline)"
            rows.append(StatusRow(
                plan.slug, sender.company, sender.account, sender.address_display, check.scenario, check.state,
                phase, missing or None, action, actor,
                iso(check.link_expires_at) if check.link_expires_at else None, ready,
                # Readiness is per account: configure this one in Tutor now, or not yet (phase and next action say why)
                CONFIGURE if check.verified and not ready.holds_back and ready.state != UNCHECKED else NOT_YET))
            codes.append(readiness_code(check, ready))
    return rows, worst(codes)
