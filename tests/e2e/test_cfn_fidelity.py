"""CloudFormation's create, rollback and delete semantics on the sandbox (issue 12).

CloudFormation creates and never adopts: an SES identity that already exists fails the resource
(AlreadyExists) and rolls the stack back; identities are RetainExceptOnCreate, so the rollback of the
deploy that created them deletes them and a retry is not stuck, while a stack deletion keeps them.
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html
"""

from __future__ import annotations

import json
import shutil

import boto3
import pytest

from tests.conftest import INSTITUTIONS, cdk, run_cli

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


@pytest.fixture
def deploy(deployed, institutions, monkeypatch):
    env = deployed["env"]
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    def run():
        return cdk("deploy", f"TutorMail-{SLUG}", "--exclusively", "--require-approval", "never", "--method",
                   "direct", "-c", f"institutions_dir={institutions}", env=env)

    yield run
    boto3.client("cloudformation").delete_stack(StackName=f"TutorMail-{SLUG}")
    ses = boto3.client("sesv2")
    for name in (ADDRESS, PLATFORM_IDENTITY):
        if name in identities(ses):
            ses.delete_email_identity(EmailIdentity=name)


def test_a_first_deploy_failing_on_an_existing_identity_deploys_on_retry(deploy):
    ses, cloudformation = boto3.client("sesv2"), boto3.client("cloudformation")
    ses.create_email_identity(EmailIdentity=ADDRESS)  # made by hand, outside any stack
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


MAIL_FROM = f"bounce.{PLATFORM_IDENTITY}"


def spf_change(action: str, value: str) -> dict:
    return {"Changes": [{"Action": action, "ResourceRecordSet": {
        "Name": f"{MAIL_FROM}.", "Type": "TXT", "TTL": 1800, "ResourceRecords": [{"Value": value}]}}]}


# Route 53 CREATE fails on an existing record set; CloudFormation takes over an identical one:
# https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html
def test_a_record_that_exists_with_another_value_fails_the_deploy_and_is_left_as_it_was(deploy, institutions,
                                                                                        deployed):
    env = deployed["env"]
    route53 = boto3.client("route53")
    zone = "Z0123456789ABCDEFGHIJ"
    theirs = '"v=spf1 ip4:192.0.2.1 -all"'  # another SPF record at the MAIL FROM name
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch=spf_change("CREATE", theirs))
    preflight = run_cli("preflight", SLUG, "--output", "json", "--institutions", str(institutions), env=env)
    assert preflight.returncode == 1, preflight.stdout + preflight.stderr
    [report] = json.loads(preflight.stdout)["institutions"]
    assert any(c.startswith(f"{MAIL_FROM} TXT") for c in report["conflicts"])
    failed = deploy()
    assert failed.returncode != 0 and "already exists" in failed.stdout + failed.stderr
    found = route53.list_resource_record_sets(HostedZoneId=zone, StartRecordName=f"{MAIL_FROM}.",
                                              StartRecordType="TXT", MaxItems="1")["ResourceRecordSets"]
    assert found[0]["ResourceRecords"] == [{"Value": theirs}]  # byte for byte

    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch=spf_change("DELETE", theirs))
    identical = '"v=spf1 include:amazonses.com ~all"'  # exactly what the stack writes, same TTL
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch=spf_change("CREATE", identical))
    retried = deploy()
    assert retried.returncode == 0, retried.stderr[-3000:]
