"""The account's quotas the fleet grows into, counted from the institution files (`validate`).

Each institution takes one IAM user, its send policies (customer managed), one stack, its SES
identities, and the records of its platform sub-domain in the platform zone (three DKIM CNAMEs, the
MAIL FROM MX and SPF, and DMARC where it publishes one). Defaults, each raisable through Service
Quotas under the name shown:
- IAM: 1,500 customer managed policies and 5,000 users per account
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html);
- SES: 10,000 identities per Region (https://docs.aws.amazon.com/ses/latest/dg/quotas.html);
- CloudFormation: 2,000 stacks per Region
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html);
- Route 53: 10,000 records per hosted zone
  (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html).
Counted from the files alone: what else the account holds shares these quotas, so the headroom is
an upper bound. The first to bite, on the example fleet, is the customer managed policies.
"""

from __future__ import annotations

import math
from typing import Any

from tutormail.catalog.model import Catalog
from tutormail.plan.build import build_plan
from tutormail.plan.smtp_policy import send_policies
from tutormail.vocabulary import IdentityKind

# TutorMail-Platform's own: tutormail-operator, tutormail-deploy and (with github) tutormail-plan.
PLATFORM_POLICIES = 3
# cap, the quota's name in Service Quotas, default
CAPS = (("customer managed policies", "IAM: Customer managed policies per account", 1500),
        ("IAM users", "IAM: Users per account", 5000),
        ("SES identities", "SES: Identities per Region", 10000),
        ("CloudFormation stacks", "CloudFormation: Stack count", 2000),
        ("platform zone records", "Route 53: Records per hosted zone", 10000))


def _usage(catalog: Catalog) -> dict[str, tuple[int, int]]:
    """cap -> (used by the files, by the platform alone)."""
    plans = [build_plan(institution, catalog.platform) for institution in catalog.institutions.values()]
    platform = catalog.platform
    on_platform_zone = sum(len(p.records(i)) for p in plans for i in p.identities
                           if i.kind == IdentityKind.DOMAIN and i.hosted_zone_id == platform.hosted_zone_id)
    policies = PLATFORM_POLICIES if platform.github is not None else PLATFORM_POLICIES - 1
    return {"customer managed policies": (policies + sum(len(send_policies(p)) for p in plans), policies),
            "IAM users": (len(plans), 0),
            "SES identities": (sum(len(p.identities) for p in plans), 0),
            "CloudFormation stacks": (len(plans) + 2, 2),  # the platform's and CDKToolkit
            "platform zone records": (on_platform_zone, 0)}


def fleet_caps(catalog: Catalog) -> list[dict[str, Any]]:
    """For each cap: what the files use, the default quota, and how many more institutions like the
    current ones (their average use, at least one each) fit."""
    usage, count = _usage(catalog), len(catalog.institutions)
    rows = []
    for cap, quota_name, quota in CAPS:
        used, fixed = usage[cap]
        each = max(1, math.ceil((used - fixed) / count)) if count else 1
        rows.append({"cap": cap, "quota": quota_name, "default": quota, "used": used,
                     "per_institution": each, "institutions_left": max(0, (quota - used) // each)})
    return rows


def first_to_bite(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return min(rows, key=lambda r: r["institutions_left"])


def with_account(rows: list[dict[str, Any]], readings: dict[str, Any]) -> list[dict[str, Any]]:
    """The caps with the account's own quota and use (aws/account_quotas.py's readings, by cap):
    how many more institutions like the current ones this account and Region can take. A quota no
    API gave is the documented default; a use not counted in the account is the files' own."""
    result = []
    for row in rows:
        reading = readings.get(row["cap"])
        quota = reading.quota if reading and reading.quota is not None else row["default"]
        used = reading.used if reading and reading.used is not None else row["used"]
        result.append({**row, "account_quota": quota, "used_in_account": reading.used if reading else None,
                       "source": reading.source if reading else "the files (not read from the account)",
                       "institutions_left": max(0, (quota - used) // row["per_institution"])})
    return result
