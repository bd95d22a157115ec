"""`add-company`: Tutor's "Duplicar Configurações" as an edit of the institution file that keeps
its comments and order, validated before it is written."""

from __future__ import annotations

import codecs
import copy
import difflib
import io
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from tutormail.catalog.directory import CatalogCheck, check_files
from tutormail.catalog.model import Catalog
from tutormail.catalog.names import canonical_name
from tutormail.catalog.problems import ConfigurationError, Problem, display_path


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)  # the style of institutions/*.yaml
    return yaml


def add_company(catalog: Catalog, slug: str, source: str, name: str, email: str | None = None,
                logo: str | None = None, *, checks: Sequence[CatalogCheck]) -> tuple[str, str]:
    """Returns (new text, unified diff); raises ConfigurationError if the result is invalid (its
    catalog `checks` included: tutormail.plan.loader.CATALOG_CHECKS, the AWS limits)."""
    institution = catalog.get(slug)
    path = Path(catalog.directory) / Path(institution.source).name
    original = path.read_text(encoding="utf-8")
    yaml = _yaml()
    doc = yaml.load(original)
    companies = doc["companies"]
    template = next((c for c in companies if isinstance(c.get("name"), str)
                     and canonical_name(c["name"]) == canonical_name(source)), None)
    if template is None:
        known = ", ".join(str(c.get("name")) for c in companies)
        raise ConfigurationError([Problem(institution.source, 0, "--from",
                                          f"no company {source!r} (companies: {known})")])
    company = CommentedMap()
    company["name"] = name
    if logo:
        company["logo"] = logo
    accounts = copy.deepcopy(template.get("accounts")) or CommentedMap()
    if email:
        accounts["comunicacao"] = email
    if accounts:
        company["accounts"] = accounts
    if template.get("rules"):
        company["rules"] = copy.deepcopy(template["rules"])
    companies.append(company)
    buffer = io.StringIO()
    yaml.dump(doc, buffer)
    text = buffer.getvalue()
    with tempfile.TemporaryDirectory() as tmp:
        candidate = Path(tmp) / path.name
        candidate.write_text(text, encoding="utf-8")
        # checked beside every other file: the new company's addresses must be this institution's alone
        _, problems = check_files(Path(catalog.directory), [candidate], checks=checks)
    if problems:
        raise ConfigurationError([Problem(institution.source, p.line, p.field, p.reason)
                                  if p.file == display_path(candidate) else p for p in problems])
    diff = "".join(difflib.unified_diff(original.splitlines(keepends=True), text.splitlines(keepends=True),
                                        fromfile=f"a/{path.name}", tofile=f"b/{path.name}"))
    return text, diff


def add_company_to_file(catalog: Catalog, slug: str, source: str, name: str, email: str | None = None,
                        logo: str | None = None, dry_run: bool = False, *, checks: Sequence[CatalogCheck]
                        ) -> tuple[Path, str]:
    """add_company, written back into the institution's own file (`.yml` stays `.yml`) with its
    byte-order mark and line endings as they were. Returns (the file, the diff)."""
    path = Path(catalog.directory) / Path(catalog.get(slug).source).name
    raw = path.read_bytes()
    text, diff = add_company(catalog, slug, source, name, email, logo, checks=checks)
    if not dry_run:
        text = text.removeprefix("\ufeff")
        if b"\r\n" in raw:
            text = text.replace("\r\n", "\n").replace("\n", "\r\n")
        path.write_bytes((codecs.BOM_UTF8 if raw.startswith(codecs.BOM_UTF8) else b"") + text.encode("utf-8"))
    return path, diff
