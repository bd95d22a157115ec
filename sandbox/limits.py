"""Service limits the product can hit, refused by the emulated services as AWS refuses them
(moto records most quotas but does not enforce them).

- IAM user names: at most 64 characters; an inline user policy: at most 2,048 characters, a customer
  managed policy 6,144, white space not counted; 10 managed policies attached to a user (the default
  quota) (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html);
  two access keys per user: moto already refuses a third.
- SES configuration set names: at most 64 characters
  (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_CreateConfigurationSet.html).
- Secrets Manager: 50 tags per secret, 127 characters per tag key
  (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html).
- CloudFormation DescribeStackResources: "Only the first 100 resources will be returned"
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackResources.html);
  moto returned all. (moto's ListStackResources still answers in one page; AWS pages it.)
"""

from __future__ import annotations

import functools
import re
from typing import Any

from moto.cloudformation.models import CloudFormationBackend
from moto.core.exceptions import ServiceException
from moto.iam import models as iam_models
from moto.iam.exceptions import LimitExceededException, ValidationError
from moto.secretsmanager import models as secrets_models
from moto.secretsmanager.exceptions import InvalidParameterException
from moto.sesv2 import models as sesv2_models

IAM_NAME_MAX = 64
INLINE_USER_POLICY_MAX = 2048
MANAGED_POLICY_MAX = 6144
MANAGED_POLICIES_PER_USER = 10
CONFIGURATION_SET_NAME_MAX = 64
DESCRIBE_STACK_RESOURCES_MAX = 100
SECRET_TAGS_MAX = 50
TAG_KEY_MAX = 127


class BadRequestException(ServiceException):
    code = "BadRequestException"


def _before(cls: type, name: str, check) -> None:
    original = getattr(cls, name)

    @functools.wraps(original)
    def checked(self, *args: Any, **kwargs: Any) -> Any:
        check(self, *args, **kwargs)
        return original(self, *args, **kwargs)

    setattr(cls, name, checked)


def _user_name(self, region_name: str, user_name: str, *args: Any, **kwargs: Any) -> None:
    if len(user_name) > IAM_NAME_MAX:
        raise ValidationError(f"1 validation error detected: Value '{user_name}' at 'userName' failed to satisfy "
                              f"constraint: Member must have length less than or equal to {IAM_NAME_MAX}")


def _inline_policy(self, user_name: str, policy_name: str, policy_json: str) -> None:
    size = len(re.sub(r"\s", "", policy_json))
    if size > INLINE_USER_POLICY_MAX:
        raise LimitExceededException(f"Maximum policy size of {INLINE_USER_POLICY_MAX} bytes exceeded for user "
                                        f"{user_name}")


def _managed_policy(self, description: str, path: str, policy_document: str, policy_name: str, *args: Any,
                    **kwargs: Any) -> None:
    size = len(re.sub(r"\s", "", policy_document))
    if size > MANAGED_POLICY_MAX:
        raise LimitExceededException(f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_MAX}")


def _attach_user_policy(self, policy_arn: str, user_name: str) -> None:
    held = self.get_user(user_name).managed_policies
    if policy_arn not in held and len(held) >= MANAGED_POLICIES_PER_USER:
        raise LimitExceededException(f"Cannot exceed quota for PoliciesPerUser: {MANAGED_POLICIES_PER_USER}")


def _tags(new_keys: set[str], existing: list[dict[str, str]] | None = None) -> None:
    keys = {t["Key"] for t in existing or []} | new_keys
    if len(keys) > SECRET_TAGS_MAX:
        raise InvalidParameterException(f"A secret can have at most {SECRET_TAGS_MAX} tags; this request would "
                                        f"give it {len(keys)}.")
    for key in keys:
        if len(key) > TAG_KEY_MAX:
            raise InvalidParameterException(f"The tag key {key!r} has {len(key)} characters; the maximum is "
                                            f"{TAG_KEY_MAX}.")


def _create_secret(self, name: str, *args: Any, tags: list[dict[str, str]] | None = None, **kwargs: Any) -> None:
    _tags({t["Key"] for t in tags or []})


def _tag_resource(self, secret_id: str, tags: dict[str, str]) -> None:
    secret = self.secrets[secret_id] if secret_id in self.secrets else None
    _tags(set(tags), getattr(secret, "tags", None))


def _configuration_set(self, configuration_set_name: str, *args: Any, **kwargs: Any) -> None:
    if len(configuration_set_name) > CONFIGURATION_SET_NAME_MAX:
        raise BadRequestException(f"Configuration set name {configuration_set_name!r} is longer than "
                                  f"{CONFIGURATION_SET_NAME_MAX} characters")


def _first_resources(original):
    @functools.wraps(original)
    def describe_stack_resources(self, stack_name: str, logical_resource_id: str) -> tuple[Any, list]:
        stack, resources = original(self, stack_name, logical_resource_id)
        return stack, list(resources)[:DESCRIBE_STACK_RESOURCES_MAX]
    return describe_stack_resources


def install() -> None:
    CloudFormationBackend.describe_stack_resources = _first_resources(CloudFormationBackend.describe_stack_resources)
    _before(iam_models.IAMBackend, "create_user", _user_name)
    _before(iam_models.IAMBackend, "put_user_policy", _inline_policy)
    _before(iam_models.IAMBackend, "create_policy", _managed_policy)
    _before(iam_models.IAMBackend, "attach_user_policy", _attach_user_policy)
    _before(secrets_models.SecretsManagerBackend, "create_secret", _create_secret)
    _before(secrets_models.SecretsManagerBackend, "tag_resource", _tag_resource)
    _before(sesv2_models.SESV2Backend, "create_configuration_set", _configuration_set)
