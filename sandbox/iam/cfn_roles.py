"""CloudFormation roles with their managed policies.

moto's AWS::IAM::Role ignores `ManagedPolicyArns`; with IAM enforced, the CDK bootstrap deploy
role would then lack AWSCloudFormationReadOnlyAccess and `cdk deploy` would be refused where AWS
allows it. Attaching them is what CloudFormation does:
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html
"""

from __future__ import annotations

from typing import Any

from moto.iam import models as iam_models
from moto.utilities.utils import get_partition


def _attach(role: Any, properties: dict[str, Any], account_id: str, region_name: str) -> None:
    backend = iam_models.iam_backends[account_id][get_partition(region_name)]
    for arn in properties.get("ManagedPolicyArns") or []:
        if arn and arn not in role.managed_policies:
            backend.attach_role_policy(arn, role.name)


def install() -> None:
    role = iam_models.Role
    create, update = role.create_from_cloudformation_json.__func__, role.update_from_cloudformation_json.__func__

    def create_with_policies(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        created = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        _attach(created, cloudformation_json.get("Properties", {}), account_id, region_name)
        return created

    def update_with_policies(cls, original_resource, new_resource_name, cloudformation_json, account_id,
                             region_name):
        updated = update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        _attach(updated, cloudformation_json.get("Properties", {}), account_id, region_name)
        return updated

    role.create_from_cloudformation_json = classmethod(create_with_policies)
    role.update_from_cloudformation_json = classmethod(update_with_policies)
