"""What the sandbox's IAM checks each request against (sandbox/iam/enforce.py), in-process so that
mutation testing reaches it: the action as IAM spells it, the resource ARN per service (a wrong ARN
lets a policy scoped to another resource through, or refuses what AWS allows), and the limits the
emulated services enforce (sandbox/limits.py). tests/e2e/ drives the same code through requests."""

from __future__ import annotations

import pytest
from moto import mock_aws
from moto.iam.exceptions import LimitExceededException, ValidationError
from moto.secretsmanager.exceptions import InvalidParameterException

from sandbox import limits
from sandbox.config import SandboxConfig
from sandbox.iam import enforce

ACCOUNT, REGION = "210987654321", "sa-east-1"
CONFIG = SandboxConfig(state_dir="", account=ACCOUNT, region=REGION)
GOV = SandboxConfig(state_dir="", account=ACCOUNT, region="us-gov-west-1")


@pytest.mark.parametrize(("moto", "iam"), [
    ("s3:HeadBucket", "s3:ListBucket"), ("s3:HeadObject", "s3:GetObject"), ("s3:GetObject", "s3:GetObject"),
    ("monitoring:DescribeAlarms", "cloudwatch:DescribeAlarms"), ("ses:SendRawEmail", "ses:SendRawEmail"),
])
def test_actions_are_named_as_iam_spells_them(moto, iam):
    assert enforce.iam_action(moto) == iam


@pytest.mark.parametrize(("action", "path", "params", "arn"), [
    ("ses:GetEmailIdentity", "/v2/email/identities/escola.edu.br", {},
     f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/escola.edu.br"),
    ("ses:GetEmailIdentity", "/v2/email/identities/contato%40escola.edu.br?x=1", {},
     f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/contato@escola.edu.br"),
    ("ses:GetConfigurationSet", "/v2/email/configuration-sets/tutormail-escola", {},
     f"arn:aws:ses:{REGION}:{ACCOUNT}:configuration-set/tutormail-escola"),
    ("ses:VerifyEmailIdentity", "/", {"EmailAddress": "a@escola.edu.br"},
     f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/a@escola.edu.br"),
    ("ses:VerifyDomainIdentity", "/", {"Domain": "escola.edu.br"},
     f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/escola.edu.br"),
    ("ses:GetIdentityVerificationAttributes", "/", {"Identity": "x.edu.br"},
     f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/x.edu.br"),
    ("ses:ListEmailIdentities", "/v2/email/identities", {}, "*"),
    ("ses:GetAccount", "/v2/email/account", {}, "*"),
    ("route53:ListResourceRecordSets", "/2013-04-01/hostedzone/Z0123/rrset?type=A", {},
     "arn:aws:route53:::hostedzone/Z0123"),
    ("route53:GetChange", "/2013-04-01/change/C42", {}, "arn:aws:route53:::change/C42"),
    ("route53:ListHostedZones", "/2013-04-01/hostedzone", {}, "*"),
    ("sts:AssumeRole", "/", {"RoleArn": "arn:aws:iam::210987654321:role/r"}, "arn:aws:iam::210987654321:role/r"),
    ("sts:TagSession", "/", {}, "*"),
    ("sts:GetCallerIdentity", "/", {"RoleArn": "arn:aws:iam::210987654321:role/r"}, "*"),
    ("logs:FilterLogEvents", "/", {"logGroupName": "/aws/lambda/g"},
     f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/g:*"),
    ("logs:PutLogEvents", "/", {"logGroupName": "g", "logStreamName": "s"},
     f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:g:log-stream:s"),
    ("logs:GetLogEvents", "/", {"logGroupName": "g", "logStreamName": "s"},
     f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:g:log-stream:s"),
    ("logs:DescribeLogStreams", "/", {"logGroupName": "g", "logStreamName": "s"},
     f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:g:*"),
    ("ssm:GetParameter", "/", {"Name": "/cdk-bootstrap/hnb659fds/version"},
     f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/cdk-bootstrap/hnb659fds/version"),
    ("iam:ListAccessKeys", "/", {"UserName": "tutormail-escola-smtp"},
     f"arn:aws:iam::{ACCOUNT}:user/tutormail-escola-smtp"),
    ("iam:GetRole", "/", {"RoleName": "r"}, f"arn:aws:iam::{ACCOUNT}:role/r"),
    ("iam:GetGroup", "/", {"GroupName": "g"}, f"arn:aws:iam::{ACCOUNT}:group/g"),
    ("iam:GetPolicy", "/", {"PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/p"}, f"arn:aws:iam::{ACCOUNT}:policy/p"),
    ("iam:ListUsers", "/", {}, "*"),
    ("secretsmanager:GetSecretValue", "/", {"SecretId": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:x-AbCdEf"},
     f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:x-AbCdEf"),
    ("secretsmanager:ListSecrets", "/", {}, "*"),
    ("cloudformation:DescribeStacks", "/", {"StackName": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/S/1"},
     f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/S/1"),
    ("cloudformation:ListStacks", "/", {}, "*"),
])
def test_each_request_is_checked_against_the_resource_iam_names(action, path, params, arn):
    assert enforce.resource_of(CONFIG, action, path, params) == arn
    assert enforce.resources_of(CONFIG, action, path, params) == [arn]


def test_arns_take_the_partition_of_the_region():
    assert enforce.resource_of(GOV, "ses:GetEmailIdentity", "/v2/email/identities/a.br", {}) == \
        f"arn:aws-us-gov:ses:us-gov-west-1:{ACCOUNT}:identity/a.br"
    assert enforce.resource_of(GOV, "route53:GetChange", "/2013-04-01/change/C1", {}) == \
        "arn:aws-us-gov:route53:::change/C1"
    assert enforce.resource_of(GOV, "iam:GetUser", "/", {"UserName": "u"}) == f"arn:aws-us-gov:iam::{ACCOUNT}:user/u"


def test_secrets_and_stacks_not_yet_created_get_the_arn_they_will_have():
    with mock_aws():
        assert enforce.resource_of(CONFIG, "secretsmanager:CreateSecret", "/", {"Name": "tutormail/e/smtp"}) == \
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:tutormail/e/smtp-XXXXXX"
        assert enforce.resource_of(CONFIG, "secretsmanager:DescribeSecret", "/", {"SecretId": "tutormail/e/smtp"}) == \
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:tutormail/e/smtp-XXXXXX"
        assert enforce.resource_of(CONFIG, "cloudformation:DescribeStacks", "/", {"StackName": "TutorMail-e"}) == \
            f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/TutorMail-e/new"


def test_batches_and_alarms_authorise_each_resource_they_name():
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/"
    assert enforce.resources_of(CONFIG, "dynamodb:Query", "/", {"TableName": "tutormail-progress"}) == [
        table + "tutormail-progress"]
    assert enforce.resources_of(CONFIG, "dynamodb:BatchWriteItem", "/", {"RequestItems": {"b": [], "a": []}}) == [
        table + "a", table + "b"]
    assert enforce.resources_of(CONFIG, "dynamodb:Query", "/", {"TableName": table + "x"}) == [table + "x"]
    assert enforce.resources_of(CONFIG, "dynamodb:ListTables", "/", {}) == ["*"]
    alarm = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:"
    assert enforce.resources_of(CONFIG, "cloudwatch:DescribeAlarms", "/", {"AlarmNames": ["a1", "a2"]}) == [
        alarm + "a1", alarm + "a2"]
    query = {"AlarmNames.member.2": "z", "AlarmNames.member.1": "y", "AlarmNamePrefix": "tutormail-"}
    assert enforce.resources_of(CONFIG, "cloudwatch:DescribeAlarms", "/", query) == [alarm + "y", alarm + "z"]
    assert enforce.resources_of(CONFIG, "cloudwatch:DescribeAlarms", "/", {"AlarmNamePrefix": "tutormail-"}) == ["*"]


def test_record_names_are_normalized_as_route53_sets_its_condition_key():
    assert enforce._normalized_name("Abc._DomainKey.Escola.edu.br.") == "abc._domainkey.escola.edu.br"
    assert enforce._normalized_name("*.escola.br") == "\\052.escola.br"
    assert enforce._normalized_name("a b") == "a\\040b"


def test_a_denial_says_why_as_aws_does():
    base = "User: U is not authorized to perform: ses:X on resource: R "
    assert enforce._denial("U", "ses:X", "R", {"decision": "ImplicitlyDenied"}) == \
        base + "because no identity-based policy allows the ses:X action"
    assert enforce._denial("U", "ses:X", "R", {"decision": "ExplicitlyDenied"}) == \
        base + "with an explicit deny in an identity-based policy"
    assert "refused the request" in enforce._denial("U", "ses:X", "R", {"decision": "Error", "errors": ["e"]})


# --- service limits (sandbox/limits.py) -------------------------------------------------------------

def test_an_iam_user_name_of_65_characters_is_refused_64_accepted():
    limits._user_name(None, REGION, "u" * 64)
    with pytest.raises(ValidationError, match="less than or equal to 64"):
        limits._user_name(None, REGION, "u" * 65)


def test_an_inline_user_policy_counts_characters_without_white_space():
    limits._inline_policy(None, "u", "p", "x" * 2048 + " \n\t" * 100)
    with pytest.raises(LimitExceededException, match="2048"):
        limits._inline_policy(None, "u", "p", "x" * 2049)


def test_a_secret_takes_50_tags_of_127_characters():
    limits._tags({f"k{i}" for i in range(50)})
    with pytest.raises(InvalidParameterException, match="at most 50 tags"):
        limits._tags({f"k{i}" for i in range(49)}, [{"Key": "old1"}, {"Key": "old2"}])
    limits._tags({"k0"}, [{"Key": "k0"}])  # a key already there is not counted twice
    limits._tags({"k" * 127})
    with pytest.raises(InvalidParameterException, match="128 characters"):
        limits._tags({"k" * 128})
    with pytest.raises(InvalidParameterException, match="at most 50 tags"):
        limits._create_secret(None, "s", tags=[{"Key": f"k{i}", "Value": ""} for i in range(51)])


def test_a_configuration_set_name_of_65_characters_is_refused():
    limits._configuration_set(None, "c" * 64)
    with pytest.raises(limits.BadRequestException, match="longer than 64"):
        limits._configuration_set(None, "c" * 65)
