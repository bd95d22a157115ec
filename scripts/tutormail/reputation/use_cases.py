"""What `tutormail reputation`, `pause` and `resume` do, above the AWS adapters."""

from __future__ import annotations

from tutormail.aws import client as aws
from tutormail.aws.progress_store import ProgressStore
from tutormail.catalog.model import Catalog
from tutormail.catalog.reputation_fields import thresholds_of
from tutormail.exitcodes import Exit, TutormailError
from tutormail.plan.build import build_plan
from tutormail.reputation.failed_pauses import FailedPause, read_failed_pauses
from tutormail.reputation.health import Health, read_health
from tutormail.reputation.pause import PauseMark, switch


class ResumeRefused(TutormailError):
    """The rate that paused the institution is still at or above the pause level: a person decides."""

    exit_code = Exit.ACTION_NEEDED


def fleet_health(catalog: Catalog, slugs: list[str], found: aws.ByService | None = None,
                 marks: dict[str, dict[str, str]] | None = None) -> list[Health]:
    """`marks`: the progress marks by slug when the caller already read them (status's sweep);
    otherwise one Scan of the progress table."""
    found = found or aws.Clients(catalog.platform.region)
    plans = [build_plan(catalog.institutions[slug], catalog.platform) for slug in slugs]
    thresholds = {p.slug: thresholds_of(p.institution, p.platform) for p in plans}
    if marks is None:
        marks = ProgressStore(catalog.platform.region, found["dynamodb"]).fleet()
    return read_health(thresholds, marks, found)


def failed_pauses(catalog: Catalog, slugs: list[str] | None) -> tuple[int, list[FailedPause]]:
    """The failed pauses of these institutions (None: every one in the queue, tutor-mail's or not),
    and how many the queue holds in all."""
    count, found = read_failed_pauses(aws.Clients(catalog.platform.region)["sqs"])
    return count, [f for f in found if slugs is None or f.institution in slugs]


def pause_institution(catalog: Catalog, slug: str, reason: str) -> PauseMark:
    catalog.get(slug)  # an unknown slug is bad input before anything is switched
    found = aws.Clients(catalog.platform.region)
    store = ProgressStore(catalog.platform.region, found["dynamodb"])
    return switch(found["sesv2"], store, slug, paused=True, by=aws.caller(catalog.platform.region), reason=reason)


def resume_institution(catalog: Catalog, slug: str, force: bool) -> PauseMark:
    found = aws.Clients(catalog.platform.region)
    [health] = fleet_health(catalog, [slug], found)
    still = health.above_pause_level()
    if still and not force:
        raise ResumeRefused("; ".join(still))
    store = ProgressStore(catalog.platform.region, found["dynamodb"])
    reason = "resumed with --force while " + "; ".join(still) if still else "rates below the pause level"
    return switch(found["sesv2"], store, slug, paused=False, by=aws.caller(catalog.platform.region), reason=reason)
