"""The account-quota reads moto 5.2 lacks, answered with AWS's documented defaults (issue 23).

- CloudFormation DescribeAccountLimits: StackLimit 2,000 stacks per Region, StackOutputsLimit 200
  outputs per template (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeAccountLimits.html,
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html);
- Route 53 GetHostedZoneLimit MAX_RRSETS_BY_ZONE: 10,000 record sets per hosted zone, and the zone's
  count (https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHostedZoneLimit.html,
  https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DNSLimitations.html).
IAM's GetAccountSummary is moto's own (Policies, PoliciesQuota 1,500, Users, UsersQuota 5,000).
A test raises a quota as Service Quotas would with `QUOTAS`, keyed by (account, region, name).
"""

from __future__ import annotations

from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult
from moto.route53 import urls as route53_urls
from moto.route53.exceptions import NoSuchHostedZone
from moto.route53.responses import Route53

DEFAULTS = {"StackLimit": 2000, "StackOutputsLimit": 200, "MAX_RRSETS_BY_ZONE": 10000,
            "MAX_VPCS_ASSOCIATED_BY_ZONE": 100}
QUOTAS: dict[tuple[str, str, str], int] = {}


def quota(account: str, region: str, name: str) -> int:
    return QUOTAS.get((account, region, name), DEFAULTS[name])


def _describe_account_limits(self: CloudFormationResponse) -> ActionResult:
    limits = [{"Name": name, "Value": quota(self.current_account, self.region, name)}
              for name in ("StackLimit", "StackOutputsLimit")]
    return ActionResult({"AccountLimits": limits})


def _get_hosted_zone_limit(self: Route53) -> ActionResult:
    zone_id, kind = self._get_param("HostedZoneId"), self._get_param("Type")
    zone = self.backend.zones.get(zone_id)
    if zone is None:
        raise NoSuchHostedZone(zone_id)
    count = len(zone.rrsets) if kind == "MAX_RRSETS_BY_ZONE" else len(getattr(zone, "vpcs", []) or [])
    return ActionResult({"Limit": {"Type": kind, "Value": quota(self.current_account, "global", kind)},
                         "Count": count})


def patch() -> None:
    CloudFormationResponse.describe_account_limits = _describe_account_limits
    Route53.get_hosted_zone_limit = _get_hosted_zone_limit
    route53_urls.url_paths[r"{0}/(?P<api_version>[\d_-]+)/hostedzonelimit/(?P<zone_id>[^/]+)/(?P<kind>[^/]+)$"] = (
        Route53.dispatch)
