"""`dns-publish`: what happens to each domain identity's records, decided by where its DNS is.

Route 53 zones are the stack's, a `manual` domain is a person's (we list the records), and an
RFC 2136 server gets one TSIG-signed update of exactly the record sets we own: planned from what
the server holds (reads only), then, unless a dry run, applied.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutormail.aws.ses import Ses
from tutormail.cenario1.records import DomainRecords, as_rows, domain_records
from tutormail.cenario1.rfc2136_changes import load_key, plan_changes
from tutormail.dnsclient.resolver import DnsEndpoints
from tutormail.dnsclient.rfc2136 import PublishError, send_update, server_address
from tutormail.exitcodes import Exit, worst
from tutormail.plan.build import InstitutionPlan
from tutormail.plan.change import Change, Outcome, Plan, apply, exit_code
from tutormail.vocabulary import Provider

log = logging.getLogger("tutormail")


@dataclass(frozen=True)
class PublishOptions:
    dry_run: bool = False
    key_file: Path | None = None  # instead of the secret named in the file


@dataclass
class Published:
    """One domain: its changes (planned, or applied), and in words where it stands."""
    domain: str
    provider: str
    result: str = ""
    changes: list[Change] = field(default_factory=list)
    server: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)  # a manual domain's, for the person

    def as_dict(self) -> dict[str, Any]:
        return {"domain": self.domain, "provider": self.provider, "result": self.result, "server": self.server,
                "changes": [c.as_dict() for c in self.changes], "records": self.records}


def plan_rfc2136(item: DomainRecords, plan: InstitutionPlan, address: str, port: int, options: PublishOptions,
                 load: Callable = load_key, update: Callable = send_update, compare: Callable = plan_changes) -> Plan:
    """The record sets to write (reads only): one signed update carries them all, so the first
    write sends it and the others share its outcome."""
    planned, identity = Plan(), item.identity
    changes = compare(item, address, port)
    todo = [c for c in changes if c.writes]
    first = next((n for n, c in enumerate(changes) if c.writes), None)

    def send(done: list[Change]) -> Outcome:
        update(identity.update_zone, todo, load(identity.dns, plan.platform.region, options.key_file), address, port)
        return Outcome.DONE

    for position, change in enumerate(changes):
        same = (lambda done, first=first: done[first].outcome) if position != first else send
        planned.add(change, same if change.writes else None)
    return planned


def _rfc2136(item: DomainRecords, plan: InstitutionPlan, endpoints: DnsEndpoints, options: PublishOptions,
             found: Published, **seams: Callable) -> Exit:
    address, port = server_address(item.identity.dns, endpoints)
    found.server = f"{address}:{port}"
    planned = plan_rfc2136(item, plan, address, port, options, **seams)
    found.changes = planned.changes
    people = [c for c in planned.changes if c.for_a_person]
    if people:  # nothing is written while a person must decide
        raise PublishError("; ".join(f"{c.name} {c.type}: {c.reason}" for c in people), Exit.ACTION_NEEDED)
    todo = sum(c.writes for c in planned.changes)
    if not todo:
        found.result = "nothing to do: every record is already there"
    elif options.dry_run:
        found.result = f"dry run: {todo} record set(s) would be written"
    else:
        found.changes = apply(planned)
        found.result = f"updated: {todo} record set(s) written in one signed update"
    return exit_code(found.changes)


def publish_domain(item: DomainRecords, plan: InstitutionPlan, endpoints: DnsEndpoints, options: PublishOptions,
                   **rfc2136: Callable) -> tuple[Published, Exit]:
    identity = item.identity
    found = Published(identity.name, identity.provider)
    if identity.provider == Provider.ROUTE53:
        found.result = "published by the stack (Route 53): nothing to do here"
        return found, Exit.OK
    if identity.provider == Provider.MANUAL:  # nothing for dns-publish to write: `verify` checks them
        found.result = "a person must publish these records (tutormail dns-records --format zone)"
        found.records = as_rows([item])
        return found, Exit.OK
    if not item.tokens_known:
        found.result = "the identity is not in SES yet: deploy the stack first"
        return found, Exit.ACTION_NEEDED
    try:
        code = _rfc2136(item, plan, endpoints, options, found, **rfc2136)
    except PublishError as exc:
        found.result = f"error: {exc}"
        log.error("%s: %s", identity.name, exc)
        code = exc.exit_code
    return found, code


def publish_institution(plan: InstitutionPlan, ses: Ses, endpoints: DnsEndpoints, options: PublishOptions,
                        **rfc2136: Callable) -> tuple[list[Published], Exit]:
    """Every domain identity of the institution; one that fails does not stop the others."""
    outcomes = [publish_domain(item, plan, endpoints, options, **rfc2136) for item in domain_records(plan, ses)]
    return [entry for entry, _ in outcomes], worst(code for _, code in outcomes)
