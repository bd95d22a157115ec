"""The SMTP user's access keys as IAM lists them (id, Status, CreateDate): one ListAccessKeys
call, since IAM allows two keys per user
(https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAccessKeys.html)."""

from __future__ import annotations

from typing import Any

from tutormail.aws import client as aws
from tutormail.plan.build import InstitutionPlan


def access_keys(plan: InstitutionPlan, iam: Any = None) -> list[dict] | None:
    """None when the user does not exist (the stack is not deployed, or was destroyed)."""
    iam = iam or aws.client("iam", plan.platform.region)
    user = plan.smtp_user_name
    try:
        return aws.call(f"IAM ListAccessKeys {user}", iam.list_access_keys, UserName=user)["AccessKeyMetadata"]
    except aws.ServiceError as exc:
        if aws.is_not_found(exc):
            return None
        raise


def deactivate_key(iam: Any, user: str, key_id: str) -> None:
    """The key stops signing at once; it stays listed, so a run after a failure finds it inactive
    (https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAccessKey.html)."""
    aws.call(f"IAM UpdateAccessKey {user}", iam.update_access_key, UserName=user, AccessKeyId=key_id, Status="Inactive")
