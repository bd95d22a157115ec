"""The AWS actions each `tutormail` command calls: the one table the operator policy is built from.

Each row names the command, the IAM action (as IAM spells it, not the API's name) and the kind of
resource it acts on. `infra/platform_stack.py` groups the rows into the `tutormail-operator`
managed policy; tests/e2e/test_iam.py fails when the end-to-end run calls an action missing from
this table, and when the table grants an action no command calls. A new command adds its rows here.

Resource kinds (what IAM can scope; https://docs.aws.amazon.com/service-authorization/latest/reference/), each
granted on the wildcard `tutormail.names` keeps beside the name it makes:
- IDENTITY: SES identities of the account and region (`identity/*`: identities are named by the
  institutions' own domains and addresses, which no prefix covers);
- SECRET: the tutormail secrets (`tutormail/*`: SMTP keys `tutormail/<slug>/smtp` and the TSIG keys
  the files name);
- PROGRESS: the progress table of TutorMail-Platform (`table/tutormail-progress`; Query, Scan and
  BatchWriteItem take DynamoDB's `table` resource type:
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html);
- STACK: the tutor-mail stacks (`stack/TutorMail-*/*`; GetTemplate and ListStackResources take
  CloudFormation's `stack` resource type:
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html);
- ZONE: Route 53 hosted zones (`hostedzone/*`: preflight reads the platform zone and the zones the
  institution files name, which the platform stack does not know; ListResourceRecordSets takes the
  `hostedzone` resource type: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonroute53.html);
- SMTP_USER: the institutions' SMTP users (`user/tutormail-*-smtp`; ListAccessKeys and UpdateAccessKey
  take IAM's `user` resource type: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html);
- CONFIGURATION_SET: the institutions' configuration sets (`configuration-set/tutormail-*`;
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsimpleemailservicev2.html);
- STALE_DKIM: DKIM CNAMEs in Route 53 zones (`hostedzone/*`, as ZONE), under CONDITIONS: only
  DELETE, only CNAME, only names `*._domainkey.*`, the condition keys Route 53 sets on
  ChangeResourceRecordSets (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/specifying-rrset-conditions.html).
  cleanup deletes the ones of tokens SES no longer uses; every other record stays the stacks' to write;
- ALARM: the institutions' reputation alarms (`alarm:tutormail-*`; DescribeAlarms takes CloudWatch's
  `alarm` resource type: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html);
- LOG_GROUP: the event record's log group (`log-group:/aws/lambda/tutormail-sending-events:*`;
  FilterLogEvents takes the `log-group` type, whose ARN in IAM policies ends in `:*`:
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html);
- FAILED_PAUSES: the pause function's dead-letter queue (`tutormail-failed-pauses`; GetQueueUrl,
  GetQueueAttributes and ReceiveMessage take SQS's `queue` resource type:
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html);
- OWN_IDENTITY: SES identities tutor-mail's stacks made (`identity/*`, as IDENTITY, under CONDITIONS: the
  identity carries the `tutormail:institution` tag, which the stacks put on every identity,
  infra/senders.py). DeleteEmailIdentity takes the `identity` resource type and the
  `aws:ResourceTag/${TagKey}` condition key
  (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsimpleemailservicev2.html),
  so offboard and cleanup cannot delete another application's identity, whatever its name;
- INBOUND_BUCKET, CHECK_MESSAGES: the received-mail bucket of a platform with `receiving:` (issue 25;
  `tutormail-inbound-<account>-<region>`): send-test --check lists it under `check/` only (the
  `s3:prefix` condition key of ListBucket) and reads the objects under `check/`, never a reply
  (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html);
- INBOUND: the inbound table (`table/tutormail-inbound`): status reads what each institution received;
- ANY: actions IAM does not scope to a resource (ListSecrets, ListEmailIdentities, GetAccount, and
  CloudWatch's GetMetricData (its
  only resource type, `dataset`, is optional), SES v1's VerifyEmailIdentity: scoped to `identity/*` it is refused;
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonses.html; and
  DescribeStacks without a stack name, which "requires ListStacks and DescribeStacks permissions"
  and names no stack: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html).

sts:GetCallerIdentity (the DMARC gate names who accepted the risk) has no row: "No permissions are
required to perform this operation", even under an explicit deny
(https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

IDENTITY, SECRET, PROGRESS, STACK, ZONE, ANY = ("ses-identity", "tutormail-secret", "progress-table", "tutormail-stack",
                                               "hosted-zone", "*")
SMTP_USER, CONFIGURATION_SET = "smtp-user", "configuration-set"
STALE_DKIM = "stale-dkim-cname"
OWN_IDENTITY = "tutormail-identity"
IDENTITY_TAG = "tutormail:institution"  # its value: the institution's slug
_DKIM_KEYS = ("route53:ChangeResourceRecordSetsActions", "route53:ChangeResourceRecordSetsRecordTypes",
              "route53:ChangeResourceRecordSetsNormalizedRecordNames")
# The conditions of a kind's statement. ForAllValues holds for a request without the key, so Null
# makes each key required (the stricter reading: Route 53 sets all three on every change).
CONDITIONS: dict[str, dict[str, dict]] = {STALE_DKIM: {
    "ForAllValues:StringEquals": {_DKIM_KEYS[0]: ["DELETE"], _DKIM_KEYS[1]: ["CNAME"]},
    "ForAllValues:StringLike": {_DKIM_KEYS[2]: ["*._domainkey.*"]},
    "Null": dict.fromkeys(_DKIM_KEYS, "false")},
    OWN_IDENTITY: {"Null": {f"aws:ResourceTag/{IDENTITY_TAG}": "false"}}}
ALARM, LOG_GROUP = "reputation-alarm", "sending-events-log"
FAILED_PAUSES = "failed-pauses-queue"
INBOUND_BUCKET, CHECK_MESSAGES, INBOUND = "inbound-bucket", "check-messages", "inbound-table"
CONDITIONS[INBOUND_BUCKET] = {"StringLike": {"s3:prefix": ["check/*"]}}


@dataclass(frozen=True)
class Grant:
    command: str
    action: str
    resource: str
    # Called only on an institution's first read of progress, when its secret's tags migrate into
    # the table (aws/progress_marks.py): once per institution, so a run may not call it again.
    migration: bool = False
    # Called only when platform.yaml has `receiving:` (issue 25; tests/e2e/test_inbound.py checks them).
    receiving: bool = False


# Progress marks go through aws/progress_marks.py: a Query of the institution (status: a Scan of the
# fleet), BatchWriteItem of new marks; an institution read for the first time is migrated from its
# secret's tags (DescribeSecret, or ListSecrets for the fleet, then BatchWriteItem of the copies).
COMMAND_ACTIONS: tuple[Grant, ...] = (
    Grant("dns-records", "ses:GetEmailIdentity", IDENTITY),
    Grant("dns-publish", "ses:GetEmailIdentity", IDENTITY),
    Grant("dns-publish", "secretsmanager:GetSecretValue", SECRET),  # the TSIG key the file names
    Grant("verify", "ses:GetEmailIdentity", IDENTITY),
    Grant("verify", "ses:GetAccount", ANY),
    Grant("verify", "dynamodb:Query", PROGRESS),
    Grant("verify", "dynamodb:BatchWriteItem", PROGRESS, migration=True),
    Grant("verify", "dynamodb:PutItem", PROGRESS),  # --auto-resend records the new link, conditioned
    Grant("verify", "secretsmanager:DescribeSecret", SECRET, migration=True),
    Grant("verify", "ses:VerifyEmailIdentity", ANY),  # --auto-resend
    Grant("verify", "iam:ListAccessKeys", SMTP_USER),  # drift: the SMTP key's age
    Grant("request-link", "ses:GetEmailIdentity", IDENTITY),
    Grant("request-link", "ses:VerifyEmailIdentity", ANY),
    Grant("request-link", "dynamodb:Query", PROGRESS),
    Grant("request-link", "dynamodb:BatchWriteItem", PROGRESS, migration=True),
    Grant("request-link", "dynamodb:PutItem", PROGRESS),  # the link mark, conditioned on what was read
    Grant("request-link", "secretsmanager:DescribeSecret", SECRET, migration=True),
    Grant("status", "ses:ListEmailIdentities", ANY),
    Grant("status", "ses:GetAccount", ANY),  # the SES account's state, in the report's header
    Grant("status", "dynamodb:Scan", PROGRESS),  # the fleet's marks
    Grant("status", "dynamodb:BatchWriteItem", PROGRESS, migration=True),
    Grant("status", "secretsmanager:ListSecrets", ANY, migration=True),  # the secrets' tags, in pages
    Grant("status", "ses:GetEmailIdentity", IDENTITY),  # --drift: DKIM status and tokens
    Grant("status", "iam:ListAccessKeys", SMTP_USER),  # --drift: the SMTP key's age
    Grant("smtp-settings", "ses:GetEmailIdentity", IDENTITY),
    Grant("smtp-settings", "secretsmanager:GetSecretValue", SECRET),
    Grant("smtp-settings", "dynamodb:Query", PROGRESS),
    Grant("smtp-settings", "dynamodb:BatchWriteItem", PROGRESS),  # the "released" and DMARC gate marks
    Grant("smtp-settings", "secretsmanager:DescribeSecret", SECRET, migration=True),
    Grant("send-test", "ses:GetEmailIdentity", IDENTITY),
    Grant("send-test", "secretsmanager:GetSecretValue", SECRET),
    Grant("send-test", "iam:ListAccessKeys", SMTP_USER),  # after a 535: is the secret's key Inactive?
    Grant("send-test", "dynamodb:Query", PROGRESS),
    Grant("send-test", "dynamodb:BatchWriteItem", PROGRESS),  # the phase-3 mark
    Grant("send-test", "secretsmanager:DescribeSecret", SECRET, migration=True),
    Grant("handoff", "dynamodb:Query", PROGRESS),  # the DMARC acceptances (not with --offline)
    Grant("handoff", "dynamodb:BatchWriteItem", PROGRESS, migration=True),
    Grant("handoff", "secretsmanager:DescribeSecret", SECRET, migration=True),
    Grant("send-test", "s3:ListBucket", INBOUND_BUCKET, receiving=True),  # --check: the stored test message
    Grant("send-test", "s3:GetObject", CHECK_MESSAGES, receiving=True),
    Grant("status", "dynamodb:Scan", INBOUND, receiving=True),  # what each institution received
    Grant("out-of-date", "cloudformation:DescribeStacks", ANY),  # every stack: no StackName
    Grant("out-of-date", "cloudformation:ListStacks", ANY),
    Grant("plan-changes", "cloudformation:GetTemplate", STACK),
    Grant("preflight", "ses:GetEmailIdentity", IDENTITY),
    Grant("preflight", "ses:GetAccount", ANY),
    Grant("preflight", "cloudformation:ListStackResources", STACK),  # identities the stack holds, every page
    Grant("preflight", "route53:ListResourceRecordSets", ZONE),  # what is at the names we would write
    Grant("preflight", "route53:GetHostedZone", ZONE),  # each zone id is the zone of its name
    # the account's caps (aws/account_quotas.py), read by preflight and status --all
    *(Grant(command, action, kind) for command in ("preflight", "status") for action, kind in (
        ("iam:GetAccountSummary", ANY), ("ses:ListEmailIdentities", ANY),
        ("cloudformation:DescribeAccountLimits", ANY), ("cloudformation:ListStacks", ANY),
        ("route53:GetHostedZoneLimit", ZONE))),
    # plan runs the preflight unless --offline (cli/preflight.check_plans)
    Grant("plan", "ses:GetEmailIdentity", IDENTITY),
    Grant("plan", "ses:GetAccount", ANY),
    Grant("plan", "cloudformation:ListStackResources", STACK),
    Grant("plan", "route53:ListResourceRecordSets", ZONE),
    Grant("plan", "route53:GetHostedZone", ZONE),
    # sending health (reputation/): rates, alarms, the event log, the switch, the pause marks
    *(Grant(command, action, kind) for command in ("reputation", "status", "resume") for action, kind in (
        ("cloudwatch:GetMetricData", ANY), ("cloudwatch:DescribeAlarms", ALARM),
        ("logs:FilterLogEvents", LOG_GROUP), ("ses:GetConfigurationSet", CONFIGURATION_SET))),
    Grant("reputation", "dynamodb:Scan", PROGRESS),
    # the failed pauses, read without hiding them (reputation/failed_pauses.py)
    *(Grant("reputation", f"sqs:{action}", FAILED_PAUSES) for action in (
        "GetQueueUrl", "GetQueueAttributes", "ReceiveMessage")),
    Grant("reputation", "dynamodb:BatchWriteItem", PROGRESS, migration=True),
    Grant("reputation", "secretsmanager:ListSecrets", ANY, migration=True),
    Grant("resume", "dynamodb:Scan", PROGRESS),
    *(Grant(command, action, kind) for command in ("pause", "resume") for action, kind in (
        ("ses:PutConfigurationSetSendingOptions", CONFIGURATION_SET), ("dynamodb:PutItem", PROGRESS))),
    # offboard (lifecycle/offboard.py), checked by tests/lifecycle/test_offboard.py as the operator
    Grant("offboard", "dynamodb:Query", PROGRESS),
    Grant("offboard", "dynamodb:BatchWriteItem", PROGRESS),  # the record after each step; deleted identities' marks
    Grant("offboard", "secretsmanager:DescribeSecret", SECRET, migration=True),
    Grant("offboard", "secretsmanager:GetSecretValue", SECRET),  # the TSIG key of RFC 2136 domains
    Grant("offboard", "ses:GetConfigurationSet", CONFIGURATION_SET),
    Grant("offboard", "ses:PutConfigurationSetSendingOptions", CONFIGURATION_SET),
    Grant("offboard", "iam:ListAccessKeys", SMTP_USER),
    Grant("offboard", "iam:UpdateAccessKey", SMTP_USER),
    Grant("offboard", "cloudformation:GetTemplate", STACK),
    Grant("offboard", "cloudformation:DescribeStacks", STACK),  # with its StackName (and the waiter)
    Grant("offboard", "cloudformation:DeleteStack", STACK),
    Grant("offboard", "ses:GetEmailIdentity", IDENTITY),
    Grant("offboard", "ses:DeleteEmailIdentity", OWN_IDENTITY),
    # cleanup (lifecycle/cleanup.py), driven by tests/lifecycle/test_cleanup.py
    Grant("cleanup", "ses:ListEmailIdentities", ANY),  # the account's identities, in pages
    Grant("cleanup", "ses:GetEmailIdentity", IDENTITY),  # its configuration set says whose it is
    Grant("cleanup", "cloudformation:GetTemplate", STACK),  # what the stack still declares
    Grant("cleanup", "cloudformation:DescribeStacks", STACK),  # its outputs: the DKIM CNAMEs it wrote
    Grant("cleanup", "secretsmanager:GetSecretValue", SECRET),  # the TSIG key of an RFC 2136 domain
    Grant("cleanup", "ses:DeleteEmailIdentity", OWN_IDENTITY),
    Grant("cleanup", "dynamodb:BatchWriteItem", PROGRESS),  # a deleted identity's DMARC acceptance goes too
    Grant("cleanup", "route53:ListResourceRecordSets", ZONE),  # DKIM CNAMEs of tokens SES no longer uses
    Grant("cleanup", "route53:ChangeResourceRecordSets", STALE_DKIM),  # and deletes them
)


def actions_by_resource(rows: tuple[Grant, ...] = COMMAND_ACTIONS) -> dict[str, list[str]]:
    """Sorted, distinct actions per resource kind: one policy statement each."""
    grouped: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        grouped[row.resource].add(row.action)
    return {kind: sorted(actions) for kind, actions in sorted(grouped.items())}


# The commands each CI job runs (`tutormail pipeline JOB`, tutormail/pipeline/jobs.py); the plan job's
# role gets their reads only (offboard runs there as a dry run). The offboarding environment's role
# runs the offboard and cleanup jobs, which the workflow calls with --slugs (no out-of-date read).
JOB_COMMANDS = {"plan": ("out-of-date", "preflight", "plan-changes", "offboard"), "offboard": ("offboard", "cleanup")}
# The SMTP key secrets (`tutormail/<slug>/smtp`, tutormail.names.secret_name), which the
# offboarding role may not read although the TSIG keys beside them are its to read: an explicit Deny
# on the name and the six characters Secrets Manager appends to every secret's ARN
# (https://docs.aws.amazon.com/secretsmanager/latest/userguide/permissions_grant-limited-resources.html).
# IAM's `*` also spans `/`, so a TSIG key named `tutormail/<slug>/<...>/smtp` is refused too (stricter).
SMTP_SECRET = "smtp-secret"  # noqa: S105 (a resource kind, not a secret)


def job_rows(job: str) -> tuple[Grant, ...]:
    return tuple(row for row in COMMAND_ACTIONS if row.command in JOB_COMMANDS[job])


def read_only(rows: tuple[Grant, ...] = COMMAND_ACTIONS) -> tuple[Grant, ...]:
    """The rows that only read (the CI plan job's role), never a secret's value: a pull request's job
    must not be able to read SMTP keys or TSIG keys. DynamoDB's Query and Scan read
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html)."""
    return tuple(row for row in rows if row.action.split(":", 1)[1].startswith(("Get", "List", "Describe",
                                                                                "Query", "Scan"))
                 and row.action != "secretsmanager:GetSecretValue")
