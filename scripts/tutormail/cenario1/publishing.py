"""`dns-publish`: what happens to each domain identity's records, decided by where its DNS is.

Route 53 zones are the stack's, a `manual` domain is a person's (we list the records), and an
RFC 2136 server gets one TSIG-signed update of exactly the record sets we own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutormail.aws.ses import Ses
from tutormail.cenario1.publish import load_key, plan_changes
from tutormail.cenario1.records import DomainRecords, as_rows, domain_records
from tutormail.dnsclient.resolver import DnsEndpoints
from tutormail.dnsclient.rfc2136 import PublishError, send_update, server_address
from tutormail.exitcodes import Exit, worst
from tutormail.plan.build import InstitutionPlan
from tutormail.vocabulary import Provider

log = logging.getLogger("tutormail")


@dataclass(frozen=True)
class PublishOptions:
    dry_run: bool = False
    key_file: Path | None = None  # instead of the secret named in the file


def _rfc2136(item: DomainRecords, plan: InstitutionPlan, endpoints: DnsEndpoints, options: PublishOptions,
             entry: dict[str, Any], load: Callable = load_key, update: Callable = send_update,
             compare: Callable = plan_changes) -> Exit:
    identity = item.identity
    address, port = server_address(identity.dns, endpoints)
    changes = compare(item, address, port)
    entry["server"] = f"{address}:{port}"
    entry["changes"] = [{"name": c.name, "type": c.type, "action": c.action, "wanted": list(c.wanted),
                         "found": list(c.found), "reason": c.reason or None} for c in changes]
    todo = [c for c in changes if c.writes]
    conflicts = [c for c in changes if c.action == "conflict"]
    if conflicts:  # nothing is written while a person must decide
        raise PublishError("; ".join(f"{c.name} {c.type}: {c.reason}" for c in conflicts), Exit.ACTION_NEEDED)
    if not todo:
        entry["result"] = "nothing to do: every record is already there"
    elif options.dry_run:
        entry["result"] = f"dry run: {len(todo)} record set(s) would be written"
    else:
        update(identity.update_zone, todo, load(identity.dns, plan.platform.region, options.key_file), address, port)
        entry["result"] = f"updated: {len(todo)} record set(s) written in one signed update"
    return Exit.OK


def publish_domain(item: DomainRecords, plan: InstitutionPlan, endpoints: DnsEndpoints, options: PublishOptions,
                   **rfc2136: Callable) -> tuple[dict[str, Any], Exit]:
    identity = item.identity
    entry: dict[str, Any] = {"domain": identity.name, "provider": identity.provider, "changes": []}
    if identity.provider == Provider.ROUTE53:
        entry["result"] = "published by the stack (Route 53): nothing to do here"
        return entry, Exit.OK
    if identity.provider == Provider.MANUAL:
        entry["result"] = "a person must publish these records (tutormail dns-records --format zone)"
        entry["changes"] = as_rows([item])
        return entry, Exit.OK
    if not item.tokens_known:
        entry["result"] = "the identity is not in SES yet: deploy the stack first"
        return entry, Exit.ACTION_NEEDED
    try:
        return entry, _rfc2136(item, plan, endpoints, options, entry, **rfc2136)
    except PublishError as exc:
        entry["result"] = f"error: {exc}"
        log.error("%s: %s", identity.name, exc)
        return entry, exc.exit_code


def publish_institution(plan: InstitutionPlan, ses: Ses, endpoints: DnsEndpoints, options: PublishOptions,
                        **rfc2136: Callable) -> tuple[list[dict[str, Any]], Exit]:
    """Every domain identity of the institution; one that fails does not stop the others."""
    outcomes = [publish_domain(item, plan, endpoints, options, **rfc2136) for item in domain_records(plan, ses)]
    return [entry for entry, _ in outcomes], worst(code for _, code in outcomes)
