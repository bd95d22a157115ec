"""IAM resources of CloudFormation templates where moto lacks them.

- AWS::IAM::Role: moto ignores `ManagedPolicyArns`; with IAM enforced, the CDK bootstrap deploy
  role would lack AWSCloudFormationReadOnlyAccess and `cdk deploy` would be refused where AWS
  allows it (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html).
- AWS::IAM::ManagedPolicy: moto cannot delete one, so the user it is attached to (the SMTP user's
  send policy) can never be deleted and a stack deletion fails with DeleteConflict. CloudFormation
  deletes the policy first, detaching it from its users, groups and roles as IAM requires
  (https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeletePolicy.html).
- AWS::IAM::OIDCProvider (TutorMail-Platform's GitHub provider): moto's CloudFormation has no such
  type (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-oidcprovider.html).
  IAM holds one provider per URL: creating one for a URL the account already has fails
  EntityAlreadyExists, and the stack rolls back; CloudFormation never adopts it
  (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html).
"""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.iam import models as iam_models
from moto.iam.exceptions import EntityAlreadyExists
from moto.utilities.utils import get_partition


def _attach(role: Any, properties: dict[str, Any], account_id: str, region_name: str) -> None:
    backend = iam_models.iam_backends[account_id][get_partition(region_name)]
    for arn in properties.get("ManagedPolicyArns") or []:
        if arn and arn not in role.managed_policies:
            backend.attach_role_policy(arn, role.name)


class OidcProvider(CloudFormationModel):
    def __init__(self, arn: str):
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::IAM::OIDCProvider"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> OidcProvider:
        properties = cloudformation_json.get("Properties", {})
        backend = iam_models.iam_backends[account_id][get_partition(region_name)]
        url = properties["Url"]
        if any(p.url == url.removeprefix("https://") for p in backend.open_id_providers.values()):
            raise EntityAlreadyExists(f"Provider with url {url} already exists.")
        provider = backend.create_open_id_connect_provider(
            url, properties.get("ThumbprintList") or [], properties.get("ClientIdList") or [],
            properties.get("Tags") or [])
        return cls(provider.arn)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: OidcProvider, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> OidcProvider:
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str) -> None:
        iam_models.iam_backends[account_id][get_partition(region_name)].delete_open_id_connect_provider(resource_name)


def _delete_managed_policy(cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
                           region_name: str) -> None:
    backend = iam_models.iam_backends[account_id][get_partition(region_name)]
    policy = backend.managed_policies.get(resource_name)
    if policy is None:
        return
    for entities in (backend.users, backend.roles, backend.groups):
        for entity in list(entities.values()):
            if resource_name in entity.managed_policies:
                policy.detach_from(entity)
    backend.delete_policy(resource_name)


def install() -> None:
    iam_models.ManagedPolicy.delete_from_cloudformation_json = classmethod(_delete_managed_policy)
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
