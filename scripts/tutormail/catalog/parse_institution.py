"""One institution file: name, slug, dns entries, companies, SMTP key generation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from tutormail.catalog.checker import Checker, mapping_document
from tutormail.catalog.entities import Company, Institution, Platform
from tutormail.catalog.fields import INSTITUTION
from tutormail.catalog.names import MAX_LABEL, derive_slug
from tutormail.catalog.parse_company import parse_company
from tutormail.catalog.parse_dns import parse_dns
from tutormail.catalog.receiving_fields import parse_replies_to
from tutormail.catalog.reputation_fields import parse_institution_reputation
from tutormail.names import PLATFORM_STACK, stack_name


def institution_document(path: Path, chk: Checker) -> CommentedMap | None:
    return mapping_document(path, chk, "an institution file")


def _derived_slug(doc: CommentedMap, chk: Checker, name: str | None) -> str | None:
    if name is None:
        return None
    derived = derive_slug(name)
    if not derived:
        chk.add(doc, "name", "slug", "cannot derive a slug from the name: set slug")
    elif len(derived) > MAX_LABEL:
        chk.add(doc, "name", "slug", f"the slug derived from the name is {len(derived)} characters, "
                f"longer than {MAX_LABEL}: set an explicit slug")
    else:
        return derived
    return None


def _slug(doc: CommentedMap, chk: Checker, name: str | None, path: Path) -> str | None:
    if "slug" in doc and doc["slug"] is not None:
        slug = chk.text(doc, INSTITUTION.get("slug"), "")
    else:
        slug = _derived_slug(doc, chk, name)
    if slug is not None and slug != path.stem:
        chk.add(doc, "slug" if "slug" in doc else "name", "slug",
                f"slug {slug!r} must equal the file name ({slug}.yaml, not {path.name})")
    if slug is not None and (reason := reserved_slug_problem(slug)):
        chk.add(doc, "slug" if "slug" in doc else "name", "slug", reason)
        return None
    return slug


def reserved_slug_problem(slug: str) -> str | None:
    """A slug that would read as something else: the platform's stack (CloudFormation stack names
    are matched ignoring case by people and by `cdk deploy TutorMail-*` globs alike, so the stricter
    reading), or a label with '-' in its third and fourth places, which RFC 5891 4.2.3.1 reserves:
    `xn--` is punycode, and `xn--...` can decode to another tenant's name in other letters."""
    if stack_name(slug).casefold() == PLATFORM_STACK.casefold():
        return f"slug {slug!r} would name the stack {stack_name(slug)}, which is the platform's ({PLATFORM_STACK})"
    if slug[2:4] == "--":
        return (f"slug {slug!r} has '--' in its third and fourth places, which DNS reserves for encoded labels "
                "(xn-- is punycode, RFC 5891 4.2.3.1): choose a plain slug")
    return None


def _companies(doc: CommentedMap, chk: Checker, slug: str | None, platform: Platform | None,
               directory: Path) -> list[Company]:
    raw = doc.get("companies")
    if not isinstance(raw, list) or not raw:
        chk.add(doc, "companies" if "companies" in doc else None, "companies", "at least one company is required")
        return []
    companies: list[Company] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(raw):
        company = parse_company(raw, index, chk, slug, platform, directory)
        if company is None:
            continue
        folded = company.name.casefold()
        if folded in seen:
            chk.add(entry, "name", f"companies[{index}].name", f"{company.name!r} is already the name of "
                    f"companies[{seen[folded]}]")
            continue
        seen[folded] = index
        companies.append(company)
    return companies


def _key_generation(doc: CommentedMap, chk: Checker) -> tuple[int, bool]:
    generation = chk.integer(doc, INSTITUTION.get("smtp_key_generation"), "")
    keep_previous = chk.boolean(doc, INSTITUTION.get("smtp_key_keep_previous"), "")
    if keep_previous and generation == 1:
        chk.add(doc, "smtp_key_keep_previous", "smtp_key_keep_previous",
                "there is no previous key at generation 1: raise smtp_key_generation to rotate")
    return generation, keep_previous


def parse_institution_document(doc: Any, path: Path, chk: Checker, platform: Platform | None,
                               directory: Path) -> Institution | None:
    chk.unknown(doc, INSTITUTION, "")
    name = chk.display(doc, INSTITUTION.get("name"), "")
    slug = _slug(doc, chk, name, path)
    dns = parse_dns(doc, chk, platform, slug)
    companies = _companies(doc, chk, slug, platform, directory)
    generation, keep_previous = _key_generation(doc, chk)
    platform_dmarc = chk.text(doc, INSTITUTION.get("platform_dmarc"), "")
    reputation = parse_institution_reputation(doc, chk, platform.reputation if platform else None)  # issue 14
    replies_to = parse_replies_to(doc, chk, platform)  # issue 25
    if chk.problems:
        return None
    return Institution(name=name, slug=slug, companies=tuple(companies), dns=tuple(dns),
                       smtp_key_generation=generation, smtp_key_keep_previous=keep_previous, source=chk.file,
                       platform_dmarc=platform_dmarc, reputation=reputation, replies_to=replies_to)


def parse_institution(path: Path, platform: Platform | None, directory: Path
                      ) -> tuple[Institution | None, list]:
    chk = Checker(path)
    doc = institution_document(path, chk)
    if doc is None:
        return None, chk.problems
    return parse_institution_document(doc, path, chk, platform, directory), chk.problems
