"""`request-link`: which selected addresses get a new SES link, and what each answer means."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
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


@dataclass(frozen=True)
class LinkRequest:
    """One address: whether SES mailed it a new link, and in words why (not); `as_dict()` is its JSON."""
    identity: str
    result: str
    exit_code: Exit
    sent_at: datetime | None = None  # set when SES mailed a link
    expires_at: datetime | None = None
    links_sent: int = 0  # as recorded, a parallel run's links counted
    dmarc_warning: str | None = None

    @property
    def sent(self) -> bool:
        return self.sent_at is not None

    def as_dict(self) -> dict[str, Any]:
        data = {"identity": self.identity, "result": self.result, "sent": self.sent}
        if self.sent:  # an address mailed no link has these keys absent, not null
            data |= {"sent_at": iso(self.sent_at), "expires_at": iso(self.expires_at), "links_sent": self.links_sent,
                     "dmarc_warning": self.dmarc_warning}
        return data


@dataclass(frozen=True)
class LinkRequests:
    """`request-link` of one institution: every selected Cenário 2 address."""
    institution: str
    links: list[LinkRequest]

    @property
    def exit_code(self) -> Exit:
        return worst(link.exit_code for link in self.links)

    def as_dict(self) -> dict[str, Any]:
        """`request-link --output json` (the CLI adds schema_version)."""
        return {"institution": self.institution, "links": [link.as_dict() for link in self.links]}


def _request_one(plan: InstitutionPlan, ses: Ses, progress: Progress, recorded: dict[str, str], name: str,
                 clock: Clock, warning: str | None, force: bool) -> LinkRequest:
    state = ses.identity(name)
    if not state.exists:
        return LinkRequest(name, f"not in SES: deploy {plan.stack_name} first", Exit.ACTION_NEEDED)
    if state.verified_for_sending:
        return LinkRequest(name, "already verified: no link needed", Exit.OK)
    try:
        link, _ = request_link(ses, recorded, name, plan.platform.link_validity_hours, clock, force=force)
    except LinkRefused as exc:
        return LinkRequest(name, f"not sent: {exc}", Exit.PENDING)
    written = record_link(progress, recorded, name, iso(link.sent_at))
    count = link_state(written, name, plan.platform.link_validity_hours).count
    return LinkRequest(name, f"SES mailed a new link to {name}; it must be opened before {iso(link.expires_at)}",
                       Exit.PENDING, link.sent_at, link.expires_at, count, warning)


def request_links(plan: InstitutionPlan, ses: Ses, progress: Progress, clock: Clock, endpoints: DnsEndpoints,
                  company: str | None, account: str | None, force: bool = False) -> LinkRequests:
    names = sorted({s.identity for s in select_senders(plan, company, account) if s.scenario == Scenario.LINK})
    if not names:
        raise ConfigurationError([Problem(plan.institution.source, 0, "accounts",
                                          "no selected account is verified by link (Cenário 2)")])
    recorded = progress.read()
    verdicts = DmarcLookups(endpoints).verdicts(domain_of(name) for name in names)
    links = []
    for name in names:
        warning = verdicts[domain_of(name)].warning
        if warning:
            log.warning("DMARC: %s", warning)
        links.append(_request_one(plan, ses, progress, recorded, name, clock, warning, force))
    return LinkRequests(plan.slug, links)
