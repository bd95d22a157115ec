"""`request-link`: which selected addresses get a new SES link, and what each answer means."""

from __future__ import annotations

import logging
from typing import Any

from tutormail.aws.progress_marks import Progress
from tutormail.aws.ses import Ses
from tutormail.catalog.problems import ConfigurationError, Problem
from tutormail.cenario2.dmarc import DmarcLookups, domain_of
from tutormail.cenario2.links import LinkRefused, link_state, record_link, request_link
from tutormail.clock import Clock, iso
from tutormail.dnsclient.resolver import DnsEndpoints
from tutormail.exitcodes import Exit, worst
from tutormail.plan.build import InstitutionPlan
from tutormail.plan.selection import select_senders
from tutormail.vocabulary import Scenario

log = logging.getLogger("tutormail")


def _request_one(plan: InstitutionPlan, ses: Ses, progress: Progress, recorded: dict[str, str], name: str,
                 clock: Clock, warning: str | None, force: bool) -> tuple[dict[str, Any], Exit]:
    state = ses.identity(name)
    if not state.exists:
        return {"identity": name, "result": f"not in SES: deploy {plan.stack_name} first", "sent": False}, \
            Exit.ACTION_NEEDED
    if state.verified_for_sending:
        return {"identity": name, "result": "already verified: no link needed", "sent": False}, Exit.OK
    try:
        link, _ = request_link(ses, recorded, name, plan.platform.link_validity_hours, clock, force=force)
    except LinkRefused as exc:
        return {"identity": name, "result": f"not sent: {exc}", "sent": False}, Exit.PENDING
    written = record_link(progress, recorded, name, iso(link.sent_at))
    count = link_state(written, name, plan.platform.link_validity_hours).count
    return {"identity": name, "sent": True, "sent_at": iso(link.sent_at), "expires_at": iso(link.expires_at),
            "links_sent": count, "dmarc_warning": warning,
            "result": f"SES mailed a new link to {name}; it must be opened before {iso(link.expires_at)}"}, \
        Exit.PENDING


def request_links(plan: InstitutionPlan, ses: Ses, progress: Progress, clock: Clock, endpoints: DnsEndpoints,
                  company: str | None, account: str | None, force: bool = False) -> tuple[list[dict[str, Any]], Exit]:
    names = sorted({s.identity for s in select_senders(plan, company, account) if s.scenario == Scenario.LINK})
    if not names:
        raise ConfigurationError([Problem(plan.institution.source, 0, "accounts",
                                          "no selected account is verified by link (Cenário 2)")])
    recorded = progress.read()
    verdicts = DmarcLookups(endpoints).verdicts(domain_of(name) for name in names)
    results, codes = [], []
    for name in names:
        warning = verdicts[domain_of(name)].warning
        if warning:
            log.warning("DMARC: %s", warning)
        result, code = _request_one(plan, ses, progress, recorded, name, clock, warning, force)
        results.append(result)
        codes.append(code)
    return results, worst(codes)
