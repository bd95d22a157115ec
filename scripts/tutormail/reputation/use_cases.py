"""What `tutormail reputation`, `pause` and `resume` do, above the AWS adapters."""

from __future__ import annotations

import getpass
import re
from typing import Any

from tutormail.aws import client as aws
from tutormail.aws.progress_tags import Progress
from tutormail.catalog.model import Catalog
from tutormail.catalog.reputation_fields import thresholds_of
from tutormail.fleet.status import secret_tags
from tutormail.plan.build import build_plan
from tutormail.reputation.health import Health, read_health
from tutormail.reputation.pause import PauseMark, switch


class ResumeRefused(Exception):
    """The rate that paused the institution is still at or above the pause level."""


def operator() -> str:
    return re.sub(r"[^\w.@-]", "_", getpass.getuser() or "operator", flags=re.ASCII) or "operator"


def clients(region: str) -> dict[str, Any]:
    return {name: aws.client(name, region) for name in ("cloudwatch", "logs", "sesv2", "secretsmanager")}


def fleet_health(catalog: Catalog, slugs: list[str], found: dict[str, Any] | None = None) -> list[Health]:
    found = found or clients(catalog.platform.region)
    plans = [build_plan(catalog.institutions[slug], catalog.platform) for slug in slugs]
    thresholds = {p.slug: thresholds_of(p.institution, p.platform) for p in plans}
    sources = {address: p.slug for p in plans for address in p.from_addresses}
    return read_health(thresholds, sources, secret_tags(found["secretsmanager"]), found)


def pause_institution(catalog: Catalog, slug: str, reason: str) -> PauseMark:
    found = clients(catalog.platform.region)
    progress = Progress(build_plan(catalog.get(slug), catalog.platform), found["secretsmanager"])
    return switch(found["sesv2"], progress, slug, paused=True, by=operator(), reason=reason)


def resume_institution(catalog: Catalog, slug: str, force: bool) -> PauseMark:
    found = clients(catalog.platform.region)
    [health] = fleet_health(catalog, [slug], found)
    still = health.above_pause_level()
    if still and not force:
        raise ResumeRefused("; ".join(still))
    progress = Progress(build_plan(catalog.get(slug), catalog.platform), found["secretsmanager"])
    reason = "resumed with --force while " + "; ".join(still) if still else "rates below the pause level"
    return switch(found["sesv2"], progress, slug, paused=False, by=operator(), reason=reason)
