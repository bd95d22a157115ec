"""`tutormail preflight`: for every name an institution's deploy and dns-publish would write, what is
there now, whether its SES identities already exist (and whether our stack manages them), the SES
account's state, and each conflict with the action to take.

CloudFormation and Route 53 create, they never adopt or overwrite (sandbox/moto_ext cites the pages);
a conflict found here is one a deploy would fail on, or one we refuse (dns-publish, DMARC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dns.exception

from tutormail.aws import client as aws
from tutormail.aws.cloudformation import stack_physical_ids
from tutormail.aws.route53 import hosted_zone_name, record_sets
from tutormail.aws.ses import Ses, account_view
from tutormail.catalog.fields import DMARC_POLICIES
from tutormail.catalog.names import is_same_or_subdomain
from tutormail.cenario1.records import DomainRecords, records_for
from tutormail.cenario1.rfc2136_changes import decide
from tutormail.dnsclient.rdata import comparable, txt_text
from tutormail.dnsclient.resolver import SYSTEM, DnsEndpoints, ask, authoritative_servers, txt_values, zone_of
from tutormail.dnsclient.rfc2136 import PublishError
from tutormail.exitcodes import Exit, worst
from tutormail.plan.build import Identity, InstitutionPlan, dmarc_value
from tutormail.preflight.dmarc import DmarcCheck
from tutormail.preflight.dmarc import check as dmarc_check
from tutormail.vocabulary import IdentityKind, Provider


@dataclass(frozen=True)
class NameCheck:
    identity: str
    name: str
    type: str
    purpose: str
    source: str  # route53 API | the authoritative server asked
    found: tuple[str, ...]
    action: str  # nothing | add | keep | conflict | change
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"identity": self.identity, "name": self.name, "type": self.type, "purpose": self.purpose,
                "source": self.source, "found": list(self.found), "action": self.action, "reason": self.reason}


@dataclass(frozen=True)
class ExistingIdentity:
    identity: str
    exists: bool
    managed_by_stack: bool
    conflict: str

    def as_dict(self) -> dict[str, Any]:
        return {"identity": self.identity, "exists": self.exists, "managed_by_stack": self.managed_by_stack,
                "conflict": self.conflict}


@dataclass(frozen=True)
class Preflight:
    """One institution's preflight; `as_dict()` is its entry in `preflight --output json`."""
    institution: str
    identities: list[ExistingIdentity] = field(default_factory=list)
    names: list[NameCheck] = field(default_factory=list)
    dmarc: list[DmarcCheck] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    error: str | None = None  # AWS or the DNS failed: the checks above were not made

    @property
    def exit_code(self) -> Exit:
        if self.error is not None:
            return Exit.SERVICE_ERROR
        return Exit.ACTION_NEEDED if self.conflicts else Exit.OK

    def as_dict(self) -> dict[str, Any]:
        if self.error is not None:  # what was not read is absent, not shown as empty
            return {"institution": self.institution, "error": self.error, "conflicts": self.conflicts,
                    "exit_code": int(self.exit_code)}
        return {"institution": self.institution, "identities": [c.as_dict() for c in self.identities],
                "names": [n.as_dict() for n in self.names], "dmarc": [d.as_dict() for d in self.dmarc],
                "conflicts": self.conflicts, "exit_code": int(self.exit_code)}


@dataclass(frozen=True)
class PreflightRun:
    """The preflight of the institutions asked for, and the SES account's state read once."""
    account: dict[str, Any]
    account_summary: str | None
    institutions: list[Preflight]

    @property
    def exit_code(self) -> Exit:
        return worst(p.exit_code for p in self.institutions)  # 4 (AWS or the DNS failed) wins over 1

    def as_dict(self) -> dict[str, Any]:
        return {"exit_code": int(self.exit_code), "account": self.account, "account_summary": self.account_summary,
                "institutions": [p.as_dict() for p in self.institutions]}


def _normal(rtype: str, values) -> tuple[str, ...]:
    return tuple(sorted(comparable(rtype, v) for v in values))


class Route53Names:
    """Record sets of one hosted zone (aws/route53.py), by name and type; with `under`, only the
    names at and below that name."""

    def __init__(self, client: Any, zone_id: str, under: str | None = None):
        self.sets: dict[tuple[str, str], tuple[str, ...]] = {}
        self.ttls: dict[tuple[str, str], int | None] = {}
        self.listed: dict[tuple[str, str], dict] = {}  # as listed: what a DELETE must name exactly
        for rrset in record_sets(client, zone_id, under):
            key = (rrset["Name"].lower().rstrip("."), rrset["Type"])
            values = [r["Value"] for r in rrset.get("ResourceRecords", [])]
            self.sets[key], self.listed[key] = _normal(rrset["Type"], values), rrset
            self.ttls[key] = rrset.get("TTL")

    def get(self, name: str, rtype: str) -> tuple[str, ...]:
        return self.sets.get((name.lower().rstrip("."), rtype), ())


def _dns_lookup(domain: str, endpoints: DnsEndpoints):
    """The first authoritative server of the domain's zone that answers (rfc2136 and manual domains)."""
    try:
        servers = [address for _, address in authoritative_servers(zone_of(domain, endpoints), endpoints) if address]
    except dns.exception.DNSException as exc:
        raise PublishError(f"cannot find the authoritative servers of {domain}: {exc.__class__.__name__}",
                           Exit.SERVICE_ERROR) from None

    def lookup(name: str, rtype: str) -> tuple[tuple[str, ...], str]:
        for address in servers:
            answer = ask(address, name, rtype, port=endpoints.direct_port, timeout=endpoints.timeout)
            if answer.outcome in ("ok", "nodata", "nxdomain"):
                return _normal(rtype, answer.values), address
        raise PublishError(f"no authoritative server of {domain} answered for {name} {rtype}", Exit.SERVICE_ERROR)
    return lookup


def name_lookup(identity: Identity, route53: Any, endpoints: DnsEndpoints = SYSTEM):
    """lookup(name, type) -> (values, where asked): the Route 53 API for a zone of ours, else the domain's
    authoritative servers."""
    if identity.provider != Provider.ROUTE53:
        return _dns_lookup(identity.name, endpoints)
    listed = Route53Names(route53, identity.hosted_zone_id)

    def lookup(name: str, rtype: str) -> tuple[tuple[str, ...], str]:
        return listed.get(name, rtype), "Route 53 API"
    # The stack takes over a record set only if it is identical, TTL included (_check_name).
    lookup.ttl = lambda name, rtype: listed.ttls.get((name.lower().rstrip("."), rtype))
    return lookup


def txt_fetch(identity: Identity, lookup, endpoints: DnsEndpoints = SYSTEM):
    """fetch(name) -> TXT strings, for the DMARC discovery: names in the identity's zone as `lookup` sees
    them (a Route 53 record not yet served anywhere included), others through the resolver."""
    zone = identity.zone_name if identity.provider == Provider.ROUTE53 else identity.name

    def fetch(name: str) -> list[str]:
        if is_same_or_subdomain(name, zone):
            return [txt_text(value) for value in lookup(name, "TXT")[0]]
        return txt_values(name, endpoints)
    return fetch


def _stack_dmarc(identity: Identity, purpose: str, found: tuple[str, ...], managed: bool) -> bool:
    """The DMARC record our deployed stack wrote with an earlier dmarc_policy: the deploy updates its own
    record set (a record the stack took over was identical to what it wrote, so it is ours as well)."""
    ours = {(comparable("TXT", dmarc_value(policy)),) for policy in DMARC_POLICIES}
    return identity.provider == Provider.ROUTE53 and managed and purpose == "dmarc" and found in ours


def _other_ttl(lookup, name: str, rtype: str, ttl: int, found: tuple[str, ...], managed: bool) -> int | None:
    """The TTL of a Route 53 record set with our values but another TTL, which a first deploy cannot
    take over: CloudFormation's CREATE takes over only an identical record set, TTL included
    (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html,
    sandbox/moto_ext/route53_conflicts.py). The deployed stack's own record sets it updates."""
    ttl_of = getattr(lookup, "ttl", None)
    there = ttl_of(name, rtype) if ttl_of is not None and found and not managed else None
    return there if there is not None and int(there) != ttl else None


def _check_name(identity: Identity, name: str, rtype: str, wanted: tuple[str, list[str], int], lookup,
                managed: bool) -> NameCheck:
    purpose, values, ttl = wanted
    found, source = lookup(name, rtype)
    cname = lookup(name, "CNAME")[0] if rtype != "CNAME" else ()
    want = _normal(rtype, values)
    action, reason = decide(purpose, found, want, cname)
    if _stack_dmarc(identity, purpose, found, managed) and found != want:
        action, reason = "change", "the stack's own record, from an earlier dmarc_policy: the deploy updates it"
    elif identity.provider == Provider.ROUTE53 and found and found != want and action != "conflict":
        # The stack creates its record sets and takes over only identical ones: it would fail here.
        action, reason = "conflict", (f"{' '.join(found)} is published there and the stack would write "
                                      f"{' '.join(want)}: the deploy fails (Route 53 CREATE); remove or "
                                      "change the record first")
    elif identity.provider == Provider.ROUTE53 and found == want and (
            there := _other_ttl(lookup, name, rtype, ttl, found, managed)) is not None:
        action, reason = "conflict", (f"the same values are published with TTL {there} and the stack writes TTL "
                                      f"{ttl}: the deploy fails (Route 53 CREATE takes over only an identical "
                                      f"record set); set the record's TTL to {ttl} or remove it first")
    return NameCheck(identity.name, name, rtype, purpose, source, found, action, reason)


def check_names(item: DomainRecords, lookup, managed: bool = False) -> list[NameCheck]:
    """`managed`: the identity is in our deployed stack, whose record sets a deploy may update."""
    wanted: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for record in item.records:
        if record.purpose == "dkim" and not item.tokens_known:
            continue  # the names come with SES's tokens: random, nobody else has them
        wanted.setdefault((record.name, record.type), (record.purpose, [], record.ttl))[1].append(record.value)
    return [_check_name(item.identity, name, rtype, want, lookup, managed) for (name, rtype), want in wanted.items()]


def check_identities(plan: InstitutionPlan, ses: Ses, cloudformation: Any) -> list[ExistingIdentity]:
    managed = stack_physical_ids(cloudformation, plan.stack_name, "AWS::SES::EmailIdentity")
    checks = []
    for identity in plan.identities:
        exists = ses.identity(identity.name).exists
        conflict = ""
        if exists and identity.name not in managed:
            conflict = (f"{identity.name} exists in SES outside {plan.stack_name}: a deploy fails with AlreadyExists. "
                        "Delete it if nothing sends with it, or bring it under the stack with `cdk import` "
                        "(README: An SES identity that already exists)")
        checks.append(ExistingIdentity(identity.name, exists, identity.name in managed, conflict))
    return checks


def check_zones(plan: InstitutionPlan, route53: Any) -> list[str]:
    """Each Route 53 zone id the files name must be the zone of that name: two files that swap their
    ids would pass every record check (each zone is listed, just the wrong one) and the deploy would
    then write DKIM records into the other zone or fail."""
    conflicts = []
    zones = sorted({(i.hosted_zone_id, i.zone_name) for i in plan.identities if i.provider == Provider.ROUTE53})
    for zone_id, zone_name in zones:
        name = hosted_zone_name(route53, zone_id)
        if name is None:
            conflicts.append(f"hosted zone {zone_id}: does not exist in this account; set the id of the zone "
                             f"{zone_name}")
        elif name != zone_name:
            conflicts.append(f"hosted zone {zone_id} is {name}, not {zone_name}: set the id of the zone "
                             f"{zone_name} in the file (is it another file's?)")
    return conflicts


def preflight(plan: InstitutionPlan, ses: Ses, cloudformation: Any, route53: Any,
              endpoints: DnsEndpoints = SYSTEM) -> Preflight:
    zones = check_zones(plan, route53)
    identities = check_identities(plan, ses, cloudformation)
    names: list[NameCheck] = []
    dmarc: list[DmarcCheck] = []
    for identity in plan.identities:
        if identity.kind == IdentityKind.DOMAIN:
            lookup = name_lookup(identity, route53, endpoints)
            managed = any(c.identity == identity.name and c.managed_by_stack for c in identities)
            names += check_names(records_for(plan, identity, ses.identity(identity.name)), lookup, managed)
            dmarc.append(dmarc_check(identity, txt_fetch(identity, lookup, endpoints)))
    conflicts = zones + [c.conflict for c in identities if c.conflict]
    conflicts += [f"{n.name} {n.type}: {n.reason}" for n in names if n.action == "conflict"]
    conflicts += [f"_dmarc.{d.identity} TXT: {d.conflict}" for d in dmarc if d.conflict]
    return Preflight(plan.slug, identities, names, dmarc, conflicts)


def run(plans: list[InstitutionPlan], ses: Ses, cloudformation: Any, route53: Any,
        endpoints: DnsEndpoints = SYSTEM) -> PreflightRun:
    """Every institution, and the account's state once; a service failure of one is reported and the
    others go on."""
    account, summary = account_view(plans[0].platform) if plans else ({}, "")
    reports = []
    for plan in plans:
        try:
            reports.append(preflight(plan, ses, cloudformation, route53, endpoints))
        except (aws.ServiceError, PublishError) as exc:
            reports.append(Preflight(plan.slug, error=str(exc)))
    return PreflightRun(account, summary, reports)
