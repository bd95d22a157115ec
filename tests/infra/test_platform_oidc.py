"""Issue 23: GitHub's OIDC provider, created by TutorMail-Platform or the account's own (IAM holds one
provider per URL: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html)."""

from __future__ import annotations

import shutil

import pytest
from aws_cdk.assertions import Template
from tutormail.catalog.problems import ConfigurationError
from tutormail.plan.loader import load_catalog

from tests.conftest import INSTITUTIONS
from tests.infra.conftest import synthesize

EXISTING = ["arn:", {"Ref": "AWS::Partition"}, ":iam::123456789012:oidc-provider/token.actions.githubusercontent.com"]


def _platform(tmp_path, line: str):
    directory = tmp_path / "institutions"
    shutil.copytree(INSTITUTIONS, directory)
    path = directory / "platform.yaml"
    path.write_text(path.read_text().replace("  environment: production\n", f"  environment: production\n{line}"))
    return directory


def _trusted(template: Template) -> list:
    return [role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Federated"]
            for role in template.find_resources("AWS::IAM::Role").values()
            if role["Properties"].get("RoleName", "").startswith("tutormail-ci-")]


def test_an_existing_provider_is_trusted_and_never_created(tmp_path):
    app = synthesize(load_catalog(_platform(tmp_path, "  oidc_provider: existing\n"), only=[]))
    template = Template.from_stack(app.node.find_child("TutorMail-Platform"))
    assert not template.find_resources("AWS::IAM::OIDCProvider")
    assert _trusted(template) == [{"Fn::Join": ["", EXISTING]}] * 4  # plan, deploy, offboard, watch


def test_by_default_the_stack_creates_the_provider(example_app):
    template = Template.from_stack(example_app.node.find_child("TutorMail-Platform"))
    [provider_id] = template.find_resources("AWS::IAM::OIDCProvider", {
        "Properties": {"Url": "https://token.actions.githubusercontent.com"}})
    assert _trusted(template) == [{"Fn::GetAtt": [provider_id, "Arn"]}] * 4


def test_any_other_value_is_refused(tmp_path):
    with pytest.raises(ConfigurationError) as refused:
        load_catalog(_platform(tmp_path, "  oidc_provider: adopt\n"), only=[])
    assert any("oidc_provider" in str(p) for p in refused.value.problems)
