"""Durable progress of each sender (links sent, settings released, phase 3, and later marks),
behind one interface: `Progress(plan).read()` and `.write(marks)`.

The marks live in the DynamoDB progress table of `TutorMail-Platform` (progress_store.py); before
the table they were tags on the SMTP secret `tutormail/<slug>/smtp`. Those tags are migrated once,
on the first read of an institution (or of a fleet): the marks missing from the table are copied,
then a `tutormail:migrated` mark says it is done, so the secret's tags are never read again. Copying
only what is missing makes the migration idempotent and never overwrites a newer mark.

A mark's key is `tutormail:<kind>:<subject>`, the subject usually an address.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from tutormail.aws import client as aws
from tutormail.aws.progress_store import ProgressStore
from tutormail.clock import Clock, iso
from tutormail.names import secret_name

if TYPE_CHECKING:  # the pause Lambda carries this module without the catalogue (infra/reputation.py)
    from tutormail.catalog.model import Platform
    from tutormail.plan.build import InstitutionPlan

LINK = "tutormail:link:"  # + address: "<links sent> <sending times, oldest first, comma-separated>"
RELEASED = "tutormail:released:"  # + address: phase 2, the password was handed over
TESTED = "tutormail:phase3:"  # + address: phase 3, a test message was accepted
DMARC_RISK = "tutormail:dmarc-risk:"  # + address: "<when> <policy accepted> <who>" (--accept-dmarc-risk)
PAUSED = "tutormail:paused:switch"  # "paused|resumed <when> <by> <reason>": the last pause switch (issue 14)
OFFBOARD = "tutormail:offboard:record"  # the offboarding status record, JSON (lifecycle/offboard.py)
MIGRATED = "tutormail:migrated"  # the secret's tags were copied into the table (when)


def identity_marks(identity: str) -> list[str]:
    """The marks given for one SES identity as it was made, which go when cleanup or offboard deletes
    it: a DMARC risk accepted for it must not count for an identity of that name made later (issue 20).
    The other marks stay: they record what was done, not a person's decision about this identity."""
    return [DMARC_RISK + identity]


def is_mark(key: str) -> bool:
    """`tutormail:<kind>:<subject>`; the stack's own `tutormail:institution` tag is not one."""
    return key.startswith("tutormail:") and key.count(":") >= 2


class Progress:
    def __init__(self, plan: InstitutionPlan, client: Any = None, secrets_client: Any = None):
        self.plan = plan
        self.store = ProgressStore(plan.platform.region, client)
        self._secrets = secrets_client

    def read(self) -> dict[str, str]:
        marks = self.store.institution(self.plan.slug)
        if MIGRATED not in marks:
            marks = migrate(self.store, {self.plan.slug: marks}, {self.plan.slug: self._secret_tags()})[self.plan.slug]
        return {k: v for k, v in marks.items() if k != MIGRATED}

    def write(self, marks: dict[str, str]) -> None:
        self.store.put({self.plan.slug: marks})

    def forget(self, keys: list[str]) -> None:
        self.store.delete(self.plan.slug, keys)

    def write_if(self, key: str, value: str, expected: str | None) -> bool:
        return self.store.put_if(self.plan.slug, key, value, expected)

    def _secret_tags(self) -> dict[str, str]:
        client = self._secrets or aws.client("secretsmanager", self.plan.platform.region)
        try:
            described = aws.call(f"Secrets Manager DescribeSecret {self.plan.secret_name}",
                                 client.describe_secret, SecretId=self.plan.secret_name)
        except aws.ServiceError as exc:
            if aws.is_not_found(exc):
                return {}
            raise
        return {t["Key"]: t["Value"] for t in described.get("Tags") or []}


def secret_tags(client: Any) -> dict[str, dict[str, str]]:
    """Tags of every tutormail/ secret, by secret name (boto3's paginator: 100 a page)."""
    pages = aws.call("Secrets Manager ListSecrets", lambda: list(client.get_paginator("list_secrets").paginate(
        Filters=[{"Key": "name", "Values": ["tutormail/"]}], PaginationConfig={"PageSize": 100})))
    return {secret["Name"]: {t["Key"]: t["Value"] for t in secret.get("Tags") or []}
            for page in pages for secret in page.get("SecretList", [])}


def migrate(store: ProgressStore, in_table: dict[str, dict[str, str]], tags: dict[str, dict[str, str]],
            clock: Clock | None = None) -> dict[str, dict[str, str]]:
    """Copies the tag marks the table lacks, for each slug of `in_table`, with the migrated mark;
    returns every slug's marks as they now are."""
    now = iso((clock or Clock()).now())
    missing = {slug: {**{k: v for k, v in tags.get(slug, {}).items() if is_mark(k) and k not in marks},
                      MIGRATED: now}
               for slug, marks in in_table.items()}
    store.put(missing)
    return {slug: {**marks, **missing[slug]} for slug, marks in in_table.items()}


def fleet_marks(platform: Platform, slugs: Iterable[str], store: ProgressStore | None = None,
                secrets_client: Any = None) -> dict[str, dict[str, str]]:
    """Every named institution's marks in the platform's table, read once for a whole fleet
    (`status`: its sweep and its sending health); `Services.fleet_marks`."""
    return fleet_progress({slug: secret_name(slug) for slug in slugs}, store or ProgressStore(platform.region),
                          secrets_client or aws.client("secretsmanager", platform.region))


def fleet_progress(secret_names: dict[str, str], store: ProgressStore,
                   secrets_client: Any) -> dict[str, dict[str, str]]:
    """Every institution's marks (slug -> secret name given) in one Scan; institutions never
    migrated take their tags from ListSecrets pages (read only when there is one), written in
    batches."""
    table = store.fleet()
    waiting = {slug: table.get(slug, {}) for slug in secret_names if MIGRATED not in table.get(slug, {})}
    if waiting:
        by_secret = secret_tags(secrets_client)
        table.update(migrate(store, waiting, {slug: by_secret.get(secret_names[slug], {}) for slug in waiting}))
    return {slug: {k: v for k, v in marks.items() if k != MIGRATED} for slug, marks in table.items()}
