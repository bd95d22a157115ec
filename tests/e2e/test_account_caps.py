"""Issue 23: preflight reads the account's own quotas on the sandbox (IAM GetAccountSummary, SES
ListEmailIdentities, CloudFormation DescribeAccountLimits and ListStacks, Route 53
GetHostedZoneLimit), as the operator, and falls back to the documented defaults when a read is
refused."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest

from sandbox import launcher
from tests.conftest import run_cli

ZONE = "Z0123456789ABCDEFGHIJ"  # the examples' platform zone


@pytest.fixture
def admin(platform_deployed, monkeypatch):
    for key, value in platform_deployed["env"].items():
        monkeypatch.setenv(key, value)
    return platform_deployed


def _caps(env) -> dict:
    result = run_cli("preflight", "--all", "--output", "json", env=env)
    assert result.returncode in (0, 1), result.stderr[-2000:]  # 1: a conflict of the examples, not a cap
    return {c["cap"]: c for c in json.loads(result.stdout)["caps"]}


def test_preflight_counts_what_the_account_holds_against_its_own_quotas(admin):
    iam = boto3.client("iam")
    caps = _caps(admin["operator_env"])
    summary = iam.get_account_summary()["SummaryMap"]
    policies = caps["customer managed policies"]
    assert (policies["used_in_account"], policies["account_quota"]) == (summary["Policies"], 1500)
    assert policies["source"] == "IAM GetAccountSummary"
    assert policies["institutions_left"] == (1500 - summary["Policies"]) // policies["per_institution"]
    stacks = boto3.client("cloudformation").list_stacks()["StackSummaries"]
    assert caps["CloudFormation stacks"]["used_in_account"] == sum(s["StackStatus"] != "DELETE_COMPLETE"
                                                                   for s in stacks)
    assert caps["CloudFormation stacks"]["account_quota"] == 2000  # DescribeAccountLimits' StackLimit
    records = boto3.client("route53").list_resource_record_sets(HostedZoneId=ZONE)["ResourceRecordSets"]
    assert caps["platform zone records"]["used_in_account"] == len(records)
    assert caps["platform zone records"]["account_quota"] == 10000
    identities = boto3.client("sesv2").list_email_identities(PageSize=1000)["EmailIdentities"]
    assert caps["SES identities"]["used_in_account"] == len(identities)

    # One more customer managed policy in the account (another application's): one less for us.
    iam.create_policy(PolicyName=f"other-app-{uuid.uuid4().hex[:8]}", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}))
    assert _caps(admin["operator_env"])["customer managed policies"]["used_in_account"] == summary["Policies"] + 1


def test_a_refused_read_falls_back_to_the_documented_default(admin):
    """A principal whose policy lacks iam:GetAccountSummary: IAM refuses, preflight goes on with the
    documented 1,500 and the files' own count, and says so."""
    iam = boto3.client("iam")
    operator = next(p for p in iam.list_policies(Scope="Local")["Policies"] if p["PolicyName"] == "tutormail-operator")
    document = iam.get_policy_version(PolicyArn=operator["Arn"], VersionId=operator["DefaultVersionId"])[
        "PolicyVersion"]["Document"]
    document = json.loads(document) if isinstance(document, str) else document
    for statement in document["Statement"]:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        statement["Action"] = [a for a in actions if a != "iam:GetAccountSummary"]
    name = f"operator-without-summary-{uuid.uuid4().hex[:6]}"
    iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))
    limited = launcher.principal(admin["env"], name, [name])
    policies = _caps(limited)["customer managed policies"]
    assert policies["source"].startswith("refused (IAM GetAccountSummary: AccessDenied")
    assert policies["used_in_account"] is None and policies["account_quota"] == 1500
    assert policies["institutions_left"] == (1500 - policies["used"]) // policies["per_institution"]
