"""The sandbox refuses what AWS refuses at its service limits (sandbox/limits.py), one test each."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError


def _refused(call, code: str, fragment: str) -> None:
    with pytest.raises(ClientError) as refused:
        call()
    error = refused.value.response["Error"]
    assert error["Code"] == code and fragment in error["Message"], error


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_iam_user_name_over_64_characters(sandbox_env):
    iam = boto3.client("iam")
    iam.create_user(UserName=_name("u" * 55))  # 64: accepted
    _refused(lambda: iam.create_user(UserName=_name("u" * 56)), "ValidationError", "less than or equal to 64")


def test_inline_user_policy_over_2048_characters(sandbox_env):
    iam = boto3.client("iam")
    user = _name("limits-inline")
    iam.create_user(UserName=user)
    addresses = [f"endereco{n:03d}@escola-de-teste.com.br" for n in range(60)]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ses:SendRawEmail",
              "Resource": "*", "Condition": {"StringEquals": {"ses:FromAddress": addresses}}}]}
    assert len(json.dumps(policy, separators=(",", ":"))) > 2048
    _refused(lambda: iam.put_user_policy(UserName=user, PolicyName="send", PolicyDocument=json.dumps(policy)),
             "LimitExceeded", "2048")


def test_a_third_access_key(sandbox_env):
    iam = boto3.client("iam")
    user = _name("limits-keys")
    iam.create_user(UserName=user)
    iam.create_access_key(UserName=user)
    iam.create_access_key(UserName=user)
    _refused(lambda: iam.create_access_key(UserName=user), "LimitExceeded", "AccessKeysPerUser")


def test_configuration_set_name_over_64_characters(sandbox_env):
    ses = boto3.client("sesv2")
    _refused(lambda: ses.create_configuration_set(ConfigurationSetName="tutormail-" + "c" * 55),
             "BadRequestException", "64")


def test_more_than_50_tags_on_a_secret(sandbox_env):
    secrets = boto3.client("secretsmanager")
    name = _name("limits/tags")
    secrets.create_secret(Name=name, SecretString="obviously-fake",
                          Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(50)])
    _refused(lambda: secrets.tag_resource(SecretId=name, Tags=[{"Key": "one-more", "Value": "v"}]),
             "InvalidParameterException", "at most 50 tags")


def test_tag_key_over_127_characters(sandbox_env):
    secrets = boto3.client("secretsmanager")
    name = _name("limits/key")
    secrets.create_secret(Name=name, SecretString="obviously-fake")
    secrets.tag_resource(SecretId=name, Tags=[{"Key": "k" * 127, "Value": "v"}])
    _refused(lambda: secrets.tag_resource(SecretId=name, Tags=[{"Key": "k" * 128, "Value": "v"}]),
             "InvalidParameterException", "127")


def test_describe_stack_resources_returns_only_the_first_100(sandbox_env):
    """And the product's path (preflight's stack_physical_ids, ListStackResources) reads every resource."""
    from tutormail.preflight.check import stack_physical_ids

    cloudformation = boto3.client("cloudformation")
    name = _name("limits-resources")
    template = {"Resources": {f"Topic{n:03d}": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": f"{name}-{n}"}}
                              for n in range(105)}}
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))
    try:
        assert len(cloudformation.describe_stack_resources(StackName=name)["StackResources"]) == 100
        assert len(stack_physical_ids(cloudformation, name, "AWS::SNS::Topic")) == 105
    finally:
        cloudformation.delete_stack(StackName=name)


def test_a_managed_policy_over_6144_characters_and_an_11th_on_a_user(sandbox_env, tmp_path):
    """And the product's path: 60 link-verified addresses' send permissions, split by
    tutormail.plan.smtp_policy, are accepted and attached to one user."""
    import shutil

    from tutormail.plan.build import build_plan
    from tutormail.plan.loader import load_catalog
    from tutormail.plan.smtp_policy import send_policies

    from tests.conftest import INSTITUTIONS

    iam = boto3.client("iam")
    addresses = [f"endereco{n:03d}@escola-de-teste.com.br" for n in range(200)]
    big = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ses:SendRawEmail",
           "Resource": "*", "Condition": {"StringEquals": {"ses:FromAddress": addresses}}}]}
    _refused(lambda: iam.create_policy(PolicyName=_name("limits-big"), PolicyDocument=json.dumps(big)),
             "LimitExceeded", "PolicySize")
    user = _name("limits-managed")
    iam.create_user(UserName=user)
    small = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ses:SendRawEmail",
                                                                "Resource": "*"}]})
    arns = [iam.create_policy(PolicyName=_name("limits-small"), PolicyDocument=small)["Policy"]["Arn"]
            for _ in range(11)]
    for arn in arns[:10]:
        iam.attach_user_policy(UserName=user, PolicyArn=arn)
    _refused(lambda: iam.attach_user_policy(UserName=user, PolicyArn=arns[10]), "LimitExceeded", "PoliciesPerUser")

    shutil.copy(INSTITUTIONS / "platform.yaml", tmp_path / "platform.yaml")
    accounts = "".join(f"      conta{n}: contato{n}@escola-muitas-{n}.com.br\n" for n in range(60))
    (tmp_path / "escola-muitas.yaml").write_text(
        f"name: Escola Muitas\ncompanies:\n  - name: Escola Muitas\n    accounts:\n{accounts}")
    catalog = load_catalog(tmp_path)
    documents = send_policies(build_plan(catalog.institutions["escola-muitas"], catalog.platform))
    sender = _name("limits-sender")
    iam.create_user(UserName=sender)
    assert len(documents) > 1
    for document in documents:
        arn = iam.create_policy(PolicyName=_name("limits-send"), PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": document}))["Policy"]["Arn"]
        iam.attach_user_policy(UserName=sender, PolicyArn=arn)
