"""Issue 23 on one deployed institution: an alarm's notification reaches a person, and only because the
topic's policy allows it; a pause survives a deploy of the institution's stack.

CloudWatch publishes an alarm's SNS action as the principal cloudwatch.amazonaws.com; a topic whose
policy does not allow it refuses ("is not authorized to perform: SNS:Publish") and nobody is told
(https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger). The sandbox decides
each action on the deployed topic policy. One small institution is deployed, nothing more.
"""

from __future__ import annotations

import email
import email.policy
import json
import shutil

import boto3
import pytest

from tests.conftest import DEPLOY, INSTITUTIONS, cdk, run_cli
from tests.e2e.test_reputation import sandbox_reputation

SLUG = "escola-padrao"
WARN = f"tutormail-warn-{SLUG}-bounce"
TEAM = "reputation-alerts@sistematutor.com.br"  # institutions/platform.yaml reputation.notify


def _deploy(env, *context):
    result = cdk(*DEPLOY, f"TutorMail-{SLUG}", "--exclusively", *context, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="module")
def one_institution(platform_deployed):
    from sandbox import launcher

    deployer = launcher.principal(platform_deployed["env"], "deployer", ["tutormail-deploy"])
    _deploy(deployer)
    return {**platform_deployed, "deploy_env": deployer}


@pytest.fixture
def admin(one_institution, monkeypatch):
    for key, value in one_institution["env"].items():
        monkeypatch.setenv(key, value)
    yield one_institution
    sandbox_reputation(one_institution["state"], SLUG, bounce_rate=0.0, complaint_rate=0.0)


def _notifications(state, alarm):
    found = []
    for path in sorted((state / "outbox").glob(f"*-sns-*-{TEAM}.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if f'"{alarm}"' in message["Subject"]:
            found.append(message)
    return found


def test_a_warn_alarm_mails_the_platform_team(admin):
    before = len(_notifications(admin["state"], WARN))
    played = sandbox_reputation(admin["state"], SLUG, bounce_rate=0.03, sends=500)  # warn 0.02, pause 0.04
    assert played["alarms"][WARN] == "ALARM" and played["paused_by_handler"] is False
    assert played["notifications"][WARN] == [
        f"Published to arn:aws:sns:us-east-1:123456789012:tutormail-reputation: {TEAM}"]
    mails = _notifications(admin["state"], WARN)
    assert len(mails) == before + 1
    assert mails[-1]["Subject"] == f'ALARM: "{WARN}" in us-east-1' and "bounce rate" in mails[-1].get_content()


def test_a_topic_policy_without_the_cloudwatch_principal_reaches_nobody(admin):
    """The policy CDK wrote before issue 23 (enforce_ssl's Deny alone, replacing SNS's default)."""
    sns = boto3.client("sns")
    [arn] = [t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":tutormail-reputation")]
    deployed_policy = sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"]
    statements = json.loads(deployed_policy)["Statement"]
    assert {s["Effect"] for s in statements} == {"Allow", "Deny"}  # the deployed policy holds the Allow
    only_deny = {"Version": "2012-10-17", "Statement": [s for s in statements if s["Effect"] == "Deny"]}
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(only_deny))
    try:
        before = len(_notifications(admin["state"], WARN))
        played = sandbox_reputation(admin["state"], SLUG, bounce_rate=0.03, sends=500)
        assert played["alarms"][WARN] == "ALARM"
        [failure] = played["notifications"][WARN]
        assert failure.startswith(f"Failed to execute action {arn}")
        assert "not authorized to perform: SNS:Publish" in failure
        assert len(_notifications(admin["state"], WARN)) == before
    finally:
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=deployed_policy)


def test_a_paused_institution_stays_paused_across_a_deploy_of_its_stack(admin, tmp_path):
    """The sandbox takes the stricter reading of an undocumented point: every stack update re-applies a
    declared SendingEnabled (sandbox/moto_ext/reputation.py). The stack declares none, so the pause stays."""
    env = admin["env"]
    paused = run_cli("pause", SLUG, "--reason", "issue 23 deploy check", env=env)
    assert paused.returncode == 0, paused.stderr
    try:
        directory = tmp_path / "institutions"
        shutil.copytree(INSTITUTIONS, directory)
        path = directory / f"{SLUG}.yaml"
        path.write_text(path.read_text() + "reputation:\n  warn_bounce_rate: 0.025\n")  # an update of the stack
        _deploy(admin["deploy_env"], "-c", f"institutions_dir={directory}")
        alarm = boto3.client("cloudwatch").describe_alarms(AlarmNames=[WARN])["MetricAlarms"][0]
        assert alarm["Threshold"] == 0.025  # the deploy did update the stack
        config_set = boto3.client("sesv2").get_configuration_set(ConfigurationSetName=f"tutormail-{SLUG}")
        assert config_set["SendingOptions"]["SendingEnabled"] is False
    finally:
        assert run_cli("resume", SLUG, "--force", env=env).returncode == 0
