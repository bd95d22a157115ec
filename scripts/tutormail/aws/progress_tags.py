"""Durable progress of each sender, as tags on the institution's SMTP secret.

Tags on the secret rather than on each SES identity: one Secrets Manager ListSecrets page returns
the tags of 100 institutions, so `status` reads the progress of a fleet in a handful of calls,
and every CI runner sees the same history.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from tutormail.aws import client as aws
from tutormail.reputation import names

if TYPE_CHECKING:  # the pause Lambda carries this module without the catalogue
    from tutormail.plan.build import InstitutionPlan

LINK = "tutormail:link:"  # + address: "<links sent> <sending times, oldest first, comma-separated>"
RELEASED = "tutormail:released:"  # + address: phase 2, the password was handed over
TESTED = "tutormail:phase3:"  # + address: phase 3, a test message was accepted
DMARC_RISK = "tutormail:dmarc-risk:"  # + address: "<when> <policy accepted> <who>" (--accept-dmarc-risk)
PAUSED = "tutormail:paused"  # "paused|resumed <when> <by> <reason>": the last pause switch (issue 14)


class Progress:
    def __init__(self, plan: InstitutionPlan, client: Any = None):
        self.plan = plan
        self.client = client or aws.client("secretsmanager", plan.platform.region)

    @classmethod
    def for_slug(cls, slug: str, region: str, client: Any = None) -> Progress:
        """The progress of an institution known only by its slug (the pause Lambda has no catalogue)."""
        plan = SimpleNamespace(slug=slug, secret_name=names.secret_name(slug), platform=SimpleNamespace(region=region))
        return cls(plan, client)  # type: ignore[arg-type]

    def read(self) -> dict[str, str]:
        try:
            described = aws.call(f"Secrets Manager DescribeSecret {self.plan.secret_name}",
                                 self.client.describe_secret, SecretId=self.plan.secret_name)
        except aws.ServiceError as exc:
            if aws.is_not_found(exc):
                return {}
            raise
        return {t["Key"]: t["Value"] for t in described.get("Tags") or []}

    def write(self, tags: dict[str, str]) -> None:
        aws.call(f"Secrets Manager TagResource {self.plan.secret_name}", self.client.tag_resource,
                 SecretId=self.plan.secret_name, Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())])
