"""Tenants never cross: what one institution file claims, no other file may claim.

A claim is a domain (a `dns` entry's, or the domain of an account's address), an address, or a
Route 53 hosted zone id. Two files may not claim the same address or zone, nor two domains of
which one is the other or under it. Each conflict is reported on every checked file involved,
naming the other file, so that `validate one.yaml` fails as `validate` of the directory does.

Names and slugs are claimed by how they read: two files may not hold an institution or company
name, nor a slug, that differ yet read alike ("Сосо" in Cyrillic and "Coco" in Latin, `escola1`
and `escolal`): their UTS #39 skeletons are equal (confusables.py). The same name in two files is
not a confusable and is left alone.

Claims are read leniently from the raw document, value by value, so that a file that is
invalid elsewhere still holds on to what it names: the check cannot be dodged by breaking
another field of the file that claims first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutormail.catalog.checker import where
from tutormail.catalog.confusables import skeleton
from tutormail.catalog.names import Address, canonical_name, to_ascii_domain
from tutormail.catalog.problems import Problem
from tutormail.catalog.yaml_reader import line_of


@dataclass(frozen=True)
class Claim:
    kind: str  # domain | address | zone | name | slug
    value: str  # A-labels for domains, ascii for addresses, the skeleton of a name or slug
    file: str
    field: str
    line: int = 0
    via_address: str | None = None  # a domain claimed through this address
    text: str = ""  # a name or slug as written (NFC)

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


def _reading(kind: str, value: Any, file: str, field: str, line: int) -> list[Claim]:
    if not isinstance(value, str) or not value.strip():
        return []
    text = canonical_name(value)
    return [Claim(kind, skeleton(text), file, field, line, text=text)]


def _name_claims(doc: Mapping, companies: list, file: str) -> Iterable[Claim]:
    """The institution's name and slug (the file's name when it gives none) and its companies' names."""
    slug = doc.get("slug") if "slug" in doc else Path(file).stem
    yield from _reading("slug", slug, file, "slug", line_of(doc, "slug"))
    yield from _reading("name", doc.get("name"), file, "name", line_of(doc, "name"))
    for index, company in enumerate(companies):
        if isinstance(company, Mapping):
            yield from _reading("name", company.get("name"), file, f"companies[{index}].name", line_of(company, "name"))


def claims_of(doc: Any, file: str) -> list[Claim]:
    """Everything a document names that must be its institution's alone."""
    if not isinstance(doc, Mapping):
        return []
    found = list(_dns_claims(doc, file))
    companies = doc.get("companies") if isinstance(doc.get("companies"), list) else []
    for index, company in enumerate(companies):
        accounts = company.get("accounts") if isinstance(company, Mapping) else None
        if isinstance(accounts, Mapping):
            found.extend(_account_claims(accounts, f"companies[{index}]", file))
    return found + list(_name_claims(doc, companies, file))


def _ancestors(domain: str) -> Iterable[str]:
    """The domain itself and every parent of it."""
    labels = domain.split(".")
    return (".".join(labels[i:]) for i in range(len(labels)))


def _conflict(claim: Claim, other: Claim) -> str | None:
    if claim.kind in ("name", "slug"):
        if claim.text == other.text:
            return None  # the same name: not one that reads as another
        return (f"{claim.text!r} reads as {other.text!r}, the {claim.kind} of {other.describe()}: they differ "
                "only in characters that look alike (Unicode confusables, UTS #39 skeleton), so one tenant would "
                f"pass for the other: choose a {claim.kind} that reads differently")
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
    found: dict[tuple[Claim, str, str, str], set[str]] = defaultdict(set)
    for claim, other in _pairs(claims):
        if claim.file in checked and _conflict(claim, other):
            found[(claim, other.file, other.value, other.text)].add(other.field)
    problems = set()
    for (claim, file, value, text), fields in found.items():
        other = Claim(claim.kind, value, file, ", ".join(sorted(fields)), text=text)
        problems.add(Problem(claim.file, claim.line, claim.field, _conflict(claim, other)))
    return sorted(problems)
