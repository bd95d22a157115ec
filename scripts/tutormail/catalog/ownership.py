"""Tenants never cross: what one institution file claims, no other file may claim.

A claim is a domain (a `dns` entry's, or the domain of an account's address), an address, or a
Route 53 hosted zone id. Two files may not claim the same address or zone, nor two domains of
which one is the other or under it. Each conflict is reported on every checked file involved,
naming the other file, so that `validate one.yaml` fails as `validate` of the directory does.

Claims are read leniently from the raw document, value by value, so that a file that is
invalid elsewhere still holds on to what it names: the check cannot be dodged by breaking
another field of the file that claims first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tutormail.catalog.checker import where
from tutormail.catalog.names import Address, to_ascii_domain
from tutormail.catalog.problems import Problem
from tutormail.catalog.yaml_reader import line_of


@dataclass(frozen=True)
class Claim:
    kind: str  # domain | address | zone
    value: str  # A-labels for domains, ascii for addresses
    file: str
    field: str
    line: int = 0
    via_address: str | None = None  # a domain claimed through this address

    def describe(self) -> str:
        return f"{self.file} ({self.field})"


def _domain(value: Any) -> str | None:
    try:
        return to_ascii_domain(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _dns_claims(doc: Mapping, file: str) -> Iterable[Claim]:
    entries = doc.get("dns")
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, Mapping):
            continue
        if domain := _domain(entry.get("domain")):
            yield Claim("domain", domain, file, f"dns[{index}].domain", line_of(entry, "domain"))
        zone = entry.get("hosted_zone_id")
        if isinstance(zone, str) and zone:
            yield Claim("zone", zone, file, f"dns[{index}].hosted_zone_id", line_of(entry, "hosted_zone_id"))


def _account_claims(accounts: Mapping, prefix: str, file: str) -> Iterable[Claim]:
    for name, value in accounts.items():
        raw = value.get("email") if isinstance(value, Mapping) else value
        try:
            address = Address.parse(raw)
        except ValueError:
            continue
        field, line = where(f"{prefix}.accounts", name), line_of(accounts, name)
        yield Claim("address", address.ascii, file, field, line)
        yield Claim("domain", address.domain, file, field, line, via_address=address.ascii)


def claims_of(doc: Any, file: str) -> list[Claim]:
    """Everything a document names that must be its institution's alone."""
    if not isinstance(doc, Mapping):
        return []
    found = list(_dns_claims(doc, file))
    companies = doc.get("companies")
    for index, company in enumerate(companies if isinstance(companies, list) else []):
        accounts = company.get("accounts") if isinstance(company, Mapping) else None
        if isinstance(accounts, Mapping):
            found.extend(_account_claims(accounts, f"companies[{index}]", file))
    return found


def _ancestors(domain: str) -> Iterable[str]:
    """The domain itself and every parent of it."""
    labels = domain.split(".")
    return (".".join(labels[i:]) for i in range(len(labels)))


def _conflict(claim: Claim, other: Claim) -> str | None:
    if claim.kind == "address":
        return f"{claim.value} is also claimed by {other.describe()}: an address belongs to one institution"
    if claim.kind == "zone":
        return (f"hosted zone {claim.value} is also used by {other.describe()}: a zone belongs to one "
                "institution")
    if claim.via_address and claim.via_address == other.via_address:
        return None  # the same address: reported once, as an address
    relation = "is also claimed" if claim.value == other.value else f"overlaps {other.value}, claimed"
    return (f"{claim.value} {relation} by {other.describe()}: a domain and its sub-domains belong to one "
            "institution")


def _pairs(claims: list[Claim]) -> Iterable[tuple[Claim, Claim]]:
    """Every (claim, other) of different files that conflict, both ways round."""
    by_key: dict[tuple[str, str], list[Claim]] = defaultdict(list)
    for claim in claims:
        by_key[(claim.kind, claim.value)].append(claim)
    for claim in claims:
        keys = ([("domain", a) for a in _ancestors(claim.value)] if claim.kind == "domain"
                else [(claim.kind, claim.value)])
        for key in keys:
            for other in by_key.get(key, ()):
                if other.file != claim.file:
                    yield claim, other
                    yield other, claim


def conflicts(claims: list[Claim], checked: set[str]) -> list[Problem]:
    """A problem for each conflicting claim of a file in `checked` (display paths), one per other
    file and value it runs into, listing every field of that file that claims the value."""
    found: dict[tuple[Claim, str, str], set[str]] = defaultdict(set)
    for claim, other in _pairs(claims):
        if claim.file in checked and _conflict(claim, other):
            found[(claim, other.file, other.value)].add(other.field)
    problems = set()
    for (claim, file, value), fields in found.items():
        other = Claim(claim.kind, value, file, ", ".join(sorted(fields)))
        problems.add(Problem(claim.file, claim.line, claim.field, _conflict(claim, other)))
    return sorted(problems)
