"""Issue 14 on the synthesized templates: alarms, the pause rule and action's policy, the event log."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from aws_cdk.assertions import Match, Template

from infra import logical_ids

XY = "instituicao-xy"


@pytest.fixture(scope="module")
def platform_template(example_app) -> Template:
    return Template.from_stack(example_app.node.find_child("TutorMail-Platform"))


def _alarm(template, name):
    [alarm] = [r["Properties"] for r in template.find_resources("AWS::CloudWatch::Alarm").values()
               if r["Properties"]["AlarmName"] == name]
    return alarm


@pytest.mark.parametrize(("level", "kind", "metric", "threshold"), [
    ("warn", "bounce", "Reputation.BounceRate", 0.02), ("pause", "bounce", "Reputation.BounceRate", 0.04),
    ("warn", "complaint", "Reputation.ComplaintRate", 0.0005),
    ("pause", "complaint", "Reputation.ComplaintRate", 0.0008)])
def test_warn_and_pause_alarms_on_the_configuration_set(xy_template, level, kind, metric, threshold):
    alarm = _alarm(xy_template, f"tutormail-{level}-{XY}-{kind}")
    assert alarm["Threshold"] == threshold and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching" and alarm["EvaluationPeriods"] == 1
    dimension = [{"Name": "ses:configuration-set", "Value": f"tutormail-{XY}"}]
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    assert queries["rate"]["MetricStat"]["Metric"] == {"Namespace": "AWS/SES", "MetricName": metric,
                                                       "Dimensions": dimension}
    assert queries["sends"]["MetricStat"]["Metric"] == {"Namespace": "AWS/SES", "MetricName": "Send",
                                                        "Dimensions": dimension}
    assert queries["events"]["MetricStat"]["Metric"] == {
        "Namespace": "AWS/SES", "MetricName": {"bounce": "Bounce", "complaint": "Complaint"}[kind],
        "Dimensions": dimension}
    assert queries["events"]["MetricStat"]["Stat"] == "Sum" and queries["rate"]["MetricStat"]["Stat"] == "Maximum"
    [expression] = [q for q in alarm["Metrics"] if "Expression" in q]
    # Below 100 messages in the hour, the hour's own bounces (or complaints) over 100: small senders count.
    assert expression["Expression"] == "IF(sends >= 100, rate, FILL(events, 0) / 100)"
    assert expression["ReturnData"] is True
    assert json.dumps(alarm["AlarmActions"]).endswith(':sns:us-east-1:123456789012:tutormail-reputation"]]}]')


def test_send_volume_reaches_cloudwatch_per_configuration_set(xy_template):
    xy_template.has_resource_properties("AWS::SES::ConfigurationSetEventDestination", {
        "EventDestination": {"MatchingEventTypes": ["send", "bounce", "complaint"],
                             "CloudWatchDestination": {"DimensionConfigurations": [
            {"DimensionName": "ses:configuration-set", "DimensionValueSource": "messageTag",
             "DefaultDimensionValue": f"tutormail-{XY}"}]}}})


def test_the_pause_rule_matches_pause_alarms_only(platform_template):
    platform_template.has_resource_properties("AWS::Events::Rule", {
        "EventPattern": {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
                         "detail": {"alarmName": [{"prefix": "tutormail-pause-"}], "state": {"value": ["ALARM"]}}},
        "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [Match.string_like_regexp("ReputationPause"), "Arn"]}})]})


def _policy_of(template, role_id_part):
    [policy] = [p["Properties"] for p in template.find_resources("AWS::IAM::Policy").values()
                if role_id_part in p["Properties"]["Roles"][0]["Ref"]]
    return policy["PolicyDocument"]["Statement"]


def _own_log(name):
    """Lambda's log streams of its own log group, in the `:*` form IAM policies take."""
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                              f":logs:us-east-1:123456789012:log-group:/aws/lambda/{name}:*"]]}


def test_the_pause_action_may_only_pause_and_record_why(platform_template):
    statements = _policy_of(platform_template, "PauseRole")
    by_sid = {s["Sid"]: s for s in statements if "Sid" in s}
    assert by_sid["PauseOneInstitution"]["Action"] == "ses:PutConfigurationSetSendingOptions"
    assert json.dumps(by_sid["PauseOneInstitution"]["Resource"]).endswith(
        ':ses:us-east-1:123456789012:configuration-set/tutormail-*"]]}')
    assert by_sid["RecordWhy"]["Action"] == "dynamodb:PutItem"  # PutItem cannot delete a mark
    [table_id] = platform_template.find_resources("AWS::DynamoDB::Table")
    assert by_sid["RecordWhy"]["Resource"] == {"Fn::GetAtt": [table_id, "Arn"]}
    assert by_sid["RecordWhy"]["Condition"] == {
        "ForAllValues:StringEquals": {"dynamodb:Attributes": ["institution", "mark", "value"]},
        "StringEqualsIfExists": {"dynamodb:ReturnValues": "NONE"}}
    others = [s for s in statements if s.get("Sid") not in ("PauseOneInstitution", "RecordWhy")]
    [queue_id] = platform_template.find_resources("AWS::SQS::Queue")
    assert sorted(([s["Action"]] if isinstance(s["Action"], str) else sorted(s["Action"]), json.dumps(s["Resource"]))
                  for s in others) == sorted([
        (["logs:CreateLogStream", "logs:PutLogEvents"], json.dumps(_own_log("tutormail-reputation-pause"))),
        (["sqs:SendMessage"], json.dumps({"Fn::GetAtt": [queue_id, "Arn"]}))])  # its dead-letter queue
    platform_template.has_resource_properties("AWS::Lambda::Function", {
        "FunctionName": "tutormail-reputation-pause", "Handler": "tutormail.reputation.handler.handler"})


def test_sending_events_go_to_the_event_record_function(platform_template):
    [(rule_id, rule)] = [(k, r["Properties"]) for k, r in platform_template.find_resources("AWS::Events::Rule").items()
                         if r["Properties"]["EventPattern"]["source"] == ["aws.ses"]]
    assert rule["EventPattern"] == {
        "source": ["aws.ses"], "detail-type": ["Email Bounced", "Email Complaint Received", "Email Rejected"],
        "detail": {"mail": {"tags": {"ses:configuration-set": [{"prefix": "tutormail-"}]}}}}
    [target] = rule["Targets"]
    assert "InputTransformer" not in target and "RoleArn" not in target  # the whole event; a resource policy
    [function_id] = platform_template.find_resources("AWS::Lambda::Function", {"Properties": {
        "FunctionName": "tutormail-sending-events", "Handler": "tutormail.reputation.event_log.handler",
        "Runtime": "python3.14", "LoggingConfig": {"LogGroup": {"Ref": "SendingEventsLog"}}}})
    assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    # Only EventBridge, and only for this rule, may invoke it.
    platform_template.has_resource_properties("AWS::Lambda::Permission", {
        "Action": "lambda:InvokeFunction", "Principal": "events.amazonaws.com",
        "FunctionName": {"Fn::GetAtt": [function_id, "Arn"]}, "SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}})


def test_the_event_record_is_its_own_retained_log_group(platform_template):
    # Pinned: the record's history is in this log group; a new logical id would replace it.
    found = platform_template.to_json()["Resources"][logical_ids.SENDING_EVENTS_LOG]
    assert logical_ids.SENDING_EVENTS_LOG == "SendingEventsLog"
    assert found["Type"] == "AWS::Logs::LogGroup" and found["DeletionPolicy"] == "RetainExceptOnCreate"
    assert found["Properties"] == {"LogGroupName": "/aws/lambda/tutormail-sending-events", "RetentionInDays": 90}
    assert not platform_template.find_resources("AWS::Logs::ResourcePolicy")  # nothing else writes to it


def test_the_event_record_function_may_only_write_its_own_log(platform_template):
    assert _policy_of(platform_template, "SendingEventsRole") == [{
        "Sid": "OwnLog", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": _own_log("tutormail-sending-events")}]
    [role] = [r["Properties"] for k, r in platform_template.find_resources("AWS::IAM::Role").items()
              if "SendingEventsRole" in k]
    assert "ManagedPolicyArns" not in role and "Policies" not in role
    assert role["AssumeRolePolicyDocument"]["Statement"] == [{
        "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}]


def test_alarm_notifications_reach_the_platform_team(platform_template):
    platform_template.has_resource_properties("AWS::SNS::Subscription", {
        "Protocol": "email", "Endpoint": "reputation-alerts@sistematutor.com.br"})


def test_cloudwatch_alarms_of_tutormail_may_publish_to_the_topic(platform_template):
    """enforce_ssl replaces SNS's default policy: the CloudWatch principal must be allowed explicitly."""
    [policy] = [r["Properties"] for r in platform_template.find_resources("AWS::SNS::TopicPolicy").values()]
    [allow] = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and allow["Action"] == "sns:Publish"
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert allow["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Join"][1][-1] == (
        ":cloudwatch:us-east-1:123456789012:alarm:tutormail-*")


def test_the_lambda_package_holds_only_what_the_handler_imports(tmp_path):
    """The asset's files, imported with boto3 and nothing else of the project on the path."""
    from infra.reputation import LAMBDA_FILES, SCRIPTS

    for name in LAMBDA_FILES:
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((SCRIPTS / name).read_bytes())
    # The project's own scripts/ (on the path through the editable install) is taken out first.
    code = (f"import sys; sys.path = [{str(tmp_path)!r}] + [p for p in sys.path if p != {str(SCRIPTS)!r}]; "
            "import tutormail.reputation.handler, tutormail.reputation.event_log, tutormail.inbound.replies; "
            "import tutormail; "
            "print(tutormail.__file__)")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "tutormail" / "__init__.py")


def test_the_lambda_asset_is_the_lambda_files_and_nothing_else(example_app):
    """What CDK stages (and a deploy zips and uploads) for the functions' Code: the directories of
    the files have to be kept too, or an exclude of "**" leaves the asset empty and every function
    is deployed without its handler."""
    from pathlib import Path

    from infra.reputation import LAMBDA_FILES

    directory = Path(example_app.synth().directory)
    [asset] = [path for path in directory.glob("asset.*") if path.is_dir()]
    staged = sorted(str(p.relative_to(asset)) for p in asset.rglob("*") if p.is_file())
    assert staged == sorted(LAMBDA_FILES)


def test_a_failed_pause_is_kept_in_an_encrypted_queue_only_the_pause_rule_and_function_write(platform_template):
    [(queue_id, queue)] = platform_template.find_resources("AWS::SQS::Queue").items()
    assert queue["Properties"] == {"QueueName": "tutormail-failed-pauses", "SqsManagedSseEnabled": True,
                                   "MessageRetentionPeriod": 14 * 24 * 3600}
    [function] = [r["Properties"] for r in platform_template.find_resources("AWS::Lambda::Function").values()
                  if r["Properties"]["FunctionName"] == "tutormail-reputation-pause"]
    # Lambda's own DLQ: the handler's errors, after Lambda's asynchronous retries.
    assert function["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    assert {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": {"Fn::GetAtt": [queue_id, "Arn"]}} in \
        _policy_of(platform_template, "PauseRole")
    # The rule target's DLQ: EventBridge could not invoke the function at all.
    [(rule_id, rule)] = [(k, r["Properties"]) for k, r in platform_template.find_resources("AWS::Events::Rule").items()
                         if r["Properties"]["EventPattern"]["source"] == ["aws.cloudwatch"]]
    [target] = rule["Targets"]
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 4
    [policy] = platform_template.find_resources("AWS::SQS::QueuePolicy").values()
    assert policy["Properties"]["Queues"] == [{"Ref": queue_id}]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    allowed = [{k: v for k, v in s.items() if k != "Sid"} for s in statements if s["Effect"] == "Allow"]
    assert allowed == [{"Action": "sqs:SendMessage", "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"}, "Resource": {"Fn::GetAtt": [queue_id, "Arn"]},
                        "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}}]
    [tls] = [s for s in statements if s["Effect"] == "Deny"]
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
