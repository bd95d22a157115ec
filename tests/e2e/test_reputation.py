"""Issue 14 on the sandbox: one institution's bounces pause that institution only, automatically,
through the deployed alarms, the deployed rule's pattern and the package's pause handler."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys

import boto3
import pytest

from sandbox import launcher
from tests.conftest import REPO, TEST_RECIPIENT, run_cli
from tests.e2e.iam_calls import CallLog

# instituicao-xy's comunicacao is on a Route 53 domain: verified by the stack alone. Other tests rotate
# escola-padrao's key, so the institution that must keep sending is faculdade-delta (RFC 2136, published here).
PAUSED = "instituicao-xy"
OTHER = "faculdade-delta"
TO = TEST_RECIPIENT  # verified: the sandbox account starts in the SES sandbox
CALLS = CallLog()  # the CLI runs as the operator principal: IAM decides each call on tutormail-operator


def sandbox_reputation(state, slug, **rates):
    args = [sys.executable, "-m", "sandbox", "--state", str(state), "reputation", slug]
    for name, value in rates.items():
        args += [f"--{name.replace('_', '-')}", str(value)]
    result = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def as_json(result):
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


def cli(env, *args):
    return CALLS.run(env, *args)


@pytest.fixture
def env(deployed, monkeypatch):
    """The operator's environment for the CLI; in-process boto3 (the tests' look behind it) is the admin."""
    for key, value in deployed["env"].items():
        monkeypatch.setenv(key, value)
    yield deployed["operator_env"]
    # Leave the shared sandbox as the other tests expect it: low rates, sending on.
    sandbox_reputation(deployed["state"], PAUSED, bounce_rate=0.0, complaint_rate=0.0)
    run_cli("resume", PAUSED, "--force", env=deployed["env"])


def test_an_institution_over_its_pause_level_is_paused_alone(env, deployed):
    assert cli(env, "dns-publish", OTHER).returncode == 0  # idempotent: a no-op after other tests
    ready = cli(env, "verify", OTHER, "--wait", "--timeout", "60s")
    assert ready.returncode == 0, ready.stdout[-2000:] + ready.stderr[-2000:]
    played = sandbox_reputation(deployed["state"], PAUSED, bounce_rate=0.06, sends=500,
                                source="comunicacao@instituicaoxy.com.br")
    assert played["alarms"] == {f"tutormail-{level}-{PAUSED}-{kind}": "ALARM" if kind == "bounce" else "OK"
                                for level in ("warn", "pause") for kind in ("bounce", "complaint")}
    assert played["paused_by_handler"] is True and played["events"] == played["recorded"] == 20
    config_set = boto3.client("sesv2").get_configuration_set(ConfigurationSetName=f"tutormail-{PAUSED}")
    assert config_set["SendingOptions"]["SendingEnabled"] is False

    refused = cli(env, "send-test", PAUSED, "--to", TO, "--output", "json")
    reply = as_json(refused)
    assert refused.returncode == 1 and reply["accepted"] is False  # SES refused: a person must act
    assert reply["smtp_code"] == 554 and "Sending paused for this configuration set" in reply["server_reply"]
    other = as_json(cli(env, "send-test", OTHER, "--to", TO, "--output", "json"))
    assert other["smtp_code"] == 250 and other["accepted"] is True

    health = cli(env, "reputation", PAUSED, OTHER, "--output", "json")
    assert health.returncode == 1, health.stderr  # paused: a person must act
    found = {i["institution"]: i for i in as_json(health)["institutions"]}
    assert found[PAUSED]["paused"] is True and found[PAUSED]["bounce_rate"] == 0.06
    assert f"by automatic: alarm tutormail-pause-{PAUSED}-bounce" in found[PAUSED]["why"]
    assert len(found[PAUSED]["last_events"]) == 3
    for event in found[PAUSED]["last_events"]:  # the event record: each recipient masked to its domain
        assert " Bounce from=comunicacao@instituicaoxy.com.br bounce=Permanent/General message_id=sandbox-" in event
        assert event.endswith(" recipients=*@example.org") and "student" not in event  # never a local part
    assert found[OTHER]["paused"] is False and found[OTHER]["health"] == "ok"

    status = cli(env, "status", PAUSED, "--offline", "--output", "json")
    assert status.returncode == 1
    assert {(r["sending"], r["bounce_rate"]) for r in as_json(status)["rows"]} == {("paused", 0.06)}
    assert f"alarm tutormail-pause-{PAUSED}-bounce" in as_json(status)["rows"][0]["paused_why"]

    still = cli(env, "resume", PAUSED)
    assert still.returncode == 1 and "bounce rate 0.06 >= 0.04" in still.stderr
    sandbox_reputation(deployed["state"], PAUSED, bounce_rate=0.01, sends=500)
    resumed = cli(env, "resume", PAUSED, "--output", "json")
    assert resumed.returncode == 0, resumed.stderr
    assert as_json(cli(env, "send-test", PAUSED, "--to", TO, "--output", "json"))["smtp_code"] == 250


def test_the_event_record_is_what_lambda_wrote_with_the_functions_role(env, deployed):
    """The event-log handler ran as the deployed function (its role's session, checked by the sandbox's
    IAM): its log group holds Lambda's own lines around each record, and no recipient's local part."""
    played = sandbox_reputation(deployed["state"], PAUSED, complaint_rate=0.0004, sends=5000)  # 2, below warn
    assert played["recorded"] == 2 and played["paused_by_handler"] is False
    logs = boto3.client("logs")
    group = "/aws/lambda/tutormail-sending-events"
    [stream, *_] = sorted(logs.describe_log_streams(logGroupName=group)["logStreams"],
                          key=lambda s: s["creationTime"], reverse=True)
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", stream["logStreamName"])
    lines = [e["message"] for e in logs.get_log_events(logGroupName=group,
                                                       logStreamName=stream["logStreamName"])["events"]]
    assert lines[0].startswith("START RequestId: ") and lines[2].startswith("END RequestId: ")
    assert json.loads(lines[1]) | {"message_id": None} == {
        "event": "Complaint", "from": f"comunicacao@{PAUSED}.invalid", "bounce": None, "complaint": "abuse",
        "reject": None, "message_id": None, "configuration_set": f"tutormail-{PAUSED}", "recipients": ["*@example.org"]}
    everything = logs.filter_log_events(logGroupName=group)["events"]
    assert everything and not any("student" in e["message"] for e in everything)


def test_a_manual_pause_records_who_and_why(env):
    paused = cli(env, "pause", PAUSED, "--reason", "old list mailed; ticket 42", "--output", "json")
    assert paused.returncode == 0, paused.stderr
    [found] = as_json(cli(env, "reputation", PAUSED, "--output", "json"))["institutions"]
    assert found["paused"] is True and found["why"].endswith("old list mailed ticket 42")
    item = boto3.client("dynamodb").get_item(TableName="tutormail-progress", Key={
        "institution": {"S": PAUSED}, "mark": {"S": "tutormail:paused:switch"}})["Item"]
    assert item["value"]["S"].startswith("paused ")
    assert item["value"]["S"].split(" ")[2].endswith(":user/sandbox-operator")  # who, as AWS knows them


def test_one_bounce_in_a_small_hour_does_not_alarm(env, deployed):
    played = sandbox_reputation(deployed["state"], PAUSED, bounce_rate=0.1, sends=10)  # 1 bounce of 10
    assert set(played["alarms"].values()) == {"OK"} and played["paused_by_handler"] is False


def test_a_small_sender_at_30_percent_bounces_warns_and_then_pauses(env, deployed):
    """Below min_volume (100) the hour's bounces count over 100: 3 of 10 messages read 0.03 (warn at
    0.02), 15 of 50 read 0.15 (pause at 0.04); before, both read 0 and the school was never stopped."""
    warned = sandbox_reputation(deployed["state"], PAUSED, bounce_rate=0.3, sends=10)
    assert warned["alarms"][f"tutormail-warn-{PAUSED}-bounce"] == "ALARM"
    assert warned["alarms"][f"tutormail-pause-{PAUSED}-bounce"] == "OK" and warned["paused_by_handler"] is False
    assert warned["notifications"][f"tutormail-warn-{PAUSED}-bounce"]  # the warn alarm's SNS action ran
    paused = sandbox_reputation(deployed["state"], PAUSED, bounce_rate=0.3, sends=50)
    assert paused["alarms"][f"tutormail-pause-{PAUSED}-bounce"] == "ALARM" and paused["paused_by_handler"] is True
    config_set = boto3.client("sesv2").get_configuration_set(ConfigurationSetName=f"tutormail-{PAUSED}")
    assert config_set["SendingOptions"]["SendingEnabled"] is False
    health = cli(env, "reputation", PAUSED, "--output", "json")
    assert health.returncode == 1
    assert f"by automatic: alarm tutormail-pause-{PAUSED}-bounce" in as_json(health)["institutions"][0]["why"]


def _pause_role_policy():
    iam = boto3.client("iam")
    [role] = [r["RoleName"] for r in iam.list_roles()["Roles"] if "ReputationPauseRole" in r["RoleName"]]
    [name] = iam.list_role_policies(RoleName=role)["PolicyNames"]
    return iam, role, name, iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]


def test_a_failed_pause_is_kept_in_the_dead_letter_queue_and_shown(env, deployed):
    """The pause function fails for real (its role lost the SES statement): Lambda retries it (3
    attempts in the sandbox), then sends the event to the function's dead-letter queue with the
    function's role; `reputation` shows the failed pause and exits 1 while the message is there."""
    iam, role, name, document = _pause_role_policy()
    crippled = {**document, "Statement": [s for s in document["Statement"] if s.get("Sid") != "PauseOneInstitution"]}
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="tutormail-failed-pauses")["QueueUrl"]
    iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(crippled))
    try:
        played = sandbox_reputation(deployed["state"], PAUSED, bounce_rate=0.06, sends=500)
    finally:
        iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))
    try:
        alarm = f"tutormail-pause-{PAUSED}-bounce"
        assert played["alarms"][alarm] == "ALARM" and played["paused_by_handler"] is False
        [failure] = played["failed_pauses"][alarm]
        assert failure.startswith("failed 3 times (ServiceError: ") and "AccessDenied" in failure
        assert failure.endswith("sent to arn:aws:sqs:us-east-1:123456789012:tutormail-failed-pauses")
        config_set = boto3.client("sesv2").get_configuration_set(ConfigurationSetName=f"tutormail-{PAUSED}")
        assert config_set["SendingOptions"]["SendingEnabled"] is True  # nothing stopped the institution

        health = cli(env, "reputation", PAUSED, OTHER, "--output", "json")
        assert health.returncode == 1, health.stderr  # a person must pause it by hand
        reply = as_json(health)
        [kept] = reply["failed_pauses"]
        assert reply["failed_pauses_in_queue"] == 1
        assert kept["institution"] == PAUSED and kept["alarm"] == alarm and "AccessDenied" in kept["error"]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", kept["at"])
        assert as_json(cli(env, "reputation", OTHER, "--output", "json"))["failed_pauses"] == []  # not OTHER's
        table = cli(env, "reputation", PAUSED)
        assert table.returncode == 1 and f"{PAUSED}: PAUSE FAILED at " in table.stdout
        assert "pause by hand" in table.stderr
        # Read with a visibility timeout of 0: reading twice still finds it.
        assert as_json(cli(env, "reputation", PAUSED, "--output", "json"))["failed_pauses_in_queue"] == 1
    finally:
        sqs.purge_queue(QueueUrl=url)
        sandbox_reputation(deployed["state"], PAUSED, bounce_rate=0.0, complaint_rate=0.0)
    assert cli(env, "reputation", PAUSED, OTHER).returncode == 0  # the message gone, nothing left to act on


def test_the_operator_table_is_exactly_what_the_reputation_commands_called():
    """reputation, pause and resume ran above as the operator: each call was allowed by the policy
    built from tutormail.aws.permissions, and each of their rows was called."""
    missing, unused = CALLS.differences({"reputation", "pause", "resume"})
    assert not missing, f"called but not in tutormail.aws.permissions: {missing}"
    assert not unused, f"granted but never called by the command: {unused}"


@pytest.mark.parametrize("form", ["bare", "star"])
def test_a_log_group_grant_counts_only_in_its_trailing_star_form(platform_deployed, form):
    """IAM policies name a log group as `log-group:NAME:*` for its actions (CloudWatch Logs' ARN
    page); a grant on the bare ARN matches none, here as in AWS. The event record's function role
    and the operator's FilterLogEvents rely on the difference."""
    admin = platform_deployed["env"]
    group = "/aws/lambda/tutormail-sending-events"
    resource = f"arn:aws:logs:us-east-1:123456789012:log-group:{group}" + (":*" if form == "star" else "")
    where = {"endpoint_url": admin["AWS_ENDPOINT_URL"], "region_name": admin["AWS_REGION"]}
    iam = boto3.session.Session(aws_access_key_id=admin["AWS_ACCESS_KEY_ID"],
                                aws_secret_access_key=admin["AWS_SECRET_ACCESS_KEY"]).client("iam", **where)
    name = f"logs-probe-{form}"
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_policy(PolicyName=name, PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:FilterLogEvents"], "Resource": resource}]}))
    probe = launcher.principal(admin, name, [name])
    logs = boto3.session.Session(aws_access_key_id=probe["AWS_ACCESS_KEY_ID"],
                                 aws_secret_access_key=probe["AWS_SECRET_ACCESS_KEY"]).client("logs", **where)
    calls = (lambda: logs.create_log_stream(logGroupName=group, logStreamName=f"probe-{form}"),
             lambda: logs.filter_log_events(logGroupName=group, limit=1))
    for call in calls:
        if form == "star":
            call()
        else:
            with pytest.raises(logs.exceptions.ClientError) as refused:
                call()
            assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
