"""Institution files for tests and benches, built as data and written as the YAML people write.

One place that knows the file's shape, so a test says only what matters to it (a domain, a
provider, an account) and a change of shape is made here once.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from tutormail.catalog.names import derive_slug

REPO = Path(__file__).resolve().parents[1]
PLATFORM = REPO / "institutions" / "platform.yaml"


def route53(domain: str, zone: str) -> dict[str, Any]:
    return {"domain": domain, "provider": "route53", "hosted_zone_id": zone}


def rfc2136(domain: str, server: str, slug: str) -> dict[str, Any]:
    return {"domain": domain, "provider": "rfc2136", "server": server, "tsig_key": f"tutormail/{slug}/tsig"}


def manual(domain: str) -> dict[str, Any]:
    return {"domain": domain, "provider": "manual"}


def company(name: str, accounts: dict[str, Any] | None = None, rules: dict[str, str] | None = None,
            logo: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": name}
    if logo:
        doc["logo"] = logo
    if accounts:
        doc["accounts"] = accounts
    if rules:
        doc["rules"] = rules
    return doc


def institution(name: str, *, slug: str | None = None, dns: list[dict[str, Any]] | tuple = (),
                companies: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An institution; without companies, one of the same name sending from the first domain (or
    the platform default when there is none)."""
    doc: dict[str, Any] = {"name": name}
    if slug:
        doc["slug"] = slug
    if dns:
        doc["dns"] = list(dns)
    first = dns[0]["domain"] if dns else None
    doc["companies"] = companies or [company(name, {"comunicacao": f"comunicacao@{first}"} if first else None)]
    return doc


def to_yaml(doc: dict[str, Any]) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.sort_base_mapping_type_on_output = False
    buffer = io.StringIO()
    yaml.dump(doc, buffer)
    return buffer.getvalue()


def write_institutions(directory: Path, institutions: dict[str, dict[str, Any]], platform: Path = PLATFORM) -> Path:
    """`directory` with the platform file and one `<slug>.yaml` per entry (the slug written in the
    file when the name would derive another)."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(platform, directory / "platform.yaml")
    for slug, doc in institutions.items():
        if derive_slug(doc["name"]) != slug:
            doc = {"name": doc["name"], "slug": slug, **doc}
        (directory / f"{slug}.yaml").write_text(to_yaml(doc), encoding="utf-8")
    return directory
