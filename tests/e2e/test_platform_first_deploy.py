"""Issue 23: TutorMail-Platform's first deploy into an account that already has GitHub's OIDC provider.

IAM holds one OIDC provider per URL and refuses a second (EntityAlreadyExists); CloudFormation
rolls the stack back, and what it created is deleted, the progress table and the log groups
included (RetainExceptOnCreate), so the retry with `github.oidc_provider: existing` succeeds.
https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html
Its own sandbox (a fresh account), the platform file alone: nothing else is deployed.
"""

from __future__ import annotations

import json

import boto3
import pytest

from sandbox import launcher
from tests.conftest import DEPLOY, INSTITUTIONS, cdk, run_cli

PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    directory = tmp_path_factory.mktemp("platform-only")
    (directory / "platform.yaml").write_text((INSTITUTIONS / "platform.yaml").read_text())
    state = tmp_path_factory.mktemp("platform-sandbox")
    env = {**launcher.up(state, directory), "TUTORMAIL_INSTITUTIONS": str(directory)}
    try:
        yield {"dir": directory, "env": env}
    finally:
        launcher.down(state)


def _session(env):
    return boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                 aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name=env["AWS_REGION"])


def _client(env, service):
    return _session(env).client(service, endpoint_url=env["AWS_ENDPOINT_URL"])


def _preflight(fresh):
    result = run_cli("preflight", "--platform", "--output", "json", env=fresh["env"])
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


def test_first_deploy_into_an_account_that_has_githubs_provider(fresh):
    env, directory = fresh["env"], fresh["dir"]

    def deploy():
        return cdk(*DEPLOY, "TutorMail-Platform", "-c", f"institutions_dir={directory}", env=env)

    assert cdk("bootstrap", launcher.bootstrap_target(directory), "-c", f"institutions_dir={directory}",
               env=env).returncode == 0
    iam = _client(env, "iam")
    iam.create_open_id_connect_provider(Url="https://token.actions.githubusercontent.com",
                                        ClientIDList=["sts.amazonaws.com"])

    code, report = _preflight(fresh)
    assert code == 1 and report["schema_version"]
    [conflict] = report["conflicts"]
    assert PROVIDER in conflict and "github.oidc_provider: existing" in conflict

    failed = deploy()  # what preflight foretold: IAM refuses a second provider for the URL
    assert failed.returncode != 0
    assert "already exists" in failed.stdout + failed.stderr
    # The rollback deleted what this deploy created, table and log groups included: nothing blocks a retry.
    assert "tutormail-progress" not in _client(env, "dynamodb").list_tables()["TableNames"]
    assert not [g for g in _client(env, "logs").describe_log_groups()["logGroups"]
                if g["logGroupName"].startswith("/aws/lambda/tutormail-")]

    platform = directory / "platform.yaml"
    platform.write_text(platform.read_text().replace("  environment: production\n",
                                                     "  environment: production\n  oidc_provider: existing\n"))
    code, report = _preflight(fresh)
    assert code == 0 and report["conflicts"] == []

    done = deploy()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    trust = iam.get_role(RoleName="tutormail-ci-deploy")["Role"]["AssumeRolePolicyDocument"]
    assert [s["Principal"]["Federated"] for s in trust["Statement"]] == [PROVIDER]
    assert [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]] == [PROVIDER]
    code, report = _preflight(fresh)  # the stack's own table and log groups are no conflict
    assert code == 0, report
