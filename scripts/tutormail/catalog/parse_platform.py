"""`platform.yaml`: what every institution shares."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml.comments import CommentedMap

from tutormail.catalog.checker import Checker, mapping_document
from tutormail.catalog.entities import GitHub, Platform
from tutormail.catalog.fields import GITHUB, PLATFORM
from tutormail.catalog.names import wildcard_problem
from tutormail.catalog.public_suffixes import is_public_suffix
from tutormail.catalog.receiving_fields import parse_platform_receiving
from tutormail.catalog.reputation_fields import parse_platform_reputation


def _document(path: Path, chk: Checker) -> CommentedMap | None:
    if not path.exists() and not path.is_symlink():
        chk.add_file(0, "(file)", "the platform file is missing from the institutions directory")
        return None
    return mapping_document(path, chk, "the platform file")


def _domain(doc: CommentedMap, chk: Checker) -> str | None:
    domain = chk.domain(doc, PLATFORM.get("platform_domain"), "")
    if domain and is_public_suffix(domain):
        chk.add(doc, "platform_domain", "platform_domain", f"{domain} is a public suffix (anyone may "
                "register names under it): give the platform's own registered domain")
        return None
    return domain


def _account(doc: CommentedMap, chk: Checker) -> str | None:
    value = doc.get("account")
    if isinstance(value, int) and not isinstance(value, bool):
        chk.add(doc, "account", "account", "must be quoted: a 12-digit text (a number loses leading zeros)")
        return None
    return chk.text(doc, PLATFORM.get("account"), "")


def _local_part(doc: CommentedMap, chk: Checker) -> str | None:
    spec = PLATFORM.get("default_local_part")
    if spec.name in doc and doc[spec.name] in (None, ""):
        chk.add(doc, spec.name, spec.name, "is empty: remove the line to use "
                f"{spec.default!r}, or give a local part")
        return None
    local = chk.text(doc, spec, "")
    if local is not None and (reason := wildcard_problem(local)):
        chk.add(doc, spec.name, spec.name, reason)
        return None
    return local


def _github(doc: CommentedMap, chk: Checker) -> GitHub | None:
    node = doc.get("github")
    if node is None:
        return None
    if not isinstance(node, CommentedMap):
        chk.add(doc, "github", "github", "must be a mapping with repository (owner/name), branch, environment")
        return None
    chk.unknown(node, GITHUB, "github")
    repository = chk.text(node, GITHUB.get("repository"), "github")
    branch = chk.text(node, GITHUB.get("branch"), "github")
    environment = chk.text(node, GITHUB.get("environment"), "github")
    offboarding = chk.text(node, GITHUB.get("offboarding_environment"), "github")
    provider = chk.text(node, GITHUB.get("oidc_provider"), "github")
    if not (repository and branch and environment and offboarding and provider):
        return None
    return GitHub(repository, branch, environment, oidc_provider=provider, offboarding_environment=offboarding)


def parse_platform(path: Path) -> tuple[Platform | None, list]:
    chk = Checker(path)
    doc = _document(path, chk)
    if doc is None:
        return None, chk.problems
    chk.unknown(doc, PLATFORM, "")
    values = {
        "platform_domain": _domain(doc, chk),
        "hosted_zone_id": chk.text(doc, PLATFORM.get("hosted_zone_id"), ""),
        "account": _account(doc, chk),
        "region": chk.text(doc, PLATFORM.get("region"), ""),
        "default_local_part": _local_part(doc, chk),
        "link_validity_hours": chk.integer(doc, PLATFORM.get("link_validity_hours"), ""),
        "dkim_window_hours": chk.integer(doc, PLATFORM.get("dkim_window_hours"), ""),
        "reputation": parse_platform_reputation(doc, chk),  # issue 14
        "smtp_key_max_age_days": chk.integer(doc, PLATFORM.get("smtp_key_max_age_days"), ""),
        "github": _github(doc, chk),
        "receiving": parse_platform_receiving(doc, chk),  # issue 25
    }
    if chk.problems:
        return None, chk.problems
    return Platform(**values, source=chk.file), []
