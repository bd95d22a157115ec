"""Cenário 1: the records each domain identity needs, with the real DKIM tokens from SES."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from tutormail.aws.ses import IdentityState, Ses
from tutormail.dnsclient.rdata import fqdn, zone_rdata
from tutormail.plan.build import Identity, InstitutionPlan, Record
from tutormail.vocabulary import IdentityKind


@dataclass(frozen=True)
class DomainRecords:
    identity: Identity
    state: IdentityState
    records: tuple[Record, ...]

    @property
    def tokens_known(self) -> bool:
        return bool(self.state.dkim_tokens)

    def record_sets(self) -> dict[tuple[str, str], list[str]]:
        """Values by (name, type): the unit DNS updates and answers come in."""
        sets: dict[tuple[str, str], list[str]] = {}
        for record in self.records:
            sets.setdefault((record.name, record.type), []).append(record.value)
        return sets


def records_for(plan: InstitutionPlan, identity: Identity, state: IdentityState) -> DomainRecords:
    zone = state.signing_hosted_zone or "dkim.amazonses.com"  # SES names the zone when it is another
    return DomainRecords(identity, state, plan.records(identity, state.dkim_tokens or None, signing_zone=zone))


def domain_records(plan: InstitutionPlan, ses: Ses, domain: str | None = None) -> list[DomainRecords]:
    return [records_for(plan, identity, ses.identity(identity.name)) for identity in plan.identities
            if identity.kind == IdentityKind.DOMAIN and (domain is None or identity.name == domain)]


def as_zone(found: list[DomainRecords]) -> str:
    lines = []
    for item in found:
        identity = item.identity
        lines.append(f"; {identity.display}: published by {identity.owner}"
                     + ("" if item.tokens_known else " (DKIM tokens unknown: the identity is not deployed yet)"))
        lines.append(f"$ORIGIN {fqdn(identity.name)}")
        for record in item.records:
            lines.append(f"{fqdn(record.name)} {record.ttl} IN {record.type} {zone_rdata(record.type, record.value)}")
        lines.append("")
    return "\n".join(lines)


def as_rows(found: list[DomainRecords]) -> list[dict]:
    return [{"domain": item.identity.name, "name": r.name, "type": r.type, "value": r.value, "ttl": r.ttl,
             "purpose": r.purpose, "published_by": item.identity.owner, "tokens_known": item.tokens_known}
            for item in found for r in item.records]


def as_csv(found: list[DomainRecords]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["domain", "name", "type", "value", "ttl", "purpose", "published_by"],
                            extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(as_rows(found))
    return buffer.getvalue()
