"""`python -m sandbox reputation SLUG --bounce-rate 0.06`: play SES and CloudWatch for one institution.

In the emulator process (`/_sandbox/reputation`): the institution's Reputation.* and Send metrics
go into moto's CloudWatch, its bounces and complaints onto EventBridge's default bus (the deployed
rule writes them to the event log), its alarms are evaluated from those metrics with their own
metric-math definition, and a pause alarm that goes into ALARM becomes the EventBridge event the
deployed rule matches, handed to the package's Lambda handler (the same code as in AWS).
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto.awslambda.models import lambda_backends
from moto.cloudwatch.models import cloudwatch_backends
from moto.core.utils import utcnow
from moto.events.models import events_backends
from moto.sts.models import sts_backends
from tutormail.reputation import names

from .config import SandboxConfig

_EXPRESSION = re.compile(r"^IF\(sends >= (\d+), rate, 0\)$")
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
    backend.put_metric_data("AWS/SES", data)


def _latest(config: SandboxConfig, slug: str, metric: str, now: datetime, how) -> float | None:
    wanted = names.configuration_set(slug)
    since, until = now - timedelta(hours=1), now + timedelta(seconds=1)
    values = [float(d.value) for d in cloudwatch_backends[config.account][config.region].get_all_metrics()
              if d.namespace == "AWS/SES" and d.name == metric and since <= d.timestamp <= until
              and any(dim.value == wanted for dim in d.dimensions)]
    return how(values) if values else None


def alarm_value(config: SandboxConfig, alarm: Any, slug: str, kind: str, now: datetime) -> float | None:
    """The alarm's metric math, for the one form infra/reputation.py writes; anything else is refused
    rather than guessed."""
    expression = next(m["Expression"] for m in alarm.sandbox_metrics if "Expression" in m)
    match = _EXPRESSION.match(expression)
    if not match:
        raise RuntimeError(f"the sandbox evaluates only IF(sends >= N, rate, 0), not {expression!r}")
    rate = _latest(config, slug, names.METRIC[kind], now, max)
    sends = _latest(config, slug, "Send", now, sum)
    if rate is None or sends is None:
        return None
    return rate if sends >= int(match.group(1)) else 0.0


def _alarm_event(config: SandboxConfig, alarm: Any, previous: str) -> dict[str, Any]:
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "CloudWatch Alarm State Change",
            "source": "aws.cloudwatch", "account": config.account, "region": config.region,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "resources": [alarm.alarm_arn],
            "detail": {"alarmName": alarm.name, "state": {"value": alarm.state_value, "reason": alarm.state_reason},
                       "previousState": {"value": previous}}}


def _pause_rules_matching(config: SandboxConfig, event: dict[str, Any]) -> list[Any]:
    """The deployed rules that target the pause function and match the event (moto's own matcher)."""
    bus = events_backends[config.account][config.region].event_buses["default"]
    return [rule for rule in bus.rules.values()
            if any(t["Arn"].endswith(f":function:{names.PAUSE_FUNCTION}") for t in rule.targets)
            and rule.event_pattern.matches_event(event)]


def _function_session(config: SandboxConfig) -> boto3.session.Session:
    """Credentials of the deployed function's own role, as Lambda hands them to its code: a session of
    that role, so the sandbox's IAM decides the handler's calls on the role's policy (the same
    statements as in AWS). Made here, as Lambda makes them: the trust policy allows only
    lambda.amazonaws.com, which no sandbox caller is."""
    function = lambda_backends[config.account][config.region].get_function(names.PAUSE_FUNCTION)
    session = sts_backends[config.account][config.partition].assume_role(
        region_name=config.region, role_session_name=names.PAUSE_FUNCTION, role_arn=function.role,
        policy="", duration=900, external_id="")
    return boto3.session.Session(aws_access_key_id=session.access_key_id,
                                 aws_secret_access_key=session.secret_access_key,
                                 aws_session_token=session.session_token, region_name=config.region)


def _run_handler(event: dict[str, Any], config: SandboxConfig) -> dict[str, Any]:
    from tutormail.reputation.handler import handler

    # The handler talks to "AWS" like the Lambda would: here, this emulator over loopback.
    os.environ["AWS_ENDPOINT_URL"] = config.base_url
    return handler(event, session=_function_session(config))


def evaluate(slug: str, now: datetime, config: SandboxConfig) -> dict[str, Any]:
    backend = cloudwatch_backends[config.account][config.region]
    result: dict[str, Any] = {"alarms": {}, "paused_by_handler": False}
    for kind in names.KINDS:
        for level in names.LEVELS:
            alarm = backend.alarms.get(names.alarm_name(slug, level, kind))
            if alarm is None:
                raise RuntimeError(f"no alarm {names.alarm_name(slug, level, kind)}: deploy the stack first")
            value = alarm_value(config, alarm, slug, kind, now)
            breaching = value is not None and _COMPARE[alarm.comparison_operator](value, float(alarm.threshold))
            state = "ALARM" if breaching else "OK"
            previous = alarm.state_value
            if state != previous:
                alarm.update_state(f"Threshold Crossed: {kind} rate {value if value is not None else 'n/a'} "
                                   f"{'at or above' if breaching else 'below'} {float(alarm.threshold):g}", "{}",
                                   state)
                event = _alarm_event(config, alarm, previous)
                if _pause_rules_matching(config, event):
                    result["paused_by_handler"] = bool(_run_handler(event, config).get("paused"))
            result["alarms"][alarm.name] = state
    return result


def _emit_events(config: SandboxConfig, slug: str, rates: dict[str, float], sends: int, source: str) -> int:
    """SES's bounce and complaint events for the rates given, onto the default bus."""
    entries = []
    for kind, rate in rates.items():
        event_type, detail_type = EVENT_TYPES[kind]
        for number in range(min(round(rate * sends), 20)):  # enough to read, not the whole volume
            detail = {"eventType": event_type, "mail": {
                "timestamp": datetime.now(UTC).isoformat(), "source": source, "messageId": f"sandbox-{uuid.uuid4()}",
                "destination": [f"student{number}@example.org"],
                "tags": {names.DIMENSION: [names.configuration_set(slug)]}}}
            if kind == "bounce":
                detail["bounce"] = {"bounceType": "Permanent", "bounceSubType": "General",
                                    "bouncedRecipients": [{"emailAddress": f"student{number}@example.org"}]}
            else:
                detail["complaint"] = {"complaintFeedbackType": "abuse",
                                       "complainedRecipients": [{"emailAddress": f"student{number}@example.org"}]}
            entries.append({"Source": "aws.ses", "DetailType": detail_type, "Detail": json.dumps(detail),
                            "EventBusName": "default"})
    for start in range(0, len(entries), 10):  # PutEvents takes 10 entries a call
        events_backends[config.account][config.region].put_events(entries[start:start + 10])
    return len(entries)


def apply(body: dict[str, Any], config: SandboxConfig) -> dict[str, Any]:
    """What `/_sandbox/reputation` does."""
    slug = body["slug"]
    rates = {kind: float(body[f"{kind}_rate"]) for kind in names.KINDS if body.get(f"{kind}_rate") is not None}
    sends = int(body.get("sends", 1000))
    now = utcnow()
    _put_metrics(config, slug, rates, sends)
    emitted = _emit_events(config, slug, rates, sends, body.get("source") or f"comunicacao@{slug}.invalid")
    return {"institution": slug, "events": emitted, **evaluate(slug, now, config)}


def request(base_url: str, slug: str, bounce_rate: float | None, complaint_rate: float | None, sends: int,
            source: str | None) -> dict[str, Any]:
    body = json.dumps({"slug": slug, "bounce_rate": bounce_rate, "complaint_rate": complaint_rate, "sends": sends,
                       "source": source}).encode()
    req = urllib.request.Request(f"{base_url}/_sandbox/reputation", data=body, method="POST",  # noqa: S310
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as response:  # noqa: S310 (loopback only)
        return json.loads(response.read())
