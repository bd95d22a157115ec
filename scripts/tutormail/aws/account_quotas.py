"""The account's own quotas, and what it already uses, for the caps the fleet grows into (plan/fleet_caps.py).

Where an API gives them (each read is one call, or the pages of one list):
- IAM GetAccountSummary: Policies / PoliciesQuota (customer managed policies), Users / UsersQuota
  (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountSummary.html);
- SES: no API gives the identities quota outside Service Quotas, so its documented default
  (10,000 per Region, https://docs.aws.amazon.com/ses/latest/dg/quotas.html) with the Region's
  identities counted by ListEmailIdentities
  (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_ListEmailIdentities.html);
- CloudFormation DescribeAccountLimits: StackLimit, with the Region's stacks counted by ListStacks
  (every status but DELETE_COMPLETE)
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeAccountLimits.html);
- Route 53 GetHostedZoneLimit MAX_RRSETS_BY_ZONE of the platform zone: its limit and its count
  (https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHostedZoneLimit.html).
A call the account refuses (AccessDenied, or any answer that is an error) falls back to the
documented default and to the files' own count, and says so; a service that does not answer is a
service error (exit 4), as everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tutormail.aws import client as aws

LIVE_STACKS = ("CREATE_IN_PROGRESS", "CREATE_FAILED", "CREATE_COMPLETE", "ROLLBACK_IN_PROGRESS", "ROLLBACK_FAILED",
               "ROLLBACK_COMPLETE", "DELETE_IN_PROGRESS", "DELETE_FAILED", "UPDATE_IN_PROGRESS",
               "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE", "UPDATE_FAILED",
               "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
               "UPDATE_ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS", "IMPORT_IN_PROGRESS", "IMPORT_COMPLETE",
               "IMPORT_ROLLBACK_IN_PROGRESS", "IMPORT_ROLLBACK_FAILED", "IMPORT_ROLLBACK_COMPLETE")


@dataclass(frozen=True)
class Reading:
    quota: int | None  # None: no API gave it (the documented default applies)
    used: int | None  # None: not counted in the account (the files' count applies)
    source: str


def _refused(exc: aws.ServiceError) -> bool:
    return isinstance(exc.__cause__, ClientError)


def _count(pages: Any, what: str, key: str, **kwargs: Any) -> int:
    total, token_key = 0, "NextToken"
    while True:
        page = aws.call(what, pages, **kwargs)
        total += len(page.get(key, []))
        if not page.get(token_key):
            return total
        kwargs[token_key] = page[token_key]


def _iam(iam: Any) -> dict[str, Reading]:
    summary = aws.call("IAM GetAccountSummary", iam.get_account_summary)["SummaryMap"]
    return {"customer managed policies": Reading(summary.get("PoliciesQuota"), summary.get("Policies"),
                                                 "IAM GetAccountSummary"),
            "IAM users": Reading(summary.get("UsersQuota"), summary.get("Users"), "IAM GetAccountSummary")}


def _ses(sesv2: Any) -> dict[str, Reading]:
    used = _count(sesv2.list_email_identities, "SES ListEmailIdentities", "EmailIdentities", PageSize=1000)
    return {"SES identities": Reading(None, used, "SES ListEmailIdentities (quota: documented default)")}


def _stacks(cloudformation: Any) -> dict[str, Reading]:
    limits = aws.call("CloudFormation DescribeAccountLimits", cloudformation.describe_account_limits)
    limit = next((int(x["Value"]) for x in limits.get("AccountLimits", []) if x.get("Name") == "StackLimit"), None)
    used = _count(cloudformation.list_stacks, "CloudFormation ListStacks", "StackSummaries",
                  StackStatusFilter=list(LIVE_STACKS))
    return {"CloudFormation stacks": Reading(limit, used, "CloudFormation DescribeAccountLimits, ListStacks")}


def _zone(route53: Any, zone_id: str) -> dict[str, Reading]:
    found = aws.call("Route 53 GetHostedZoneLimit", route53.get_hosted_zone_limit, HostedZoneId=zone_id,
                     Type="MAX_RRSETS_BY_ZONE")
    return {"platform zone records": Reading(int(found["Limit"]["Value"]), int(found["Count"]),
                                             "Route 53 GetHostedZoneLimit")}


def read_account_quotas(clients: aws.ByService, hosted_zone_id: str) -> dict[str, Reading]:
    """cap -> what the account says; a refused read gives Reading(None, None, 'refused: ...')."""
    reads = (("customer managed policies", "IAM users"), lambda: _iam(clients["iam"])), \
        (("SES identities",), lambda: _ses(clients["sesv2"])), \
        (("CloudFormation stacks",), lambda: _stacks(clients["cloudformation"])), \
        (("platform zone records",), lambda: _zone(clients["route53"], hosted_zone_id))
    found: dict[str, Reading] = {}
    for caps, read in reads:
        try:
            found.update(read())
        except aws.ServiceError as exc:
            if not _refused(exc):
                raise
            found.update({cap: Reading(None, None, f"refused ({exc}): documented default") for cap in caps})
    return found
