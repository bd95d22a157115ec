"""Sending health (issue 14): per-institution alarms, and the platform's pause action and event log.

- `InstitutionAlarms` (in each institution's stack): warn and pause alarms on the configuration
  set's Reputation.BounceRate / Reputation.ComplaintRate (namespace AWS/SES, dimension
  ses:configuration-set), notifying the platform's SNS topic. Below `min_volume` messages in the hour
  the rate is read from the hour's own bounce and complaint counts (see `volume_expression`).
  https://docs.aws.amazon.com/ses/latest/dg/reputationdashboard-cloudwatch-alarm.html
  https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-cloudwatch.html
- `PlatformReputation` (in the platform stack): the topic and its subscriptions, one Lambda (the
  package's tutormail.reputation.handler) run by an EventBridge rule on pause alarms' state
  changes, allowed only ses:PutConfigurationSetSendingOptions on configuration-set/tutormail-* and
  PutItem on the progress table (the pause mark); and the event record: a second handler of the
  same package (tutormail.reputation.event_log) run by a rule on SES's bounces, complaints and
  rejects, writing one line per event, recipients masked to their domain, into its own log group.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from tutormail import names
from tutormail.aws.progress_store import PARTITION_KEY, SORT_KEY, VALUE
from tutormail.catalog.model import Platform
from tutormail.catalog.reputation_fields import Thresholds

from . import logical_ids

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
# The Lambdas carry only what their handlers import (boto3 comes with the runtime), never the catalogue.
LAMBDA_FILES = ("tutormail/__init__.py", "tutormail/clock.py", "tutormail/exitcodes.py", "tutormail/aws/__init__.py",
                "tutormail/aws/client.py", "tutormail/aws/sending.py", "tutormail/aws/inbound_mail.py",
                "tutormail/aws/progress_store.py", "tutormail/aws/progress_marks.py",
                "tutormail/reputation/__init__.py", "tutormail/names.py", "tutormail/reputation/pause.py",
                "tutormail/reputation/handler.py", "tutormail/reputation/event_log.py",
                "tutormail/inbound/__init__.py", "tutormail/inbound/replies.py")  # issue 25
PERIOD = Duration.hours(1)
# SES's events kept in the record (https://docs.aws.amazon.com/ses/latest/dg/monitoring-eventbridge.html).
LOGGED_EVENTS = ("Email Bounced", "Email Complaint Received", "Email Rejected")


def volume_expression(min_volume: int) -> str:
    """The alarm's value: SES's rate once the hour holds `min_volume` messages; below that, the hour's
    own bounces (or complaints) over `min_volume`, as if the missing messages had all been delivered.

    Why not 0 below the volume, as before: SES judges the account as a whole, over the account's
    recent eligible messages, not per hour nor per sender (an enforcement notice reads "we measured
    this rate over the last 10,192 eligible emails ... over the last 224.9 days"), and reviews it at a
    5% bounce / 0.1% complaint rate, pausing at 10% / 0.5%:
    https://docs.aws.amazon.com/ses/latest/dg/faqs-enforcement.html
    https://docs.aws.amazon.com/ses/latest/dg/reputationdashboardmessages.html
    https://repost.aws/knowledge-center/ses-resolve-account-review-pause
    A school's 15 hard bounces in 50 messages weigh on that rate exactly as 15 bounces of a large
    sender do, hour after hour, so they must count. Why not the small hour's own rate (15/50): one
    bounce in 3 messages is 33% and would pause on noise. Counted over `min_volume` the small hour
    can only read lower than its true rate, never higher, and it alarms exactly where a sender at
    `min_volume` would (4 bounces of 100 pause at 4%): 1 bounce in 10 messages stays below the warn
    level, 3 in 10 warn, 15 in 50 pause. A longer window was the other choice, but an alarm's
    metric math has no sliding sum and a day-long period would also slow the hourly alarm of the
    large senders. The counts are the configuration set's Bounce and Complaint events (a Bounce
    event is a hard bounce, or a soft one SES gave up retrying), FILL'd to 0 in an hour without one:
    https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-cloudwatch.html
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html

    The sandbox evaluates the same expression (sandbox/metric_math.py reads the alarm's own)."""
    return f"IF(sends >= {min_volume}, rate, FILL(events, 0) / {min_volume})"


def _code() -> lambda_.Code:
    """One asset for the handlers: the files of LAMBDA_FILES, nothing else of the project. Their
    directories are kept as well: CDK does not look inside a directory "**" excluded, so the files'
    own "!" patterns alone left the asset empty (tests/infra/test_reputation_stack.py)."""
    directories = sorted({str(parent) for f in LAMBDA_FILES for parent in PurePosixPath(f).parents} - {"."})
    return lambda_.Code.from_asset(str(SCRIPTS), exclude=["**", *(f"!{d}" for d in directories),
                                                          *(f"!{f}" for f in LAMBDA_FILES)])


def _log_group(scope: Construct, construct_id: str, name: str, retention_days: int) -> logs.LogGroup:
    # RetainExceptOnCreate: kept, except by the rollback of the deploy that created it (a kept group
    # would fail every retry "already exists"): see infra/progress_table.py.
    group = logs.LogGroup(scope, construct_id, log_group_name=name,
                          removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
    # The days come from platform.yaml, already checked against what CloudWatch Logs accepts.
    group.node.default_child.retention_in_days = retention_days
    return group


class InstitutionAlarms(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, slug: str, thresholds: Thresholds,
                 configuration_set: ses.ConfigurationSet) -> None:
        super().__init__(scope, construct_id)
        name = names.configuration_set(slug)
        # The Send, Bounce and Complaint counts per configuration set exist only with a CloudWatch event
        # destination (the small senders' counts: see volume_expression).
        configuration_set.add_event_destination(
            "SendVolume", configuration_set_event_destination_name="send-volume",
            destination=ses.EventDestination.cloud_watch_dimensions([ses.CloudWatchDimension(
                name=names.DIMENSION, source=ses.CloudWatchDimensionSource.MESSAGE_TAG, default_value=name)]),
            events=[ses.EmailSendingEvent.SEND, ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT])
        stack = Stack.of(self)
        topic = sns.Topic.from_topic_arn(self, "Topic", f"arn:{stack.partition}:sns:{stack.region}:{stack.account}:"
                                         f"{names.TOPIC}")
        dimensions = {names.DIMENSION: name}
        sends = cloudwatch.Metric(namespace="AWS/SES", metric_name="Send", dimensions_map=dimensions,
                                  statistic="Sum", period=PERIOD)
        for kind in names.KINDS:
            rate = cloudwatch.Metric(namespace="AWS/SES", metric_name=names.METRIC[kind], dimensions_map=dimensions,
                                     statistic="Maximum", period=PERIOD)
            counted = cloudwatch.Metric(namespace="AWS/SES", metric_name=names.EVENT_METRIC[kind],
                                        dimensions_map=dimensions, statistic="Sum", period=PERIOD)
            value = cloudwatch.MathExpression(expression=volume_expression(thresholds.min_volume),
                                              using_metrics={"rate": rate, "sends": sends, "events": counted},
                                              period=PERIOD,
                                              label=f"{kind} rate of {name}")
            for level in names.LEVELS:
                threshold = getattr(thresholds, f"{level}_{kind}_rate")
                alarm = cloudwatch.Alarm(
                    self, f"{level.capitalize()}{kind.capitalize()}", metric=value, threshold=threshold,
                    alarm_name=names.alarm_name(slug, level, kind), evaluation_periods=1,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                    alarm_description=f"{slug}: {kind} rate at or above {threshold:g} ({level}"
                                      + ("; the platform pauses this institution's sending)" if level == "pause"
                                         else ")"))
                alarm.add_alarm_action(actions.SnsAction(topic))


class PlatformReputation(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, platform: Platform,
                 progress: dynamodb.ITable) -> None:
        super().__init__(scope, construct_id)
        settings = platform.reputation
        retention = settings.event_retention_days
        self.topic = sns.Topic(self, "Topic", topic_name=names.TOPIC, enforce_ssl=True,
                               display_name="tutor-mail sending health")
        for address in settings.notify:
            self.topic.add_subscription(subscriptions.EmailSubscription(address))
        self._allow_alarms(self.topic)
        Validations.of(self.topic).acknowledge(Acknowledgment(
            id="AwsSolutions-SNS2", reason="Alarm notifications carry alarm names and rates, never mail content "
            "or recipients; CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key."))
        self.failed_pauses = self._failed_pauses_queue()
        self.function = self._pause_function(retention, progress, self.failed_pauses)
        events.Rule(self, "PauseAlarms", description="A pause alarm went into ALARM: stop that institution's sending",
                    event_pattern=events.EventPattern(
                        source=["aws.cloudwatch"], detail_type=["CloudWatch Alarm State Change"],
                        detail={"alarmName": [{"prefix": names.pause_alarm_prefix()}],
                                "state": {"value": ["ALARM"]}}),
                    targets=[targets.LambdaFunction(self.function, retry_attempts=4,
                                                    dead_letter_queue=self.failed_pauses)])
        self._event_log(retention)

    @staticmethod
    def _allow_alarms(topic: sns.Topic) -> None:
        """`enforce_ssl` makes CDK write the topic's policy, which replaces SNS's default one: without
        this statement CloudWatch's alarm actions fail "is not authorized to perform: SNS:Publish" and
        no warn nor pause notification reaches anyone. Only tutor-mail alarms of this account and
        region may publish (aws:SourceArn, aws:SourceAccount: the confused-deputy guard).
        https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger
        https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html"""
        stack = Stack.of(topic)
        topic.add_to_resource_policy(iam.PolicyStatement(
            sid="TutormailAlarmsPublish", actions=["sns:Publish"], resources=[topic.topic_arn],
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            conditions={"ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:cloudwatch:{stack.region}:"
                                                      f"{stack.account}:alarm:{names.ALARM_WILDCARD}"},
                        "StringEquals": {"aws:SourceAccount": stack.account}}))

    def _failed_pauses_queue(self) -> sqs.Queue:
        """Where a pause that did not happen is kept: the alarm stays in ALARM and fires no second
        event, so without it a failed pause leaves no trace. Two writers, one queue:
        - the function's own dead-letter queue (DeadLetterConfig): EventBridge invokes Lambda
          asynchronously, so an error the handler raises is Lambda's to retry (twice by default) and
          then to send here with the function's role; EventBridge's retries and its target DLQ never
          see it. https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html#invocation-dlq
        - the rule target's dead-letter queue: EventBridge could not hand the event to Lambda at all
          (the function missing, its resource policy refusing), after the target's 4 retries, allowed
          by the queue policy for this rule only (CDK writes events.amazonaws.com with aws:SourceArn).
          https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
        Encrypted with SQS's managed key (a KMS key would need its own policy for EventBridge), TLS
        only, kept 14 days (SQS's longest retention): `reputation` shows each message and exits 1."""
        queue = sqs.Queue(self, "FailedPauses", queue_name=names.FAILED_PAUSES_QUEUE,
                          encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                          retention_period=Duration.days(14))
        Validations.of(queue).acknowledge(Acknowledgment(
            id="AwsSolutions-SQS3", reason="This queue is itself the dead-letter queue of the pause function "
            "and of its EventBridge target."))
        return queue

    def _pause_function(self, retention: int, progress: dynamodb.ITable, failed: sqs.Queue) -> lambda_.Function:
        stack = Stack.of(self)
        role = iam.Role(self, "PauseRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description="tutormail pause action: one institution's configuration set, nothing else")
        role.add_to_policy(iam.PolicyStatement(
            sid="PauseOneInstitution", actions=["ses:PutConfigurationSetSendingOptions"],
            resources=[f"arn:{stack.partition}:ses:{stack.region}:{stack.account}:configuration-set/"
                       f"{names.CONFIGURATION_SET_WILDCARD}"]))
        # The pause mark is one item of the progress table. IAM cannot hold the function to that item:
        # dynamodb:LeadingKeys matches only the partition key (the slug, any institution here), no
        # condition key matches a sort key. So: PutItem only (it cannot delete, BatchWriteItem can),
        # on that table only, with no attribute beyond the store's three and no old item returned.
        # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
        # https://repost.aws/knowledge-center/dynamodb-table-restrict-attributes
        role.add_to_policy(iam.PolicyStatement(
            sid="RecordWhy", actions=["dynamodb:PutItem"], resources=[progress.table_arn],
            conditions={"ForAllValues:StringEquals": {"dynamodb:Attributes": [PARTITION_KEY, SORT_KEY, VALUE]},
                        "StringEqualsIfExists": {"dynamodb:ReturnValues": "NONE"}}))
        Validations.of(role).acknowledge(Acknowledgment(
            id=f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:{stack.region}:{stack.account}:"
               f"configuration-set/{names.CONFIGURATION_SET_WILDCARD}]",
            reason="The action must reach every institution's configuration set (tutormail-*)."))
        function, _ = _function(self, "Pause", names.PAUSE_FUNCTION, "tutormail.reputation.handler.handler", role,
                                retention, "Turns off sending for the institution whose pause alarm fired, and "
                                "records why", dead_letter_queue=failed)
        return function

    def _event_log(self, retention: int) -> lambda_.Function:
        """SES's bounces, complaints and rejects of tutormail configuration sets, one line each with the
        recipients masked to their domain (an input transformer can pick fields but cannot cut an
        address down to its domain, so the record is written by the package's own handler)."""
        role = iam.Role(self, "SendingEventsRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description="tutormail event record: writes its own log group, nothing else")
        function, log_group = _function(
            self, "SendingEvents", names.EVENT_LOG_FUNCTION, "tutormail.reputation.event_log.handler", role, retention,
            "Keeps each bounce, complaint and reject of tutormail configuration sets, recipients masked to "
            "their domain")
        # The record itself: a new logical id would replace the log group and lose its history.
        log_group.node.default_child.override_logical_id(logical_ids.SENDING_EVENTS_LOG)
        # The rule adds the function's resource-based permission for events.amazonaws.com, for this
        # rule's ARN only: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-lambda-permissions
        events.Rule(self, "SendingEventsRule", description="Bounces, complaints and rejects of tutormail "
                    "configuration sets, to the event record (recipients masked to their domain)",
                    event_pattern=events.EventPattern(
                        source=["aws.ses"], detail_type=list(LOGGED_EVENTS),
                        detail={"mail": {"tags": {names.DIMENSION: [{"prefix": names.CONFIGURATION_SET_PREFIX}]}}}),
                    targets=[targets.LambdaFunction(function, retry_attempts=4)])
        return function


def _function(scope: Construct, construct_id: str, name: str, handler: str, role: iam.Role, retention: int,
              description: str, dead_letter_queue: sqs.IQueue | None = None) -> tuple[lambda_.Function, logs.LogGroup]:
    """A handler of the package, with its own role, which may write its own log group and nothing more.

    The log group has Lambda's default name, /aws/lambda/<function name>, made here to hold the
    retention: https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html"""
    stack = Stack.of(scope)
    log_group_name = names.log_group(name)
    log_group = _log_group(scope, f"{construct_id}Log", log_group_name, retention)
    # Lambda writes the function's output with the function's role; the log-group ARN ending in :* is the
    # form IAM policies take for these actions, and log streams have generated names
    # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html).
    own_log = (f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:{log_group_name}"
               f"{names.LOG_GROUP_ARN_SUFFIX}")
    role.add_to_policy(iam.PolicyStatement(sid="OwnLog", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                           resources=[own_log]))
    function = lambda_.Function(
        scope, construct_id, function_name=name, runtime=lambda_.Runtime.PYTHON_3_14, handler=handler, role=role,
        log_group=log_group, code=_code(), timeout=Duration.seconds(30), memory_size=128, description=description,
        dead_letter_queue=dead_letter_queue)
    # CDK makes the function depend on the role and its policy; the role is already referenced
    # (Fn::GetAtt), and cfn-lint flags the redundant edge (W3005): keep only the policy's.
    policy = role.node.find_child("DefaultPolicy").node.default_child
    function.node.default_child.add_override("DependsOn", [stack.resolve(stack.get_logical_id(policy))])
    Validations.of(role).acknowledge(Acknowledgment(
        id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{own_log.replace(stack.partition, '<AWS::Partition>', 1)}]",
        reason="Log streams of the function's own log group have generated names."))
    return function, log_group
