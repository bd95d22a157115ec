"""What the platform's principals may touch: the resources of every statement of the operator's, the
deploy's and the CI roles' policies, asserted on the real synthesized template (the actions alone
say nothing of where they apply)."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

ACCOUNT, REGION = "123456789012", "us-east-1"
WHERE = f"{REGION}:{ACCOUNT}"
# Where each statement of tutormail-operator applies, by its Sid: every ARN names this account
# and region (IAM and Route 53 ARNs have no region; Route 53's no account).
OPERATOR_RESOURCES = {
    "SesIdentities": f"arn:aws:ses:{WHERE}:identity/*",
    "OwnSesIdentityDeletes": f"arn:aws:ses:{WHERE}:identity/*",  # only those tagged tutormail:institution
    "TutormailSecrets": f"arn:aws:secretsmanager:{WHERE}:secret:tutormail/*",
    "ProgressTable": f"arn:aws:dynamodb:{WHERE}:table/tutormail-progress",
    "TutormailStacks": f"arn:aws:cloudformation:{WHERE}:stack/TutorMail-*/*",
    "HostedZoneReads": "arn:aws:route53:::hostedzone/*",
    "StaleDkimCnameDeletes": "arn:aws:route53:::hostedzone/*",
    "SmtpUsers": f"arn:aws:iam::{ACCOUNT}:user/tutormail-*-smtp",
    "ConfigurationSets": f"arn:aws:ses:{WHERE}:configuration-set/tutormail-*",
    "ReputationAlarms": f"arn:aws:cloudwatch:{WHERE}:alarm:tutormail-*",
    "SendingEventsLog": f"arn:aws:logs:{WHERE}:log-group:/aws/lambda/tutormail-sending-events:*",
    "FailedPauses": f"arn:aws:sqs:{WHERE}:tutormail-failed-pauses",  # read, never written, by the operator
    # Issue 25: send-test --check lists check/ and reads its objects; status reads the inbound counts.
    "CheckMessagesList": f"arn:aws:s3:::tutormail-inbound-{ACCOUNT}-{REGION}",
    "CheckMessagesRead": f"arn:aws:s3:::tutormail-inbound-{ACCOUNT}-{REGION}/check/*",
    "InboundCounts": f"arn:aws:dynamodb:{WHERE}:table/tutormail-inbound",
    "NotResourceScoped": "*",
}
# The actions IAM does not scope to a resource: nothing else may sit on "*".
# IAM scopes none of these to a resource; GetAccountSummary and DescribeAccountLimits read account quotas.
UNSCOPED = ["cloudformation:DescribeAccountLimits", "cloudformation:DescribeStacks", "cloudformation:ListStacks",
            "cloudwatch:GetMetricData", "iam:GetAccountSummary", "secretsmanager:ListSecrets", "ses:GetAccount",
            "ses:ListEmailIdentities", "ses:VerifyEmailIdentity"]
# Actions that return a secret's value (https://docs.aws.amazon.com/service-authorization/latest/reference/
# list_awssecretsmanager.html): the plan role, which a pull request's job assumes, must hold none.
SECRET_READS = {"secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue"}
CDK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-{{}}-role-{ACCOUNT}-{REGION}"


def arn(value):
    """An ARN of the template as IAM sees it in this account: the partition resolved."""
    if isinstance(value, str):
        return value
    [separator, parts] = value["Fn::Join"]
    assert all(isinstance(p, str) or p == {"Ref": "AWS::Partition"} for p in parts), parts
    return separator.join(p if isinstance(p, str) else "aws" for p in parts)


def as_list(value):
    return [value] if isinstance(value, str | dict) else list(value)


@pytest.fixture(scope="module")
def platform(example_app):
    template = Template.from_stack(example_app.node.find_child("TutorMail-Platform"))
    return template.to_json()["Resources"]


@pytest.fixture(scope="module")
def policies(platform):
    """ManagedPolicyName -> {Sid: statement}, each statement's resources resolved to ARNs."""
    found = {}
    for resource in platform.values():
        if resource["Type"] != "AWS::IAM::ManagedPolicy":
            continue
        statements = resource["Properties"]["PolicyDocument"]["Statement"]
        found[resource["Properties"]["ManagedPolicyName"]] = {
            s["Sid"]: {**s, "Action": as_list(s["Action"]), "Resource": [arn(r) for r in as_list(s["Resource"])]}
            for s in statements}
    return found


def where_allowed(statements):
    """action -> the ARNs it is allowed on, over all statements."""
    found: dict[str, set[str]] = {}
    for statement in statements.values():
        assert statement["Effect"] == "Allow" and not {"NotAction", "NotResource"} & set(statement)
        for action in statement["Action"]:
            found.setdefault(action, set()).update(statement["Resource"])
    return found


def test_the_check_bucket_is_listed_under_check_only(policies):
    statement = policies["tutormail-operator"]["CheckMessagesList"]
    assert statement["Action"] == ["s3:ListBucket"]
    assert statement["Condition"] == {"StringLike": {"s3:prefix": ["check/*"]}}
    assert policies["tutormail-operator"]["CheckMessagesRead"]["Action"] == ["s3:GetObject"]


def test_every_operator_statement_applies_only_to_its_own_resources(policies):
    operator = policies["tutormail-operator"]
    assert {sid: s["Resource"] for sid, s in operator.items()} == {
        sid: [resource] for sid, resource in OPERATOR_RESOURCES.items()}
    allowed = where_allowed(operator)
    assert sorted(a for a, where in allowed.items() if "*" in where) == UNSCOPED
    # one place per action; DescribeStacks also on "*" (out-of-date lists every stack, no StackName), and
    # Scan on the inbound table too (status's received counts, issue 25)
    assert {a for a, where in allowed.items() if len(where) > 1} == {"cloudformation:DescribeStacks", "dynamodb:Scan"}
    assert allowed["dynamodb:Scan"] == {OPERATOR_RESOURCES["ProgressTable"], OPERATOR_RESOURCES["InboundCounts"]}
    # what hurts most when it applies too widely
    assert allowed["secretsmanager:GetSecretValue"] == {OPERATOR_RESOURCES["TutormailSecrets"]}
    assert allowed["ses:DeleteEmailIdentity"] == {OPERATOR_RESOURCES["OwnSesIdentityDeletes"]}
    assert operator["OwnSesIdentityDeletes"]["Action"] == ["ses:DeleteEmailIdentity"]
    tagged = {"Null": {"aws:ResourceTag/tutormail:institution": "false"}}
    assert operator["OwnSesIdentityDeletes"]["Condition"] == tagged
    assert allowed["cloudformation:DeleteStack"] == {OPERATOR_RESOURCES["TutormailStacks"]}
    assert allowed["iam:UpdateAccessKey"] == {OPERATOR_RESOURCES["SmtpUsers"]}
    assert allowed["ses:PutConfigurationSetSendingOptions"] == {OPERATOR_RESOURCES["ConfigurationSets"]}
    assert allowed["route53:ChangeResourceRecordSets"] == {"arn:aws:route53:::hostedzone/*"}
    assert "Condition" in operator["StaleDkimCnameDeletes"]
    conditioned = {sid for sid, s in operator.items() if "Condition" in s}
    assert conditioned == {"StaleDkimCnameDeletes", "OwnSesIdentityDeletes", "CheckMessagesList"}
    writes = {a for a in allowed if a.split(":")[1].startswith(("Put", "BatchWrite", "Update", "Delete", "Change"))}
    assert {a for a in writes if a.startswith("dynamodb:")} == {"dynamodb:BatchWriteItem", "dynamodb:PutItem"}
    assert allowed["dynamodb:BatchWriteItem"] == allowed["dynamodb:PutItem"] == {OPERATOR_RESOURCES["ProgressTable"]}


def test_the_deploy_policy_only_assumes_the_cdk_bootstrap_roles(policies):
    assert policies["tutormail-deploy"] == {"CdkBootstrapRoles": {
        "Sid": "CdkBootstrapRoles", "Effect": "Allow", "Action": ["sts:AssumeRole"],
        "Resource": [CDK_ROLE.format(role) for role in ("deploy", "file-publishing", "lookup")]}}


def test_the_plan_role_reads_where_the_operator_reads_and_never_a_secret(policies):
    plan, operator = where_allowed(policies["tutormail-plan"]), where_allowed(policies["tutormail-operator"])
    assert plan.pop("sts:AssumeRole") == {CDK_ROLE.format("lookup")}  # cdk diff's lookups, nothing else
    assert not SECRET_READS & set(plan) and not any(a.startswith("secretsmanager:Get") for a in plan)
    assert all(a.split(":")[1].startswith(("Get", "List", "Describe", "Query")) for a in plan), sorted(plan)
    assert {a: operator[a] for a in plan} == plan  # each read on the operator's resource for it, never wider
    # what the plan job runs (out-of-date, preflight, plan-changes, the offboarding dry run: its Query)
    # (preflight's account-quota reads come with its rows, though the plan job itself does not call them yet)
    assert sorted(plan) == [
        "cloudformation:DescribeAccountLimits", "cloudformation:DescribeStacks", "cloudformation:GetTemplate",
        "cloudformation:ListStackResources", "cloudformation:ListStacks", "dynamodb:Query", "iam:GetAccountSummary",
        "iam:ListAccessKeys", "route53:GetHostedZone", "route53:GetHostedZoneLimit", "route53:ListResourceRecordSets",
        "secretsmanager:DescribeSecret", "ses:GetAccount", "ses:GetConfigurationSet", "ses:GetEmailIdentity",
        "ses:ListEmailIdentities"]


def test_the_offboarding_role_does_offboard_and_cleanup_and_never_deploys_nor_reads_an_smtp_key(policies):
    """The offboard and cleanup jobs' rows (tutormail.aws.permissions), each on the operator's resource
    and conditions for it; no CDK role (no deploy), no stack update, no identity made, and an explicit
    Deny of every SMTP key secret (the TSIG keys beside them stay readable)."""
    from tutormail.aws import permissions

    statements = dict(policies["tutormail-offboard"])
    deny = statements.pop("NoSmtpKeys")
    assert deny == {"Sid": "NoSmtpKeys", "Effect": "Deny", "Action": ["secretsmanager:GetSecretValue"],
                    "Resource": [f"arn:aws:secretsmanager:{WHERE}:secret:tutormail/*/smtp-??????"]}
    offboard, operator = where_allowed(statements), where_allowed(policies["tutormail-operator"])
    assert set(offboard) == {row.action for row in permissions.job_rows("offboard")}
    assert all(offboard[a] <= operator[a] for a in offboard), offboard  # never wider than the operator's
    conditions = {a: s.get("Condition") for s in policies["tutormail-operator"].values() for a in s["Action"]}
    assert all(conditions.get(a) == s.get("Condition") for s in statements.values() for a in s["Action"])
    assert "sts:AssumeRole" not in offboard and not {"cloudformation:UpdateStack", "cloudformation:CreateStack",
                                                     "ses:CreateEmailIdentity"} & set(offboard)
    assert {"cloudformation:DeleteStack", "ses:DeleteEmailIdentity", "secretsmanager:GetSecretValue"} <= set(offboard)


def _roles(platform):
    names = {logical: r["Properties"]["ManagedPolicyName"] for logical, r in platform.items()
             if r["Type"] == "AWS::IAM::ManagedPolicy"}
    roles = {}
    for resource in platform.values():
        properties = resource["Properties"]
        if resource["Type"] != "AWS::IAM::Role" or not properties.get("RoleName", "").startswith("tutormail-ci-"):
            continue
        [trust] = properties["AssumeRolePolicyDocument"]["Statement"]
        roles[properties["RoleName"]] = (sorted(names[p["Ref"]] for p in properties["ManagedPolicyArns"]), trust)
    return roles


def test_each_ci_role_holds_its_own_policies_and_trusts_only_its_own_subject(platform):
    roles = _roles(platform)
    assert {name: held for name, (held, _) in roles.items()} == {
        "tutormail-ci-plan": ["tutormail-plan"],
        "tutormail-ci-deploy": ["tutormail-deploy", "tutormail-operator"],
        "tutormail-ci-offboard": ["tutormail-offboard"],
        "tutormail-ci-watch": ["tutormail-operator"]}
    subjects = {"tutormail-ci-plan": "pull_request", "tutormail-ci-deploy": "environment:production",
                "tutormail-ci-offboard": "environment:offboarding",
                "tutormail-ci-watch": "ref:refs/heads/main"}
    for name, (_, trust) in roles.items():
        assert trust["Action"] == "sts:AssumeRoleWithWebIdentity" and trust["Effect"] == "Allow"
        assert trust["Principal"] == {"Federated": {"Fn::GetAtt": ["GitHubOidc", "Arn"]}}
        assert trust["Condition"] == {"StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": f"repo:sistematutor/tutor-mail:{subjects[name]}"}}
