"""Every name tutor-mail gives an AWS resource, each beside the wildcard IAM grants on it.

The plan, the stacks (`infra/`), the operator's policies and the Lambda handlers take their names
from here, so a name and the grant that must reach it cannot drift apart; `NAMED` lists them all
and tests/unit/test_resource_names.py holds each wildcard to the names it must (and must not) match.

A wildcard is the resource-name part of the ARN a policy grants on; `infra/platform_stack.py` puts
it into the ARN (with a suffix where the ARN carries more than the name: a stack's id, a secret's
six random characters, a log group's `:*`). In IAM's resource ARNs `*` is any run of characters,
`/` included, and `?` any one character, case-sensitive
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html):
`wildcard_matches` reads them so.

Dependency-free on purpose: the Lambda package carries this module, not the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

PREFIX = "tutormail"
KINDS = ("bounce", "complaint")
LEVELS = ("warn", "pause")

# CloudFormation stacks: one per institution and the platform's. GetTemplate, ListStackResources and
# DeleteStack take the stack's ARN, `stack/<name>/<stack id>`
# (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html).
STACK_PREFIX = "TutorMail-"
PLATFORM_STACK = f"{STACK_PREFIX}Platform"  # what institutions share: operator policy, progress table
STACK_ID_SUFFIX = "/*"


def stack_name(slug: str) -> str:
    return f"{STACK_PREFIX}{slug}"


STACK_WILDCARD = stack_name("*")  # TutorMail-Platform too (the catalog refuses the slug `platform`)

# Secrets Manager: the SMTP key of each institution, beside the TSIG keys its file names under
# `tsig_prefix`. A secret's ARN ends in `-` and six random characters
# (https://docs.aws.amazon.com/secretsmanager/latest/userguide/permissions_grant-limited-resources.html).
SECRET_ARN_SUFFIX = "-??????"  # noqa: S105 (part of an ARN, not a secret)
SECRET_WILDCARD = f"{PREFIX}/*"  # every institution's secrets, TSIG keys included


def tsig_prefix(slug: str) -> str:
    """Every secret an institution names lives under this prefix, which its policies are scoped to."""
    return f"{PREFIX}/{slug}/"


def secret_name(slug: str) -> str:
    return f"{tsig_prefix(slug)}smtp"


SMTP_SECRET_WILDCARD = secret_name("*")  # the offboarding role's Deny: SMTP keys, never a TSIG key

# SES configuration sets: one per institution, the pause switch and the metrics' dimension.
CONFIGURATION_SET_PREFIX = f"{PREFIX}-"


def configuration_set(slug: str) -> str:
    return f"{CONFIGURATION_SET_PREFIX}{slug}"


CONFIGURATION_SET_WILDCARD = configuration_set("*")


def slug_of_configuration_set(name: str) -> str | None:
    """The institution a configuration set belongs to; None for one tutormail did not name."""
    if not isinstance(name, str) or not name.startswith(CONFIGURATION_SET_PREFIX):
        return None
    return name[len(CONFIGURATION_SET_PREFIX):] or None


# IAM: each institution's SMTP user; the platform's managed policies and GitHub Actions roles.
def smtp_user(slug: str) -> str:
    return f"{PREFIX}-{slug}-smtp"


SMTP_USER_WILDCARD = smtp_user("*")
OPERATOR_POLICY = f"{PREFIX}-operator"
DEPLOY_POLICY = f"{PREFIX}-deploy"
PLAN_POLICY = f"{PREFIX}-plan"
OFFBOARD_POLICY = f"{PREFIX}-offboard"
POLICY_WILDCARD = f"{PREFIX}-*"  # no grant names them; what one would name


def ci_role(job: str) -> str:
    """The role a CI job assumes: `job` is Plan, Deploy, Offboard or Watch."""
    return f"{PREFIX}-ci-{job.lower()}"


CI_ROLE_WILDCARD = ci_role("*")  # no grant names them; what one would name

# CloudWatch alarms: warn and pause, per institution and kind.
_PAUSE_ALARM = re.compile(r"^tutormail-pause-(?P<slug>[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)-(?:bounce|complaint)$")


def alarm_name(slug: str, level: str, kind: str) -> str:
    """`tutormail-pause-<slug>-bounce`: the level first, so one EventBridge prefix matches every
    pause alarm and nothing else."""
    return f"{PREFIX}-{level}-{slug}-{kind}"


ALARM_WILDCARD = f"{PREFIX}-*"


def pause_alarm_prefix() -> str:
    return f"{PREFIX}-pause-"


def slug_of_pause_alarm(name: str) -> str | None:
    match = _PAUSE_ALARM.match(name or "")
    return match.group("slug") if match else None


# The platform's topic, functions, their log groups and the pause function's dead-letter queue
# (infra/reputation.py, infra/receiving.py): named in full where granted.
TOPIC = "tutormail-reputation"
PAUSE_FUNCTION = "tutormail-reputation-pause"
EVENT_LOG_FUNCTION = "tutormail-sending-events"
REPLIES_FUNCTION = f"{PREFIX}-replies"


def log_group(function: str) -> str:
    """A function's log group, under Lambda's default name
    (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html). Its ARN
    in IAM policies ends in `:*` (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html)."""
    return f"/aws/lambda/{function}"


LOG_GROUP_ARN_SUFFIX = ":*"
EVENT_LOG_GROUP = log_group(EVENT_LOG_FUNCTION)  # the event record
FAILED_PAUSES_QUEUE = "tutormail-failed-pauses"  # the pauses that failed after the retries

# DynamoDB tables, named in full where granted.
PROGRESS_TABLE = f"{PREFIX}-progress"  # the marks (aws/progress_store.py)
INBOUND_TABLE = f"{PREFIX}-inbound"  # who was answered today, and what each institution received

METRIC = {"bounce": "Reputation.BounceRate", "complaint": "Reputation.ComplaintRate"}
# The configuration set's own event counts, published by its CloudWatch event destination.
EVENT_METRIC = {"bounce": "Bounce", "complaint": "Complaint"}
DIMENSION = "ses:configuration-set"

# Receiving on the platform domain (issue 25). One receipt rule set per account and region is active
# (https://docs.aws.amazon.com/ses/latest/DeveloperGuide/receiving-email-receipt-rule-set.html): ours is named, and
# `preflight --platform` reports another one already active.
RECEIPT_RULE_SET = f"{PREFIX}-inbound"
CHECK_RULE = f"{PREFIX}-check"
REPLIES_RULE = f"{PREFIX}-replies"  # one rule for every <slug>.<platform_domain>: a set holds 200 rules
CHECK_PREFIX = "check/"  # S3 key prefix of send-test --check messages: <prefix><SES message id>
CHECK_WILDCARD = f"{CHECK_PREFIX}*"  # the objects send-test --check may read, never a reply
REPLIES_PREFIX = "replies/"  # replies/<SES message id>, every institution's under one rule
REPLIES_WILDCARD = f"{REPLIES_PREFIX}*"


def inbound_bucket(account: str, region: str) -> str:
    """S3 bucket names are global: the account and region make ours unique."""
    return f"{PREFIX}-inbound-{account}-{region}"


def inbound_settings(slug: str) -> str:
    """The SSM parameter of an institution's replies settings, written by its stack. A parameter's ARN
    is `parameter` followed by its name, whose leading `/` is the separator (`parameter/<name without its
    leading slash>`: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html)."""
    return f"/{PREFIX}/{slug}/inbound"


INBOUND_SETTINGS_WILDCARD = inbound_settings("*")


def wildcard_matches(wildcard: str, name: str) -> bool:
    """Whether IAM's resource wildcard (`*` any run, `/` included; `?` one character) names `name`."""
    pattern = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in wildcard)
    return re.fullmatch(pattern, name, re.DOTALL) is not None


@dataclass(frozen=True)
class Named:
    """One kind of name: the ARN's service and resource type it lives in, the wildcard granted on it,
    how it is made (`make(*example(slug))`), and the kinds of the same type its wildcard also covers."""

    kind: str
    resource: str
    wildcard: str
    make: Callable[..., str]
    example: Callable[[str], tuple[str, ...]] = lambda slug: (slug,)
    covers: tuple[str, ...] = ()


def _fixed(name: str) -> Callable[[], str]:
    return lambda: name


def _none(slug: str) -> tuple[str, ...]:
    return ()


NAMED: tuple[Named, ...] = (
    # DeleteStack on this wildcard also reaches TutorMail-Platform: it is the grant as it stands.
    Named("stack", "cloudformation:stack", STACK_WILDCARD, stack_name, covers=("platform-stack",)),
    Named("platform-stack", "cloudformation:stack", PLATFORM_STACK, _fixed(PLATFORM_STACK), _none),
    Named("smtp-secret", "secretsmanager:secret", SMTP_SECRET_WILDCARD, secret_name),
    Named("institution-secret", "secretsmanager:secret", SECRET_WILDCARD, lambda slug: f"{tsig_prefix(slug)}tsig",
          covers=("smtp-secret",)),
    Named("configuration-set", "ses:configuration-set", CONFIGURATION_SET_WILDCARD, configuration_set),
    Named("smtp-user", "iam:user", SMTP_USER_WILDCARD, smtp_user),
    *(Named(f"{name}-policy", "iam:policy", POLICY_WILDCARD, _fixed(policy), _none,
            covers=tuple(f"{other}-policy" for other in ("operator", "deploy", "plan", "offboard") if other != name))
      for name, policy in (("operator", OPERATOR_POLICY), ("deploy", DEPLOY_POLICY), ("plan", PLAN_POLICY),
                           ("offboard", OFFBOARD_POLICY))),
    Named("ci-role", "iam:role", CI_ROLE_WILDCARD, ci_role, lambda slug: ("Deploy",)),
    Named("alarm", "cloudwatch:alarm", ALARM_WILDCARD, alarm_name, lambda slug: (slug, "pause", "bounce")),
    Named("topic", "sns:topic", TOPIC, _fixed(TOPIC), _none),
    *(Named(f"{function}-function", "lambda:function", function, _fixed(function), _none)
      for function in (PAUSE_FUNCTION, EVENT_LOG_FUNCTION, REPLIES_FUNCTION)),
    Named("event-log-group", "logs:log-group", EVENT_LOG_GROUP, log_group, lambda slug: (EVENT_LOG_FUNCTION,)),
    *(Named(f"{function}-log-group", "logs:log-group", log_group(function), log_group, lambda slug, f=function: (f,))
      for function in (PAUSE_FUNCTION, REPLIES_FUNCTION)),
    Named("failed-pauses-queue", "sqs:queue", FAILED_PAUSES_QUEUE, _fixed(FAILED_PAUSES_QUEUE), _none),
    Named("progress-table", "dynamodb:table", PROGRESS_TABLE, _fixed(PROGRESS_TABLE), _none),
    Named("inbound-table", "dynamodb:table", INBOUND_TABLE, _fixed(INBOUND_TABLE), _none),
    Named("inbound-bucket", "s3:bucket", inbound_bucket("123456789012", "us-east-1"), inbound_bucket,
          lambda slug: ("123456789012", "us-east-1")),
    Named("check-message", "s3:object", CHECK_WILDCARD, lambda slug: f"{CHECK_PREFIX}{slug}-message-id"),
    Named("reply", "s3:object", REPLIES_WILDCARD, lambda slug: f"{REPLIES_PREFIX}{slug}-message-id"),
    Named("receipt-rule-set", "ses:receipt-rule-set", RECEIPT_RULE_SET, _fixed(RECEIPT_RULE_SET), _none),
    *(Named(f"{rule}-rule", "ses:receipt-rule", rule, _fixed(rule), _none) for rule in (CHECK_RULE, REPLIES_RULE)),
    Named("inbound-settings", "ssm:parameter", INBOUND_SETTINGS_WILDCARD, inbound_settings),
)
