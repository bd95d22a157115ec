"""Drift: what changed after a sender was verified, which SES's "verified" alone does not show.

- A record removed or changed at an authoritative server: SES looks for the DKIM records again
  after verification and reports FAILED "when Amazon SES fails to find the DKIM records"
  (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_DkimAttributes.html), but only
  later and without saying which record: the records are compared on every server on each
  `verify`, and a verified identity with one missing or wrong is reported, not "verified".
- DKIM FAILED on an identity: SES no longer signs with it.
- An SMTP access key older than `smtp_key_max_age_days` (platform.yaml): rotate it (README,
  "Rotating the SMTP key without downtime"; IAM's advice to rotate keys:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html#rotating_access_keys_console).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from tutormail.cenario1.check import Finding
from tutormail.plan.build import InstitutionPlan
from tutormail.vocabulary import VerificationStatus

DRIFTED = ("missing", "wrong")


def identity_drift(verified: bool, dkim_status: str | None, findings: Iterable[Finding]) -> list[str]:
    """Only a verified identity drifts: before that, a missing record is the pending state."""
    if not verified:
        return []
    drift = [f"{f.record} {f.type} is {f.status} at {f.server} ({f.address})"
             + (f": holds {' '.join(f.found)}" if f.status == "wrong" else "")
             + (f" ({f.detail})" if f.status == "wrong" and f.detail else "")
             for f in findings if f.status in DRIFTED]
    if dkim_status == VerificationStatus.FAILED:
        drift.append("SES reports DKIM FAILED: it no longer signs for this identity")
    return drift


def key_drift(plan: InstitutionPlan, keys: Iterable[dict], now: datetime) -> list[str]:
    """Active keys (IAM ListAccessKeys metadata) older than the platform's maximum age."""
    limit = plan.platform.smtp_key_max_age_days
    generation = plan.institution.smtp_key_generation
    return [f"SMTP access key {k['AccessKeyId']} of {plan.smtp_user_name} is {(now - k['CreateDate']).days} days "
            f"old (more than {limit}): rotate it: set smtp_key_generation: {generation + 1} and "
            "smtp_key_keep_previous: true, deploy, hand over the new password, then drop the previous key "
            "(README, Rotating the SMTP key without downtime)"
            for k in keys if k.get("Status") == "Active" and (now - k["CreateDate"]).days > limit]
