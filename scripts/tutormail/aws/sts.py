"""STS: a role session for a web identity token (GetCallerIdentity is aws/client.py's `caller`)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config

from tutormail.aws import client as aws


def assume_role_with_web_identity(region: str, role_arn: str, session_name: str, token: str,
                                  duration: int) -> dict[str, Any]:
    """The session's Credentials (AccessKeyId, SecretAccessKey, SessionToken, Expiration). The call is
    not signed: the token is the proof, so no credentials are needed to make it
    (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html)."""
    sts = boto3.session.Session().client("sts", region_name=region,
                                         config=aws.RETRIES.merge(Config(signature_version=UNSIGNED)))
    return aws.call("STS AssumeRoleWithWebIdentity", sts.assume_role_with_web_identity, RoleArn=role_arn,
                    RoleSessionName=session_name, WebIdentityToken=token, DurationSeconds=duration)["Credentials"]
