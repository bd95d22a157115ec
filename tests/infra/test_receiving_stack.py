"""Receiving on the platform domain (issue 25), asserted on the synthesized templates."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk.assertions import Template
from tutormail import names
from tutormail.plan.loader import load_catalog

from infra import logical_ids
from tests import factory
from tests.infra.conftest import synthesize

RECEIVING = "receiving:\n  check_subdomain: check\n  retention_days: 3\n"


@pytest.fixture(scope="module")
def receiving_app(tmp_path_factory):
    directory = tmp_path_factory.mktemp("receiving")
    platform = directory / "platform-source.yaml"
    platform.write_text(factory.PLATFORM.read_text() + RECEIVING)
    factory.write_institutions(directory / "i", {
        "escola-a": factory.institution("Escola A", slug="escola-a"),
        "escola-b": {**factory.institution("Escola B", slug="escola-b"), "replies_to": "secretaria@escolab.example"},
    }, platform=platform)
    return synthesize(load_catalog(directory / "i"))


def _resources(app, stack):
    return Template.from_stack(app.node.find_child(stack)).to_json()["Resources"]


def test_stateful_receiving_resources_keep_their_logical_ids(receiving_app):
    found = _resources(receiving_app, "TutorMail-Platform")
    assert (logical_ids.INBOUND_BUCKET, logical_ids.RECEIPT_RULE_SET, logical_ids.INBOUND_TABLE) == (
        "InboundMailBucket", "InboundRuleSet", "InboundTable")
    assert found[logical_ids.INBOUND_BUCKET]["Type"] == "AWS::S3::Bucket"
    assert found[logical_ids.RECEIPT_RULE_SET]["Properties"] == {"RuleSetName": names.RECEIPT_RULE_SET}
    assert found[logical_ids.INBOUND_TABLE]["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires", "Enabled": True}
    for logical_id in (logical_ids.INBOUND_BUCKET, logical_ids.RECEIPT_RULE_SET, logical_ids.INBOUND_TABLE):
        assert found[logical_id]["DeletionPolicy"] == "RetainExceptOnCreate"


def test_the_bucket_is_private_encrypted_tls_only_and_expires_mail(receiving_app):
    found = _resources(receiving_app, "TutorMail-Platform")
    bucket = found[logical_ids.INBOUND_BUCKET]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                        "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert bucket["LifecycleConfiguration"]["Rules"] == [
        {"ExpirationInDays": 3, "Id": "expire-received-mail", "Status": "Enabled"}]
    policy = next(r for r in found.values() if r["Type"] == "AWS::S3::BucketPolicy")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    tls = [s for s in statements if s["Effect"] == "Deny"]
    assert tls and tls[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    puts = {s["Sid"]: s for s in statements if s["Effect"] == "Allow"}
    assert set(puts) == {"SesPutsCheckMessages", "SesPutsReplies"}
    for sid, rule in (("SesPutsCheckMessages", names.CHECK_RULE), ("SesPutsReplies", names.REPLIES_RULE)):
        statement = puts[sid]
        assert statement["Principal"] == {"Service": "ses.amazonaws.com"}
        assert statement["Action"] == "s3:PutObject"
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
        arn = json.dumps(statement["Condition"]["ArnLike"]["aws:SourceArn"])
        assert f"receipt-rule-set/{names.RECEIPT_RULE_SET}:receipt-rule/{rule}" in arn


def test_check_rule_stores_under_its_prefix_then_stops(receiving_app):
    found = _resources(receiving_app, "TutorMail-Platform")
    rules = {r["Properties"]["Rule"]["Name"]: r["Properties"] for r in found.values()
             if r["Type"] == "AWS::SES::ReceiptRule"}
    assert set(rules) == {names.CHECK_RULE, names.REPLIES_RULE}
    rule = rules[names.CHECK_RULE]["Rule"]
    assert rules[names.CHECK_RULE]["RuleSetName"] == names.RECEIPT_RULE_SET
    assert rule["Name"] == names.CHECK_RULE and rule["Enabled"] is True
    assert rule["Recipients"] == ["check.sistematutor.com.br"]
    assert rule["Actions"][0]["S3Action"]["ObjectKeyPrefix"] == names.CHECK_PREFIX
    assert rule["Actions"][1] == {"StopAction": {"Scope": "RuleSet"}}
    group = next(r["Properties"] for r in found.values() if r["Type"] == "AWS::Route53::RecordSetGroup")
    mx = [r for r in group["RecordSets"] if r["Type"] == "MX"]
    assert group["HostedZoneId"] == "Z0123456789ABCDEFGHIJ"
    assert mx == [{"Name": "check.sistematutor.com.br", "Type": "MX", "TTL": "300",
                   "ResourceRecords": ["10 inbound-smtp.us-east-1.amazonaws.com"]}]


def test_replies_handler_may_only_read_replies_and_send_as_platform_subdomains(receiving_app):
    found = _resources(receiving_app, "TutorMail-Platform")
    function = next(r for r in found.values() if r["Type"] == "AWS::Lambda::Function"
                    and r["Properties"].get("FunctionName") == names.REPLIES_FUNCTION)
    assert function["Properties"]["Handler"] == "tutormail.inbound.replies.handler"
    permission = next(r["Properties"] for r in found.values() if r["Type"] == "AWS::Lambda::Permission"
                      and r["Properties"]["Principal"] == "ses.amazonaws.com")
    assert f"receipt-rule/{names.REPLIES_RULE}\"" in json.dumps(permission["SourceArn"])
    assert permission["SourceAccount"] == "123456789012"
    role_policy = next(r["Properties"]["PolicyDocument"]["Statement"] for key, r in found.items()
                       if r["Type"] == "AWS::IAM::Policy" and key.startswith("InboundRepliesRole"))
    by_sid = {s["Sid"]: s for s in role_policy}
    assert json.dumps(by_sid["SendAsPlatform"]["Resource"]).endswith(':identity/*.sistematutor.com.br"]]}')
    assert "replies/*" in json.dumps(by_sid["ReadReplies"]["Resource"])
    assert by_sid["ReadReplies"]["Action"] == "s3:GetObject"


def test_one_replies_rule_after_the_check_rule_receives_for_every_platform_subdomain(receiving_app):
    """One rule for the fleet (a set holds 200), never one per institution: no institution stack has one."""
    found = _resources(receiving_app, "TutorMail-Platform")
    [(key, rule)] = [(k, r["Properties"]) for k, r in found.items() if r["Type"] == "AWS::SES::ReceiptRule"
                     and r["Properties"]["Rule"]["Name"] == names.REPLIES_RULE]
    assert rule["RuleSetName"] == names.RECEIPT_RULE_SET and rule["After"] == names.CHECK_RULE
    assert rule["Rule"]["Recipients"] == [".sistematutor.com.br"] and rule["Rule"]["Enabled"] is True
    s3, invoke = rule["Rule"]["Actions"]
    assert s3["S3Action"]["ObjectKeyPrefix"] == names.REPLIES_PREFIX
    assert invoke["LambdaAction"]["InvocationType"] == "Event"
    permission = next(k for k, r in found.items() if r["Type"] == "AWS::Lambda::Permission"
                      and r["Properties"]["Principal"] == "ses.amazonaws.com")
    assert permission in found[key]["DependsOn"]  # SES checks its permission when the rule is made
    for slug in ("escola-a", "escola-b"):
        assert not [r for r in _resources(receiving_app, f"TutorMail-{slug}").values()
                    if r["Type"] == "AWS::SES::ReceiptRule"]


def test_each_institution_stack_brings_its_mx_and_settings(receiving_app):
    for slug, replies_to in (("escola-a", None), ("escola-b", "secretaria@escolab.example")):
        found = _resources(receiving_app, f"TutorMail-{slug}")
        mx = [r for g in found.values() if g["Type"] == "AWS::Route53::RecordSetGroup"
              for r in g["Properties"]["RecordSets"]
              if r["Type"] == "MX" and r["Name"] == f"{slug}.sistematutor.com.br"]
        assert mx and mx[0]["ResourceRecords"] == ["10 inbound-smtp.us-east-1.amazonaws.com"]
        parameter = next(r["Properties"] for r in found.values() if r["Type"] == "AWS::SSM::Parameter")
        assert parameter["Name"] == f"/tutormail/{slug}/inbound"
        settings = json.loads(parameter["Value"])
        assert settings["replies_to"] == replies_to
        assert settings["from_address"] == f"comunicacao@{slug}.sistematutor.com.br"


def test_the_check_subdomain_is_a_verified_domain_identity(receiving_app):
    found = _resources(receiving_app, "TutorMail-Platform")
    identities = [r["Properties"] for r in found.values() if r["Type"] == "AWS::SES::EmailIdentity"]
    assert [i["EmailIdentity"] for i in identities] == ["check.sistematutor.com.br"]
    group = next(r["Properties"] for r in found.values() if r["Type"] == "AWS::Route53::RecordSetGroup")
    assert group["HostedZoneId"] == "Z0123456789ABCDEFGHIJ"
    assert [r["Type"] for r in group["RecordSets"]] == ["CNAME"] * 3 + ["MX"]


def test_without_receiving_nothing_is_received(example_app):
    platform = _resources(example_app, "TutorMail-Platform")
    xy = _resources(example_app, "TutorMail-instituicao-xy")
    for resources in (platform, xy):
        assert not [r for r in resources.values() if r["Type"].startswith("AWS::SES::Receipt")]
        assert not [r for r in resources.values() if r["Type"] == "AWS::S3::Bucket"]


def test_cfn_lint_finds_nothing_in_the_receiving_templates(receiving_app):
    cfn_lint = shutil.which("cfn-lint") or str(Path(sys.executable).parent / "cfn-lint")
    directory = Path(receiving_app.synth().directory)
    result = subprocess.run([cfn_lint, *map(str, directory.glob("*.template.json"))], capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
