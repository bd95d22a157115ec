"""`verify`: where each identity of an institution stands, from SES, the link's history and every
authoritative DNS server, with the link re-requested when asked and a bounded wait.

The exit code of an identity is the worst of what SES says and what the DNS says (README,
"verify's exit code"): a record whose value differs on any authoritative server is not success
(1: someone must fix it), a record still missing on one of them is pending (3: not published or
not yet transferred to a secondary), and a server that does not answer, or answers garbage, is a DNS
failure (4). When the zone's name servers cannot be found at all (the resolver timed out or failed),
the records were not checked: that is 4 too, with the reason, never "verified".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tutormail.aws.progress_marks import Progress
from tutormail.aws.ses import IdentityState, Ses
from tutormail.aws.smtp_keys import access_keys
from tutormail.cenario1.check import MAIL_FROM_MEANING, SES_MEANING, Finding, check_domain, not_checked
from tutormail.cenario1.records import records_for
from tutormail.cenario2.links import LINK_MEANING, link_state, record_link, request_link
from tutormail.clock import Clock, iso
from tutormail.dnsclient.resolver import DnsEndpoints
from tutormail.exitcodes import Exit, worst
from tutormail.plan.build import Identity, InstitutionPlan
from tutormail.services import Services
from tutormail.verification.deliverability import Deliverability, deliverability, plan_verdicts, readiness_code
from tutormail.verification.drift import identity_drift, key_drift
from tutormail.verification.identity_check import IdentityCheck, check_identity
from tutormail.vocabulary import IdentityKind, SenderState

log = logging.getLogger("tutormail")
FIRST_DELAY, LONGEST_DELAY = 1.0, 60.0  # --wait: back-off between rounds, doubling


@dataclass(frozen=True)
class VerifyOptions:
    auto_resend: bool = False
    max_resends: int = 5
    wait: bool = False
    timeout: float = 600.0


def dns_exit_code(findings: list[Finding], problem: str | None) -> Exit:
    """What the authoritative servers say, as an exit code (the rule in the module's docstring)."""
    if not_checked(findings, problem):  # a check that could not run is not one that passed
        return Exit.SERVICE_ERROR
    statuses = {f.status for f in findings}
    if "wrong" in statuses:
        return Exit.ACTION_NEEDED
    if "missing" in statuses:
        return Exit.PENDING
    return Exit.OK


def _resend_if_expired(plan: InstitutionPlan, ses: Ses, progress: Progress, recorded: dict[str, str],
                       identity: Identity, state: IdentityState, clock: Clock, options: VerifyOptions
                       ) -> IdentityState:
    check = check_identity(plan, identity.name, state, clock, recorded)
    link = link_state(recorded, identity.name, plan.platform.link_validity_hours)
    if check.state != SenderState.EXPIRED or link.count >= options.max_resends:
        return state
    sent, _ = request_link(ses, recorded, identity.name, plan.platform.link_validity_hours, clock, force=True)
    record_link(progress, recorded, identity.name, iso(sent.sent_at))
    log.info("%s: the link had expired; a new one was sent (%d of at most %d)", identity.name, link.count + 1,
             options.max_resends)
    return ses.identity(identity.name)


@dataclass(frozen=True)
class DomainSes:
    """A domain identity's DKIM and MAIL FROM as SES reports them (an address has neither)."""

    dkim_status: str | None
    mail_from_domain: str | None
    mail_from_status: str | None

    @property
    def mail_from_meaning(self) -> str | None:
        return MAIL_FROM_MEANING.get(self.mail_from_status or "", None)

    def as_dict(self) -> dict[str, Any]:
        return {"dkim_status": self.dkim_status, "mail_from_domain": self.mail_from_domain,
                "mail_from_status": self.mail_from_status, "mail_from_meaning": self.mail_from_meaning}


@dataclass(frozen=True)
class SesView:
    """SES's verification status of an identity, and what it means for the person reading it."""

    status: str
    meaning: str
    domain: DomainSes | None = None  # None for an address: its keys are absent from the JSON, not null

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "meaning": self.meaning, **(self.domain.as_dict() if self.domain else {})}


@dataclass(frozen=True)
class DnsCheck:
    """A domain's records on every authoritative server, or why the servers could not be asked."""

    problem: str | None
    findings: tuple[Finding, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"problem": self.problem, "findings": [f.as_dict() for f in self.findings]}


@dataclass(frozen=True)
class IdentityVerdict:
    """Where one identity stands; `as_dict()` is its entry in `verify --output json`."""

    check: IdentityCheck
    ses: SesView
    deliverability: Deliverability
    drift: tuple[str, ...]
    exit_code: Exit
    dns: DnsCheck | None = None  # None for an address: no "dns" key in its JSON

    def as_dict(self) -> dict[str, Any]:
        check = self.check
        return {
            "identity": check.identity, "scenario": check.scenario, "state": check.state,
            "verified": check.verified, "missing": check.missing or None, "next_action": check.next_action,
            "actor": check.actor, "link_expires_at": iso(check.link_expires_at) if check.link_expires_at else None,
            "ses": self.ses.as_dict(), "deliverability": self.deliverability.as_dict(), "drift": list(self.drift),
            "exit_code": int(self.exit_code), **({"dns": self.dns.as_dict()} if self.dns else {}),
        }


def _ses_view(plan: InstitutionPlan, identity: Identity, state: IdentityState) -> SesView:
    meanings = SES_MEANING if identity.kind == IdentityKind.DOMAIN else LINK_MEANING
    meaning = meanings.get(state.status, state.status).format(hours=plan.platform.dkim_window_hours)
    if identity.kind != IdentityKind.DOMAIN:
        return SesView(state.status, meaning)
    return SesView(state.status, meaning, DomainSes(state.dkim_status, state.mail_from_domain, state.mail_from_status))


def _dns_part(plan: InstitutionPlan, identity: Identity, state: IdentityState, endpoints: DnsEndpoints
              ) -> tuple[DnsCheck, Exit]:
    records = records_for(plan, identity, state)
    findings, problem = check_domain(records, endpoints)
    # Without DKIM tokens from SES there is nothing to look for yet: SES's state says it all.
    return DnsCheck(problem, tuple(findings)), dns_exit_code(findings, problem) if records.tokens_known else Exit.OK


def verify_once(plan: InstitutionPlan, services: Services, options: VerifyOptions
                ) -> tuple[list[IdentityVerdict], Exit]:
    found: list[IdentityVerdict] = []
    ses, progress, clock = services.ses(plan.platform), services.progress(plan), services.clock
    recorded = progress.read()
    verdicts = plan_verdicts([plan], services.lookups)
    for identity in plan.identities:
        state = ses.identity(identity.name)
        if identity.kind == IdentityKind.EMAIL and options.auto_resend:
            state = _resend_if_expired(plan, ses, progress, recorded, identity, state, clock, options)
        check = check_identity(plan, identity.name, state, clock, recorded)
        ready = deliverability(plan, identity.name, identity.scenario, verdicts, recorded)
        code = readiness_code(check, ready)
        dns = None
        if identity.kind == IdentityKind.DOMAIN:
            dns, dns_code = _dns_part(plan, identity, state, services.dns)
            code = worst([code, dns_code])
        drift = identity_drift(check.verified, state.dkim_status, dns.findings if dns else ())
        if drift:  # verified, then changed: someone must act, whatever SES still says
            code = worst([code, Exit.ACTION_NEEDED])
        found.append(IdentityVerdict(check, _ses_view(plan, identity, state), ready, tuple(drift), code, dns))
    return found, worst(v.exit_code for v in found)


def _verification(found: list[IdentityVerdict]) -> Exit:
    """Where SES and the links stand, without deliverability: what `--wait` waits for (a sender
    blocked by DMARC does not stop the wait while another is pending)."""
    return worst(v.check.exit_code for v in found)


def verify_institution(plan: InstitutionPlan, services: Services, options: VerifyOptions, deadline: float,
                       monotonic: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
                       ) -> tuple[list[IdentityVerdict], Exit]:
    """One round, or with `wait` rounds with a doubling back-off until SES and the links are no
    longer "pending" or the next round would start after `deadline` (a `monotonic()` instant)."""
    delay = FIRST_DELAY
    while True:
        found, code = verify_once(plan, services, options)
        if not options.wait or _verification(found) != Exit.PENDING or monotonic() + delay > deadline:
            return found, code
        log.info("%s still pending; checking again in %g s", plan.slug, delay)
        sleep(delay)
        delay = min(delay * 2, LONGEST_DELAY)


def verify_and_drift(plan: InstitutionPlan, services: Services, options: VerifyOptions, deadline: float,
                     iam: Any = None) -> tuple[list[IdentityVerdict], Exit, dict[str, list[str]]]:
    """verify_institution, then the age of the institution's SMTP keys (one ListAccessKeys):
    an Active key older than smtp_key_max_age_days is drift (exit 1)."""
    found, code = verify_institution(plan, services, options, deadline)
    keys = key_drift(plan, access_keys(plan, iam) or [], services.clock.now())
    return found, worst([code, Exit.ACTION_NEEDED if keys else Exit.OK]), {"smtp_key_drift": keys}
