"""CloudFormation's create, rollback and delete semantics on the sandbox (issue 12).

CloudFormation creates and never adopts: an SES identity that already exists fails the resource
(AlreadyExists) and rolls the stack back; identities are RetainExceptOnCreate, so the rollback of the
deploy that created them deletes them and a retry is not stuck, while a stack deletion keeps them.
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html
"""

from __future__ import annotations

import shutil

import boto3
import pytest

from tests.conftest import INSTITUTIONS, cdk

SLUG = "escola-conflito"
ADDRESS = "contato@conflito.com.br"
PLATFORM_IDENTITY = f"{SLUG}.sistematutor.com.br"


@pytest.fixture
def institutions(tmp_path):
    directory = tmp_path / "institutions"
    shutil.copytree(INSTITUTIONS, directory)
    (directory / f"{SLUG}.yaml").write_text(
        "name: Escola Conflito\ncompanies:\n  - name: Escola Conflito\n    accounts:\n"
        f"      comunicacao: {ADDRESS}\n")
    return directory


def identities(ses) -> set[str]:
    return {i["IdentityName"] for i in ses.list_email_identities(PageSize=1000)["EmailIdentities"]}


def test_a_first_deploy_failing_on_an_existing_identity_deploys_on_retry(deployed, institutions, monkeypatch):
    env = deployed["env"]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    ses, cloudformation = boto3.client("sesv2"), boto3.client("cloudformation")
    ses.create_email_identity(EmailIdentity=ADDRESS)  # made by hand, outside any stack

    def deploy():
        return cdk("deploy", f"TutorMail-{SLUG}", "--exclusively", "--require-approval", "never", "--method",
                   "direct", "-c", f"institutions_dir={institutions}", env=env)

    try:
        failed = deploy()
        assert failed.returncode != 0
        assert "already exists" in failed.stdout + failed.stderr
        [stack] = cloudformation.describe_stacks(StackName=f"TutorMail-{SLUG}")["Stacks"]
        assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
        assert PLATFORM_IDENTITY not in identities(ses)  # created by the failed deploy: rolled back
        assert ADDRESS in identities(ses)  # not the stack's: untouched

        ses.delete_email_identity(EmailIdentity=ADDRESS)  # the conflict is resolved
        retried = deploy()
        assert retried.returncode == 0, retried.stderr[-3000:]
        assert {PLATFORM_IDENTITY, ADDRESS} <= identities(ses)

        cloudformation.delete_stack(StackName=f"TutorMail-{SLUG}")
        assert {PLATFORM_IDENTITY, ADDRESS} <= identities(ses)  # kept when the stack goes
    finally:
        cloudformation.delete_stack(StackName=f"TutorMail-{SLUG}")
        for name in (ADDRESS, PLATFORM_IDENTITY):
            if name in identities(ses):
                ses.delete_email_identity(EmailIdentity=name)
