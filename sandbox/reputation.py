"""`python -m sandbox reputation SLUG --bounce-rate 0.06`: play SES and CloudWatch for one institution.

In the emulator process (`/_sandbox/reputation`): the institution's Reputation.* and Send metrics
go into moto's CloudWatch, its bounces and complaints become SES's EventBridge events, its alarms
are evaluated from those metrics with their own metric-math definition, and a pause alarm that goes
into ALARM becomes the EventBridge event CloudWatch would emit. moto does not invoke Lambda targets,
so the sandbox plays EventBridge and Lambda for the package's two handlers (the same code as in
AWS): each deployed rule that targets the function and whose pattern matches the event (moto's own
matcher) runs the handler once, with a session of the function's own role, and what the handler
prints is written into the function's log group as Lambda writes it. An alarm's SNS action is
carried out as CloudWatch does it: as the principal cloudwatch.amazonaws.com, with the alarm as
aws:SourceArn, decided on the topic's own policy (the sandbox's IAM evaluator); allowed, the
notification reaches each e-mail subscriber as a file in the outbox; refused, the alarm's history
keeps CloudWatch's "Failed to execute action" and nobody is told
(https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger). The sandbox does not
model the e-mail subscription's confirmation: every e-mail subscriber receives the notification.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto.awslambda.models import lambda_backends
from moto.cloudwatch.models import cloudwatch_backends
from moto.core.utils import utcnow
from moto.events.models import events_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends
from moto.sts.models import sts_backends
from tutormail import names

from . import metric_math
from .config import SandboxConfig
from .iam.evaluator import ALLOWED, EVALUATOR
from .moto_ext.reputation import dead_letter_target

# The first invocation and Lambda's 2 retries: MaximumRetryAttempts' default, which the stack keeps
# (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html).
LAMBDA_ATTEMPTS = 3
_COMPARE = {"GreaterThanOrEqualToThreshold": float.__ge__, "GreaterThanThreshold": float.__gt__}
EVENT_TYPES = {"bounce": ("Bounce", "Email Bounced"), "complaint": ("Complaint", "Email Complaint Received")}


def _put_metrics(config: SandboxConfig, slug: str, rates: dict[str, float], sends: int) -> None:
    """Each call stands for a new hour of sending: the institution's earlier datapoints are dropped, so
    a lower rate brings the alarms back to OK now instead of an hour later (the only time the sandbox
    compresses)."""
    backend = cloudwatch_backends[config.account][config.region]
    dimensions = [{"Name": names.DIMENSION, "Value": names.configuration_set(slug)}]
    backend.metric_data = [d for d in backend.metric_data if not (
        d.namespace == "AWS/SES" and any(dim.value == dimensions[0]["Value"] for dim in d.dimensions))]
    # No Timestamp: moto stamps the datum with its own (naive UTC) clock, as its API path does.
    data = [{"MetricName": names.METRIC[kind], "Value": rate, "Dimensions": dimensions} for kind, rate in rates.items()]
    data.append({"MetricName": "Send", "Value": float(sends), "Unit": "Count", "Dimensions": dimensions})
    # The event destination's counts of the same hour: each bounce and complaint is one event
    # (https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-cloudwatch.html).
    data += [{"MetricName": names.EVENT_METRIC[kind], "Value": float(round(rate * sends)), "Unit": "Count",
              "Dimensions": dimensions} for kind, rate in rates.items() if round(rate * sends)]
    backend.put_metric_data("AWS/SES", data)


_STATISTICS = {"Sum": sum, "Maximum": max, "Minimum": min, "SampleCount": len,
               "Average": lambda values: sum(values) / len(values)}


def _datapoint(config: SandboxConfig, stat: dict[str, Any], now: datetime) -> float | None:
    """One MetricStat's value for the period that ends now: the statistic of the metric's datums
    (namespace, name and the exact dimension set, as CloudWatch identifies a metric), None when the
    period holds none."""
    metric = stat["Metric"]
    wanted = sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
    since, until = now - timedelta(seconds=int(stat["Period"])), now + timedelta(seconds=1)
    values = [float(d.value) for d in cloudwatch_backends[config.account][config.region].get_all_metrics()
              if d.namespace == metric["Namespace"] and d.name == metric["MetricName"]
              and since <= d.timestamp <= until and sorted((x.name, x.value) for x in d.dimensions) == wanted]
    if stat["Stat"] not in _STATISTICS:
        raise RuntimeError(f"the sandbox does not compute the statistic {stat['Stat']!r}")
    return float(_STATISTICS[stat["Stat"]](values)) if values else None


def alarm_value(config: SandboxConfig, alarm: Any, now: datetime) -> float | None:
    """The alarm's metric math over its own MetricStats, as the stack declared them; an expression
    outside what sandbox/metric_math.py evaluates is refused rather than guessed."""
    values = {m["Id"]: _datapoint(config, m["MetricStat"], now) for m in alarm.sandbox_metrics
              if "MetricStat" in m}
    [expression] = [m["Expression"] for m in alarm.sandbox_metrics if "Expression" in m and m.get("ReturnData", True)]
    try:
        return metric_math.evaluate(expression, values)
    except metric_math.UnsupportedExpression as exc:
        raise RuntimeError(f"alarm {alarm.name}: {exc}") from exc


def _alarm_event(config: SandboxConfig, alarm: Any, previous: str) -> dict[str, Any]:
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "CloudWatch Alarm State Change",
            "source": "aws.cloudwatch", "account": config.account, "region": config.region,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "resources": [alarm.alarm_arn],
            "detail": {"alarmName": alarm.name, "state": {"value": alarm.state_value, "reason": alarm.state_reason},
                       "previousState": {"value": previous}}}


def _rules_matching(config: SandboxConfig, event: dict[str, Any], function_name: str) -> list[Any]:
    """The deployed rules that target the function and match the event (moto's own matcher)."""
    bus = events_backends[config.account][config.region].event_buses["default"]
    return [rule for rule in bus.rules.values()
            if any(t["Arn"].endswith(f":function:{function_name}") for t in rule.targets)
            and rule.event_pattern.matches_event(event)]


def _function_session(config: SandboxConfig, function_name: str) -> boto3.session.Session:
    """Credentials of the deployed function's own role, as Lambda hands them to its code: a session of
    that role, so the sandbox's IAM decides the handler's calls on the role's policy (the same
    statements as in AWS). Made here, as Lambda makes them: the trust policy allows only
    lambda.amazonaws.com, which no sandbox caller is."""
    function = lambda_backends[config.account][config.region].get_function(function_name)
    session = sts_backends[config.account][config.partition].assume_role(
        region_name=config.region, role_session_name=function_name, role_arn=function.role,
        policy="", duration=900, external_id="")
    return boto3.session.Session(aws_access_key_id=session.access_key_id,
                                 aws_secret_access_key=session.secret_access_key,
                                 aws_session_token=session.session_token, region_name=config.region)


# stdout is the process's: one invocation at a time captures it.
_CAPTURE = threading.Lock()


def _invoke(config: SandboxConfig, function_name: str, run: Callable[[boto3.session.Session], dict[str, Any]],
            ) -> dict[str, Any]:
    """One Lambda invocation of the package's handler (`run` calls it with the role's session)."""
    # The handler talks to "AWS" like the Lambda would: here, this emulator over loopback.
    os.environ["AWS_ENDPOINT_URL"] = config.base_url
    session = _function_session(config, function_name)
    request_id, started, output = str(uuid.uuid4()), time.monotonic(), io.StringIO()
    try:
        with _CAPTURE, contextlib.redirect_stdout(output):
            return run(session)
    except Exception as exc:
        output.write(f"[ERROR] {type(exc).__name__}: {exc}\n")  # what Lambda's Python runtime logs
        raise
    finally:
        _write_function_log(session, function_name, request_id, output.getvalue().splitlines(),
                            time.monotonic() - started)


def _write_function_log(session: boto3.session.Session, function_name: str, request_id: str, lines: list[str],
                        seconds: float) -> None:
    """What Lambda writes for one invocation: its START/END/REPORT lines around each line the code
    printed, into /aws/lambda/<function name>, in a stream `YYYY/MM/DD/[$LATEST]<environment id>`,
    with the function's role (its policy must allow CreateLogStream and PutLogEvents there). The
    sandbox starts a new execution environment, so a new stream, for every invocation.
    https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html
    https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html"""
    group, stream = f"/aws/lambda/{function_name}", f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
    logs = session.client("logs")
    now = int(time.time() * 1000)
    messages = [f"START RequestId: {request_id} Version: $LATEST", *lines, f"END RequestId: {request_id}",
                f"REPORT RequestId: {request_id}\tDuration: {seconds * 1000:.2f} ms\tMemory Size: 128 MB"]
    try:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(logGroupName=group, logStreamName=stream,
                            logEvents=[{"timestamp": now, "message": message} for message in messages])
    except ClientError as exc:
        # AWS would lose these lines without a word; the sandbox says why instead.
        raise RuntimeError(f"Lambda could not write {function_name}'s log with its role: {exc}") from exc


def _queue_url(config: SandboxConfig, arn: str) -> str:
    name = arn.rsplit(":", 1)[-1]
    return f"https://sqs.{config.region}.amazonaws.com/{config.account}/{name}"


def _lambda_dead_letter(config: SandboxConfig, function_name: str, event: dict[str, Any], error: Exception) -> str:
    """What Lambda does with an asynchronous event whose every attempt failed: with a DeadLetterConfig
    it sends the event to that queue with the function's role (its policy must allow sqs:SendMessage),
    the error in the RequestID / ErrorCode / ErrorMessage attributes; without one it drops the event.
    https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html#invocation-dlq"""
    target = dead_letter_target(lambda_backends[config.account][config.region].get_function(function_name))
    if not target:
        return "dropped: the function has no dead-letter queue"
    attributes = {"RequestID": str(uuid.uuid4()), "ErrorCode": "200", "ErrorMessage": str(error)[:1024]}
    try:
        _function_session(config, function_name).client("sqs").send_message(
            QueueUrl=_queue_url(config, target), MessageBody=json.dumps(event),
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()})
    except ClientError as exc:
        # AWS would only count a DeadLetterErrors metric; the sandbox says why instead.
        raise RuntimeError(f"Lambda could not send {function_name}'s failed event to {target}: {exc}") from exc
    return f"sent to {target}"


def _eventbridge_dead_letter(config: SandboxConfig, rule: Any, target: dict[str, Any], event: dict[str, Any],
                             error: str) -> str:
    """EventBridge could not invoke the target (here: the function does not exist, which no retry
    mends): the event goes to the target's dead-letter queue if the queue's policy lets
    events.amazonaws.com send for this rule (aws:SourceArn), else it is lost.
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html"""
    arn = (target.get("DeadLetterConfig") or {}).get("Arn")
    queue = sqs_backends[config.account][config.region].queues.get(arn.rsplit(":", 1)[-1]) if arn else None
    if queue is None:
        return "lost: the target has no dead-letter queue"
    context = {"aws:SourceArn": rule.arn, "aws:SourceAccount": config.account, "aws:SecureTransport": "true"}
    answer = EVALUATOR.decide(action="sqs:SendMessage", principal="events.amazonaws.com", resource=queue.queue_arn,
                              account=config.account, policies=[], context=context,
                              resource_policy=json.loads(queue.policy or '{"Statement": []}'))
    if answer["decision"] != ALLOWED:
        return f"lost: the policy of {arn} does not let this rule send"
    attributes = {"RULE_ARN": rule.arn, "TARGET_ARN": target["Arn"], "ERROR_CODE": "ResourceNotFoundException",
                  "ERROR_MESSAGE": error}
    sqs_backends[config.account][config.region].send_message(
        queue.name, json.dumps(event),
        message_attributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()})
    return f"sent to {arn}"


def _invoke_async(config: SandboxConfig, function_name: str, event: dict[str, Any],
                  run: Callable[[boto3.session.Session], dict[str, Any]]) -> tuple[dict[str, Any] | None, str]:
    """EventBridge invokes Lambda asynchronously: an error the handler raises is retried by Lambda,
    LAMBDA_ATTEMPTS in all (without the minutes Lambda waits between them), then handed to the
    function's dead-letter queue. Returns (the handler's result or None, what became of a failure)."""
    for attempt in range(1, LAMBDA_ATTEMPTS + 1):
        try:
            return _invoke(config, function_name, run), ""
        except Exception as exc:  # any error of the handler is Lambda's to retry
            if attempt == LAMBDA_ATTEMPTS:
                return None, f"failed {attempt} times ({type(exc).__name__}: {exc}); " + _lambda_dead_letter(
                    config, function_name, event, exc)
    raise AssertionError("unreachable")


def _pause(config: SandboxConfig, event: dict[str, Any]) -> tuple[bool, list[str]]:
    """(whether the handler paused, what became of each invocation that did not)."""
    from tutormail.reputation.handler import handler

    paused, failures = False, []
    functions = lambda_backends[config.account][config.region]
    for rule in _rules_matching(config, event, names.PAUSE_FUNCTION):
        target = next(t for t in rule.targets if t["Arn"].endswith(f":function:{names.PAUSE_FUNCTION}"))
        if not any(f.function_name == names.PAUSE_FUNCTION for f in functions.list_functions()):
            failures.append(_eventbridge_dead_letter(config, rule, target, event,
                                                     f"Function not found: {target['Arn']}"))
            continue
        result, failure = _invoke_async(config, names.PAUSE_FUNCTION, event,
                                        lambda session: handler(event, session=session))
        paused = paused or bool(result and result.get("paused"))
        failures += [failure] if failure else []
    return paused, failures


def _may_publish(config: SandboxConfig, alarm: Any, topic: Any) -> bool:
    """CloudWatch publishes as its service principal, over TLS, for the alarm (aws:SourceArn) of this
    account (aws:SourceAccount, and SNS's older AWS:SourceOwner that its default policy names)."""
    context = {"aws:SourceArn": alarm.alarm_arn, "aws:SourceAccount": config.account,
               "aws:SourceOwner": config.account, "aws:SecureTransport": "true"}
    answer = EVALUATOR.decide(action="sns:Publish", principal="cloudwatch.amazonaws.com", resource=topic.arn,
                              account=config.account, policies=[], context=context,
                              resource_policy=json.loads(topic.policy))
    return answer["decision"] == ALLOWED


def _mail_notification(config: SandboxConfig, alarm: Any, topic: Any, address: str) -> None:
    message = EmailMessage()
    message["From"] = f"{topic.display_name or 'AWS Notifications'} <no-reply@sns.amazonaws.com>"
    message["To"] = address
    message["Subject"] = f'{alarm.state_value}: "{alarm.name}" in {config.region}'
    message.set_content(f"Alarm {alarm.name} is now {alarm.state_value}.\n\n{alarm.description}\n\n"
                        f"Reason: {alarm.state_reason}\nTopic: {topic.arn}\n")
    config.outbox.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    (config.outbox / f"{stamp}-sns-{uuid.uuid4().hex[:8]}-{address}.eml").write_bytes(bytes(message))


def notify(config: SandboxConfig, alarm: Any) -> list[str]:
    """The alarm's actions for its new state, as CloudWatch carries out SNS actions; returns one line
    per action (delivered to whom, or CloudWatch's failure)."""
    actions = alarm.alarm_actions if alarm.state_value == "ALARM" else alarm.ok_actions
    backend = sns_backends[config.account][config.region]
    done = []
    for arn in actions or []:
        topic = backend.topics.get(arn)
        if topic is None or not _may_publish(config, alarm, topic):
            failure = (f"Failed to execute action {arn}. Received error: \"Resource: {alarm.alarm_arn} is not "
                       f"authorized to perform: SNS:Publish on resource: {arn}\"")
            alarm.history.append(("Action", failure, "{}", alarm.state_value, utcnow()))
            done.append(failure)
            continue
        subscribers = [s.endpoint for s in backend.subscriptions.values()
                       if s.topic.arn == arn and s.protocol in ("email", "email-json")]
        for address in subscribers:
            _mail_notification(config, alarm, topic, address)
        done.append(f"Published to {arn}: {', '.join(subscribers) or 'no e-mail subscriber'}")
    return done


def evaluate(slug: str, now: datetime, config: SandboxConfig) -> dict[str, Any]:
    backend = cloudwatch_backends[config.account][config.region]
    result: dict[str, Any] = {"alarms": {}, "paused_by_handler": False, "notifications": {}, "failed_pauses": {}}
    for kind in names.KINDS:
        for level in names.LEVELS:
            alarm = backend.alarms.get(names.alarm_name(slug, level, kind))
            if alarm is None:
                raise RuntimeError(f"no alarm {names.alarm_name(slug, level, kind)}: deploy the stack first")
            value = alarm_value(config, alarm, now)
            breaching = value is not None and _COMPARE[alarm.comparison_operator](value, float(alarm.threshold))
            state = "ALARM" if breaching else "OK"
            previous = alarm.state_value
            if state != previous:
                alarm.update_state(f"Threshold Crossed: {kind} rate {value if value is not None else 'n/a'} "
                                   f"{'at or above' if breaching else 'below'} {float(alarm.threshold):g}", "{}",
                                   state)
                result["notifications"][alarm.name] = notify(config, alarm)
                paused, failures = _pause(config, _alarm_event(config, alarm, previous))
                result["paused_by_handler"] = result["paused_by_handler"] or paused
                if failures:
                    result["failed_pauses"][alarm.name] = failures
            result["alarms"][alarm.name] = state
    return result


def ses_event(account: str, region: str, slug: str, kind: str, source: str, recipient: str) -> dict[str, Any]:
    """One bounce or complaint as SES publishes it to EventBridge: the event record of
    https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html as the
    `detail`, the configuration set in the `ses:configuration-set` tag."""
    event_type, detail_type = EVENT_TYPES[kind]
    now = datetime.now(UTC)
    detail: dict[str, Any] = {"eventType": event_type, "mail": {
        "timestamp": now.isoformat(), "source": source, "messageId": f"sandbox-{uuid.uuid4()}",
        "sendingAccountId": account, "destination": [recipient],
        "tags": {names.DIMENSION: [names.configuration_set(slug)]}}}
    if kind == "bounce":
        detail["bounce"] = {"bounceType": "Permanent", "bounceSubType": "General",
                            "bouncedRecipients": [{"emailAddress": recipient, "action": "failed", "status": "5.1.1"}]}
    else:
        detail["complaint"] = {"complaintFeedbackType": "abuse", "complainedRecipients": [{"emailAddress": recipient}]}
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": "aws.ses",
            "account": account, "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region,
            "resources": [], "detail": detail}


def _emit_events(config: SandboxConfig, slug: str, rates: dict[str, float], sends: int,
                 source: str) -> tuple[int, int]:
    """SES's bounce and complaint events for the rates given, delivered as the default bus would: each
    one the deployed event-record rule matches runs the event-log handler. (moto's PutEvents cannot
    deliver to a Lambda target: it raises NotImplementedError.) Returns (emitted, recorded)."""
    from tutormail.reputation.event_log import handler

    found = [ses_event(config.account, config.region, slug, kind, source, f"student{number}@example.org")
             for kind, rate in rates.items()
             for number in range(min(round(rate * sends), 20))]  # enough to read, not the whole volume
    recorded = 0
    for event in found:
        for _ in _rules_matching(config, event, names.EVENT_LOG_FUNCTION):
            _invoke(config, names.EVENT_LOG_FUNCTION, lambda _session, event=event: handler(event))
            recorded += 1
    return len(found), recorded


def apply(body: dict[str, Any], config: SandboxConfig) -> dict[str, Any]:
    """What `/_sandbox/reputation` does."""
    slug = body["slug"]
    rates = {kind: float(body[f"{kind}_rate"]) for kind in names.KINDS if body.get(f"{kind}_rate") is not None}
    sends = int(body.get("sends", 1000))
    now = utcnow()
    _put_metrics(config, slug, rates, sends)
    emitted, recorded = _emit_events(config, slug, rates, sends, body.get("source") or f"comunicacao@{slug}.invalid")
    return {"institution": slug, "events": emitted, "recorded": recorded, **evaluate(slug, now, config)}


def request(base_url: str, slug: str, bounce_rate: float | None, complaint_rate: float | None, sends: int,
            source: str | None) -> dict[str, Any]:
    body = json.dumps({"slug": slug, "bounce_rate": bounce_rate, "complaint_rate": complaint_rate, "sends": sends,
                       "source": source}).encode()
    req = urllib.request.Request(f"{base_url}/_sandbox/reputation", data=body, method="POST",  # noqa: S310
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as response:  # noqa: S310 (loopback only)
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:  # the emulator says why (409: not deployed, or not playable)
        reason = exc.read().decode(errors="replace")
        raise RuntimeError(f"sandbox reputation {slug}: HTTP {exc.code}: {reason}") from exc
