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
from tutormail.verification.deliverability import deliverability, plan_verdicts, readiness_code
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


def _entry(plan: InstitutionPlan, identity: Identity, check: IdentityCheck, state: IdentityState
           ) -> dict[str, Any]:
    meanings = SES_MEANING if identity.kind == IdentityKind.DOMAIN else LINK_MEANING
    meaning = meanings.get(state.status, state.status).format(hours=plan.platform.dkim_window_hours)
    return {
        "identity": identity.name, "scenario": identity.scenario, "state": check.state,
        "verified": check.verified, "missing": check.missing or None, "next_action": check.next_action,
        "actor": check.actor, "link_expires_at": iso(check.link_expires_at) if check.link_expires_at else None,
        "ses": {"status": state.status, "meaning": meaning},
    }


def _dns_part(plan: InstitutionPlan, identity: Identity, state: IdentityState, endpoints: DnsEndpoints
              ) -> tuple[dict[str, Any], list[Finding], Exit]:
    records = records_for(plan, identity, state)
    findings, problem = check_domain(records, endpoints)
    data = {"problem": problem, "findings": [f.as_dict() for f in findings]}
    # Without DKIM tokens from SES there is nothing to look for yet: SES's state says it all.
    return data, findings, dns_exit_code(findings, problem) if records.tokens_known else Exit.OK


def verify_once(plan: InstitutionPlan, services: Services, options: VerifyOptions) -> tuple[list[dict[str, Any]], Exit]:
    entries, codes = [], []
    ses, progress, clock = services.ses(plan.platform), services.progress(plan), services.clock
    recorded = progress.read()
    verdicts = plan_verdicts([plan], services.lookups)
    for identity in plan.identities:
        state = ses.identity(identity.name)
        if identity.kind == IdentityKind.EMAIL and options.auto_resend:
            state = _resend_if_expired(plan, ses, progress, recorded, identity, state, clock, options)
        check = check_identity(plan, identity.name, state, clock, recorded)
        ready = deliverability(plan, identity.name, identity.scenario, verdicts, recorded)
        entry = _entry(plan, identity, check, state)
        entry["deliverability"] = ready.as_dict()
        code = readiness_code(check, ready)
        findings: list[Finding] = []
        if identity.kind == IdentityKind.DOMAIN:
            entry["ses"].update({"dkim_status": state.dkim_status, "mail_from_domain": state.mail_from_domain,
                                 "mail_from_status": state.mail_from_status,
                                 "mail_from_meaning": MAIL_FROM_MEANING.get(state.mail_from_status or "", None)})
            entry["dns"], findings, dns_code = _dns_part(plan, identity, state, services.dns)
            code = worst([code, dns_code])
        entry["drift"] = identity_drift(check.verified, state.dkim_status, findings)
        if entry["drift"]:  # verified, then changed: someone must act, whatever SES still says
            code = worst([code, Exit.ACTION_NEEDED])
        entry["exit_code"] = int(code)
        entries.append(entry)
        codes.append(code)
    return entries, worst(codes)


def _verification(entries: list[dict[str, Any]]) -> Exit:
    """Where SES and the links stand, without deliverability: what `--wait` waits for (a sender
    blocked by DMARC does not stop the wait while another is pending)."""
    return worst(Exit.OK if e["verified"] else Exit.PENDING if e["state"] == SenderState.PENDING else Exit.ACTION_NEEDED
                 for e in entries)


def verify_institution(plan: InstitutionPlan, services: Services, options: VerifyOptions, deadline: float,
                       monotonic: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
                       ) -> tuple[list[dict[str, Any]], Exit]:
    """One round, or with `wait` rounds with a doubling back-off until SES and the links are no
    longer "pending" or the next round would start after `deadline` (a `monotonic()` instant)."""
    delay = FIRST_DELAY
    while True:
        entries, code = verify_once(plan, services, options)
        if not options.wait or _verification(entries) != Exit.PENDING or monotonic() + delay > deadline:
            return entries, code
        log.info("%s still pending; checking again in %g s", plan.slug, delay)
        sleep(delay)
        delay = min(delay * 2, LONGEST_DELAY)


def verify_and_drift(plan: InstitutionPlan, services: Services, options: VerifyOptions, deadline: float,
                     iam: Any = None) -> tuple[list[dict[str, Any]], Exit, dict[str, list[str]]]:
    """verify_institution, then the age of the institution's SMTP keys (one ListAccessKeys):
    an Active key older than smtp_key_max_age_days is drift (exit 1)."""
    entries, code = verify_institution(plan, services, options, deadline)
    keys = key_drift(plan, access_keys(plan, iam) or [], services.clock.now())
    return entries, worst([code, Exit.ACTION_NEEDED if keys else Exit.OK]), {"smtp_key_drift": keys}
