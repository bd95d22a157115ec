"""Names the pause Lambda, the stacks, the plan and the CLI agree on, made from the slug alone.

Dependency-free on purpose: the Lambda package carries this module, not the catalogue.
"""

from __future__ import annotations

import re

PREFIX = "tutormail"
KINDS = ("bounce", "complaint")
LEVELS = ("warn", "pause")
TOPIC = "tutormail-reputation"
PAUSE_FUNCTION = "tutormail-reputation-pause"
EVENT_LOG_FUNCTION = "tutormail-sending-events"
# The pause function's dead-letter queue: the pauses that failed after the retries (infra/reputation.py).
FAILED_PAUSES_QUEUE = "tutormail-failed-pauses"
# The event record is the event-log function's own log group, under Lambda's default name
# (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html).
EVENT_LOG_GROUP = f"/aws/lambda/{EVENT_LOG_FUNCTION}"
METRIC = {"bounce": "Reputation.BounceRate", "complaint": "Reputation.ComplaintRate"}
# The configuration set's own event counts, published by its CloudWatch event destination.
EVENT_METRIC = {"bounce": "Bounce", "complaint": "Complaint"}
DIMENSION = "ses:configuration-set"
_PAUSE_ALARM = re.compile(r"^tutormail-pause-(?P<slug>[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)-(?:bounce|complaint)$")


def configuration_set(slug: str) -> str:
    return f"{PREFIX}-{slug}"


def slug_of_configuration_set(name: str) -> str | None:
    """The institution a configuration set belongs to; None for one tutormail did not name."""
    prefix = f"{PREFIX}-"
    if not isinstance(name, str) or not name.startswith(prefix):
        return None
    return name[len(prefix):] or None


PLATFORM_STACK = "TutorMail-Platform"  # what institutions share: operator policy, progress table


def stack_name(slug: str) -> str:
    return f"TutorMail-{slug}"


def secret_name(slug: str) -> str:
    return f"{PREFIX}/{slug}/smtp"


def alarm_name(slug: str, level: str, kind: str) -> str:
    """`tutormail-pause-<slug>-bounce`: the level first, so one EventBridge prefix matches every
    pause alarm and nothing else."""
    return f"{PREFIX}-{level}-{slug}-{kind}"


def pause_alarm_prefix() -> str:
    return f"{PREFIX}-pause-"


def slug_of_pause_alarm(name: str) -> str | None:
    match = _PAUSE_ALARM.match(name or "")
    return match.group("slug") if match else None


# Receiving on the platform domain (issue 25). One receipt rule set per account and region is active
# (https://docs.aws.amazon.com/ses/latest/DeveloperGuide/receiving-email-receipt-rule-set.html): ours is named, and
# `preflight --platform` reports another one already active.
RECEIPT_RULE_SET = f"{PREFIX}-inbound"
CHECK_RULE = f"{PREFIX}-check"
REPLIES_RULE = f"{PREFIX}-replies"  # one rule for every <slug>.<platform_domain>: a set holds 200 rules
CHECK_PREFIX = "check/"  # S3 key prefix of send-test --check messages: <prefix><SES message id>
REPLIES_PREFIX = "replies/"  # replies/<SES message id>, every institution's under one rule
REPLIES_FUNCTION = f"{PREFIX}-replies"
INBOUND_TABLE = f"{PREFIX}-inbound"  # who was answered today, and what each institution received


def inbound_bucket(account: str, region: str) -> str:
    """S3 bucket names are global: the account and region make ours unique."""
    return f"{PREFIX}-inbound-{account}-{region}"


