"""What the sandbox's IAM checks each request against (sandbox/iam/enforce.py), in-process so that
mutation testing reaches it: the action as IAM spells it, the resource ARN per service (a wrong ARN
lets a policy scoped to another resource through, or refuses what AWS allows), and the limits the
emulated services enforce (sandbox/limits.py). tests/e2e/ drives the same code through requests."""

from __future__ import annotations

import json

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


def test_a_managed_policy_counts_characters_without_white_space_up_to_6144():
    limits._managed_policy(None, "", "/", "x" * 6144 + " \n" * 50, "p")
    with pytest.raises(LimitExceededException, match="PolicySize: 6144"):
        limits._managed_policy(None, "", "/", "x" * 6145, "p")


class Users:
    """moto's IAM backend as _attach_user_policy reads it: a user and the managed policies it holds."""

    def __init__(self, held):
        self.user = type("User", (), {"managed_policies": dict.fromkeys(held)})()

    def get_user(self, name):
        assert name == "u"
        return self.user


def test_a_user_holds_10_managed_policies_and_attaching_one_it_holds_again_is_no_eleventh():
    arns = [f"arn:aws:iam::{ACCOUNT}:policy/p{n}" for n in range(10)]
    limits._attach_user_policy(Users(arns[:9]), arns[9], "u")
    limits._attach_user_policy(Users(arns), arns[0], "u")
    with pytest.raises(LimitExceededException, match="PoliciesPerUser: 10"):
        limits._attach_user_policy(Users(arns), f"arn:aws:iam::{ACCOUNT}:policy/p10", "u")


class Secrets:
    def __init__(self, **tags):
        self.secrets = {name: type("Secret", (), {"tags": keys})() for name, keys in tags.items()}


def test_tagging_a_secret_counts_the_tags_it_has_and_a_secret_not_found_only_the_new_ones():
    held = [{"Key": f"old{i}", "Value": ""} for i in range(49)]
    limits._tag_resource(Secrets(s=held), "s", {"new": ""})
    with pytest.raises(InvalidParameterException, match="would give it 51"):
        limits._tag_resource(Secrets(s=held), "s", {"new": "", "other": ""})
    limits._tag_resource(Secrets(), "absent", {f"k{i}": "" for i in range(50)})
    with pytest.raises(InvalidParameterException, match="would give it 51"):
        limits._tag_resource(Secrets(), "absent", {f"k{i}": "" for i in range(51)})


def test_describe_stack_resources_returns_the_first_100():
    first = limits._first_resources(lambda self, stack, logical: ("stack", iter(range(150))))
    assert first(None, "s", None) == ("stack", list(range(100)))
    assert limits._first_resources(lambda self, stack, logical: ("stack", [1, 2]))(None, "s", None) == (
        "stack", [1, 2])


def test_a_check_runs_before_the_call_it_guards_and_a_refusal_stops_it(monkeypatch):
    calls = []

    class Backend:
        def create(self, name, size=0):
            """moto's own."""
            calls.append(("create", name, size))
            return name

    def check(self, name, size=0):
        calls.append(("check", name, size))
        if size > 1:
            raise ValueError("too big")

    limits._before(Backend, "create", check)
    assert Backend().create("a", size=1) == "a" and calls == [("check", "a", 1), ("create", "a", 1)]
    with pytest.raises(ValueError, match="too big"):
        Backend().create("b", size=2)
    assert calls[-1] == ("check", "b", 2) and Backend.create.__doc__ == "moto's own."


def test_install_puts_every_limit_before_moto(monkeypatch):
    from moto.cloudformation.models import CloudFormationBackend
    from moto.iam.models import IAMBackend
    from moto.secretsmanager.models import SecretsManagerBackend
    from moto.sesv2.models import SESV2Backend

    guarded = [(IAMBackend, "create_user"), (IAMBackend, "put_user_policy"), (IAMBackend, "create_policy"),
               (IAMBackend, "attach_user_policy"), (SecretsManagerBackend, "create_secret"),
               (SecretsManagerBackend, "tag_resource"), (SESV2Backend, "create_configuration_set"),
               (CloudFormationBackend, "describe_stack_resources")]
    originals = {}
    for cls, name in guarded:  # put back after the test: the install is for the emulator's process
        originals[(cls, name)] = getattr(cls, name)
        monkeypatch.setattr(cls, name, getattr(cls, name))
    limits.install()
    for cls, name in guarded:
        assert getattr(cls, name) is not originals[(cls, name)] and getattr(cls, name).__wrapped__ is \
            originals[(cls, name)], name
    with mock_aws():
        import boto3

        iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="fake", aws_secret_access_key="fake")
        with pytest.raises(iam.exceptions.ClientError, match="less than or equal to 64"):
            iam.create_user(UserName="u" * 65)
        ses = boto3.client("sesv2", region_name=REGION, aws_access_key_id="fake", aws_secret_access_key="fake")
        with pytest.raises(ses.exceptions.ClientError, match="longer than 64"):
            ses.create_configuration_set(ConfigurationSetName="c" * 65)


# --- each request decided on its own (check_action_permitted, as moto calls it) -----------------------

class Key:
    """moto's access key of the caller: its ARN and its policies."""

    def __init__(self, arn, *statements):
        self.arn, self.statements = arn, list(statements)

    def collect_policies(self):
        return [{"Version": "2012-10-17", "Statement": self.statements}]


class Request:
    """What moto's IAMRequestBase holds of a request, as check_action_permitted reads it."""

    def __init__(self, action, key, path="/", data=None, body=b"", headers=None):
        self._action, self._access_key, self._path, self._data = action, key, path, data or {}
        self._body, self._headers, self._region = body, headers or {}, REGION

    check = enforce.check_action_permitted


OPERATOR = f"arn:aws:iam::{ACCOUNT}:user/sandbox-operator"
ZONES = "arn:aws:route53:::hostedzone/*"
KEYS = ("route53:ChangeResourceRecordSetsActions", "route53:ChangeResourceRecordSetsRecordTypes",
        "route53:ChangeResourceRecordSetsNormalizedRecordNames")
STALE_DKIM = {"Effect": "Allow", "Action": "route53:ChangeResourceRecordSets", "Resource": ZONES, "Condition": {
    "ForAllValues:StringEquals": {KEYS[0]: ["DELETE"], KEYS[1]: ["CNAME"]},
    "ForAllValues:StringLike": {KEYS[2]: ["*._domainkey.*"]}, "Null": dict.fromkeys(KEYS, "false")}}


@pytest.fixture
def sandbox_config(monkeypatch):
    monkeypatch.setenv("TUTORMAIL_SANDBOX_CONFIG", CONFIG.to_env()["TUTORMAIL_SANDBOX_CONFIG"])


def change_batch(action, rtype, name):
    return (f'<?xml version="1.0"?><ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/'
            f'2013-04-01/"><ChangeBatch><Changes><Change><Action>{action}</Action><ResourceRecordSet><Name>{name}'
            f"</Name><Type>{rtype}</Type><TTL>1800</TTL></ResourceRecordSet></Change></Changes></ChangeBatch>"
            "</ChangeResourceRecordSetsRequest>").encode()


@pytest.mark.parametrize(("action", "rtype", "name", "allowed"), [
    ("DELETE", "CNAME", "tok1._domainkey.escola.edu.br.", True),
    ("UPSERT", "CNAME", "tok1._domainkey.escola.edu.br.", False),  # only the action differs
    ("DELETE", "TXT", "tok1._domainkey.escola.edu.br.", False),  # only the type
    ("DELETE", "CNAME", "www.escola.edu.br.", False),  # only the name
])
def test_a_route53_change_is_refused_by_its_conditions_alone(sandbox_config, action, rtype, name, allowed):
    """Same zone (the resource matches), same principal: only the change batch's condition keys decide."""
    request = Request("route53:ChangeResourceRecordSets", Key(OPERATOR, STALE_DKIM),
                      path="/2013-04-01/hostedzone/Z0123/rrset", body=change_batch(action, rtype, name))
    if allowed:
        request.check("*")
        return
    with pytest.raises(enforce.AccessDeniedRestXml) as refused:
        request.check("*")
    assert (f"User: {OPERATOR} is not authorized to perform: route53:ChangeResourceRecordSets on resource: "
            "arn:aws:route53:::hostedzone/Z0123 because no identity-based policy allows") in refused.value.message


def test_the_condition_keys_of_a_change_batch_are_its_actions_types_and_normalized_names():
    request = Request("route53:ChangeResourceRecordSets", None, body=change_batch("DELETE", "CNAME", "A.Escola.br."))
    assert enforce._request_context("route53:ChangeResourceRecordSets", request) == {
        KEYS[0]: ["DELETE"], KEYS[1]: ["CNAME"], KEYS[2]: ["a.escola.br"]}
    assert enforce._request_context("route53:ListResourceRecordSets", request) == {}


def test_an_ses_v2_refusal_names_the_identity_and_answers_json(sandbox_config):
    key = Key(OPERATOR, {"Effect": "Allow", "Action": "ses:GetEmailIdentity",
                         "Resource": f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/escola.edu.br"})
    Request("ses:GetEmailIdentity", key, path="/v2/email/identities/escola.edu.br").check("*")
    before = len(enforce.DECISIONS)
    with pytest.raises(enforce.AccessDeniedJson) as refused:
        Request("ses:GetEmailIdentity", key, path="/v2/email/identities/outra.edu.br").check("*")
    assert f"on resource: arn:aws:ses:{REGION}:{ACCOUNT}:identity/outra.edu.br" in refused.value.message
    assert enforce.DECISIONS[before:] == [{"principal": OPERATOR, "action": "ses:GetEmailIdentity", "errors": "",
                                           "resource": f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/outra.edu.br",
                                           "decision": "ImplicitlyDenied"}]


def test_a_query_api_refusal_is_access_denied_and_an_arn_given_by_moto_is_checked_as_is(sandbox_config):
    key = Key(OPERATOR, {"Effect": "Allow", "Action": "iam:ListAccessKeys",
                         "Resource": f"arn:aws:iam::{ACCOUNT}:user/tutormail-*-smtp"})
    Request("iam:ListAccessKeys", key, path="/?Action=ListAccessKeys&UserName=tutormail-e-smtp").check("*")
    with pytest.raises(enforce.AccessDenied) as refused:
        Request("iam:ListAccessKeys", key, data={"UserName": ["admin"]}).check("*")
    assert type(refused.value) is enforce.AccessDenied and "user/admin" in refused.value.message
    with pytest.raises(enforce.AccessDenied):  # moto's own resource wins over the parameters
        Request("iam:ListAccessKeys", key, data={"UserName": "tutormail-e-smtp"}).check(
            f"arn:aws:iam::{ACCOUNT}:user/x")


def test_describe_stacks_of_every_stack_also_needs_list_stacks(sandbox_config):
    describe = {"Effect": "Allow", "Action": "cloudformation:DescribeStacks", "Resource": "*"}
    with pytest.raises(enforce.AccessDenied, match="cloudformation:ListStacks"):
        Request("cloudformation:DescribeStacks", Key(OPERATOR, describe)).check("*")
    both = Key(OPERATOR, describe, {**describe, "Action": "cloudformation:ListStacks"})
    Request("cloudformation:DescribeStacks", both).check("*")


def test_get_caller_identity_needs_no_permission_and_a_json_body_is_read(sandbox_config):
    Request("sts:GetCallerIdentity", Key(OPERATOR)).check("*")
    key = Key(OPERATOR, {"Effect": "Allow", "Action": "dynamodb:Query",
                         "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/tutormail-progress"})
    Request("dynamodb:Query", key, body=b'{"TableName": "tutormail-progress"}',
            headers={"X-Amz-Target": "DynamoDB_20120810.Query"}).check("*")
    with pytest.raises(enforce.AccessDeniedJson):
        Request("dynamodb:Query", key, body=b'{"TableName": "other"}', headers={"X-Amz-Target": "x"}).check("*")


def test_the_global_keys_name_the_account_region_and_a_sessions_role():
    session = Key(f"arn:aws:sts::{ACCOUNT}:assumed-role/cdk-deploy/session-1")
    assert enforce._global_context(CONFIG, Request("x:Y", session)) == {
        "aws:ResourceAccount": ACCOUNT, "aws:PrincipalAccount": ACCOUNT, "aws:RequestedRegion": REGION,
        "aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/cdk-deploy"}
    assert enforce._global_context(CONFIG, Request("x:Y", Key(OPERATOR)))["aws:PrincipalArn"] == OPERATOR


def test_a_request_without_a_body_is_re_signed_with_none_as_aws_signed_it(monkeypatch):
    """moto would re-sign a bodiless GET, HEAD or DELETE with its parsed query as the body."""
    monkeypatch.setattr(enforce, "_moto_aws_request", lambda self: type("AwsRequest", (), {"data": b"a=1"})())

    def signed(method, body):
        return enforce._create_aws_request(type("R", (), {"_body": body, "_method": method})()).data

    assert [signed(m, b"") for m in ("GET", "HEAD", "DELETE")] == [b"", b"", b""]
    assert signed("POST", b"") == b"a=1" and signed("GET", b"x") == b"a=1"


def test_only_a_role_session_can_expire(sandbox_config):
    assert not enforce._session_expired(Request("sts:GetCallerIdentity", Key(OPERATOR)))


@pytest.mark.parametrize(("body", "expected"), [
    (b"PK\x03\x04\x14\x00\x00\x00\x08\x00\x90\xa1", {}),  # an S3 PutObject of a zipped Lambda asset
    (b'{"SecretId": "tutormail/x/smtp"}', {"SecretId": "tutormail/x/smtp"}),
    ('{"TableName": "t"}', {"TableName": "t"}),
    (b"{\xff", {}),
    (None, {}),
])
def test_a_request_body_gives_its_parameters_only_when_it_is_json(body, expected):
    from types import SimpleNamespace

    request = SimpleNamespace(_path="/bucket/key", _data={}, _body=body)
    assert enforce._params(request) == expected


# --- resources named by a request's parameters, per service (resource_of) ----------------------------

QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:"


@pytest.mark.parametrize(("action", "path", "params", "arn"), [
    # GetHostedZoneLimit takes the `hostedzone` resource type, not `hostedzonelimit`
    ("route53:GetHostedZoneLimit", "/2013-04-01/hostedzonelimit/Z0123/MAX_RRSETS_BY_ZONE", {},
     "arn:aws:route53:::hostedzone/Z0123"),
    ("sts:TagSession", "/", {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/r"}, f"arn:aws:iam::{ACCOUNT}:role/r"),
    ("logs:DescribeLogGroups", "/", {}, "*"),  # no group named: every group
    ("sqs:SendMessage", "/", {"QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/tutormail-envios"},
     QUEUE + "tutormail-envios"),
    ("sqs:GetQueueAttributes", "/", {"QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/fila-DLX/"},
     QUEUE + "fila-DLX"),
    ("sqs:GetQueueUrl", "/", {"QueueName": "tutormail-envios"}, QUEUE + "tutormail-envios"),
    ("sqs:CreateQueue", "/", {"QueueName": "q", "QueueUrl": ""}, QUEUE + "q"),
    ("sqs:ListQueues", "/", {}, "*"),
    ("ssm:DescribeParameters", "/", {}, "*"),
    ("ssm:GetParameter", "/", {"Name": "Xerox/k"}, f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/Xerox/k"),
    ("kinesis:PutRecord", "/", {"logGroupName": "g", "QueueName": "q", "Name": "n"}, "*"),  # others' names
])
def test_a_queue_a_parameter_a_zone_limit_and_a_session_tag_are_checked_against_their_arn(action, path, params, arn):
    assert enforce.resource_of(CONFIG, action, path, params) == arn


def test_secrets_and_stacks_that_exist_are_checked_against_their_own_arn():
    import boto3

    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name=REGION)
        existing = secrets.create_secret(Name="tutormail/e/smtp", SecretString="s")["ARN"]
        assert existing.endswith("secret:tutormail/e/smtp-" + existing[-6:]) and not existing.endswith("XXXXXX")
        # moto's default account holds them
        here = SandboxConfig(state_dir="", account="123456789012", region=REGION)
        assert enforce.resource_of(here, "secretsmanager:GetSecretValue", "/", {"SecretId": "tutormail/e/smtp"}) \
            == existing
        assert enforce.resource_of(here, "secretsmanager:CreateSecret", "/", {}) == \
            f"arn:aws:secretsmanager:{REGION}:123456789012:secret:-XXXXXX"
        cfn = boto3.client("cloudformation", region_name=REGION)
        template = '{"Resources": {"H": {"Type": "AWS::SQS::Queue"}}}'
        first = cfn.create_stack(StackName="TutorMail-a", TemplateBody=template)["StackId"]
        second = cfn.create_stack(StackName="TutorMail-b", TemplateBody=template)["StackId"]
        assert first != second
        assert enforce.resource_of(here, "cloudformation:DescribeStacks", "/", {"StackName": "TutorMail-b"}) == second
        assert enforce.resource_of(here, "cloudformation:DescribeStacks", "/", {"StackName": "TutorMail-a"}) == first
        assert enforce.resource_of(here, "cloudformation:DescribeStacks", "/", {"StackName": "TutorMail-c"}) == \
            f"arn:aws:cloudformation:{REGION}:123456789012:stack/TutorMail-c/new"


def test_alarms_named_by_the_query_protocol_are_taken_in_member_order():
    alarm = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:"
    query = {"AlarmNames.member.1": "z", "AlarmNames.member.2": "y"}
    assert enforce.resources_of(CONFIG, "cloudwatch:DescribeAlarms", "/", query) == [alarm + "z", alarm + "y"]


# --- what a refused client parses: the error code, the body, the status ------------------------------

def test_each_protocol_answers_the_error_code_its_clients_parse():
    from xmltodict import parse

    query = enforce.AccessDenied("m")
    assert (query.error_type, query.code, query.message) == ("AccessDenied", 403, "m")
    assert "<Code>AccessDenied</Code>" in query.description
    rest = enforce.AccessDeniedRestXml("User: U is not authorized")
    assert rest.code == 403 and rest.description.startswith('<?xml version="1.0" encoding="utf-8"?>')
    assert parse(rest.description) == {"ErrorResponse": {"Error": {
        "Type": "Sender", "Code": "AccessDenied", "Message": "User: U is not authorized"}}}
    json_ = enforce.AccessDeniedJson("m")
    assert json_.code == 403 and json.loads(json_.description) == {"__type": "AccessDeniedException", "message": "m"}


def test_an_evaluator_error_names_its_errors():
    assert enforce._denial("U", "ses:X", "R", {"decision": "Error", "errors": ["e"]}) == \
        "User: U is not authorized to perform: ses:X on resource: R because the sandbox's IAM evaluator refused " \
        'the request: ["e"]'


# --- the policies as IAM stores them (policy_document) and the request's parameters (_params) ---------

def test_an_inline_policy_is_read_from_its_document_url_encoded_as_moto_keeps_it():
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ses:*", "Resource": "*"}]}
    encoded = "%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%7B%22Effect%22%3A%20%22Allow" \
              "%22%2C%20%22Action%22%3A%20%22ses%3A%2A%22%2C%20%22Resource%22%3A%20%22%2A%22%7D%5D%7D"
    assert enforce.policy_document({"policy_name": "p", "policy_document": encoded}) == document
    assert enforce.policy_document({"policy_document": {**document, "Statement": [None, *document["Statement"]]}}) \
        == document


def test_the_query_string_and_the_form_both_give_parameters_a_repeated_one_as_a_list():
    from types import SimpleNamespace

    request = SimpleNamespace(_path="/?Action=ListUsers&Marker=a&Marker=b", _data={"Tags": "ab", "One": ["1"]},
                              _body=b"")
    assert enforce._params(request) == {"Action": "ListUsers", "Marker": ["a", "b"], "Tags": "ab", "One": "1"}
    raw = SimpleNamespace(_path="/bucket/key?uploads=", _data="not a form", _body=b"")
    assert enforce._params(raw) == {}


# --- the decision for one request (check_action_permitted, _authorise) --------------------------------

def test_get_caller_identity_is_answered_even_under_an_explicit_deny_and_nothing_is_evaluated(sandbox_config):
    before = len(enforce.DECISIONS)
    Request("sts:GetCallerIdentity", Key(OPERATOR, {"Effect": "Deny", "Action": "*", "Resource": "*"})).check("*")
    assert len(enforce.DECISIONS) == before


def test_describe_stacks_naming_a_stack_needs_no_list_stacks_and_list_stacks_is_checked_on_star(sandbox_config):
    describe = {"Effect": "Allow", "Action": "cloudformation:DescribeStacks", "Resource": "*"}
    stack = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/S/1"
    Request("cloudformation:DescribeStacks", Key(OPERATOR, describe), data={"StackName": stack}).check("*")
    both = Key(OPERATOR, describe, {**describe, "Action": "cloudformation:ListStacks"})
    before = len(enforce.DECISIONS)
    Request("cloudformation:DescribeStacks", both).check("*")
    assert [(d["action"], d["resource"]) for d in enforce.DECISIONS[before:]] == [
        ("cloudformation:DescribeStacks", "*"), ("cloudformation:ListStacks", "*")]


def test_a_resource_moto_gives_that_is_no_arn_is_replaced_by_the_parameters_arn(sandbox_config):
    key = Key(OPERATOR, {"Effect": "Allow", "Action": "iam:ListAccessKeys",
                         "Resource": f"arn:aws:iam::{ACCOUNT}:user/tutormail-*-smtp"})
    before = len(enforce.DECISIONS)
    Request("iam:ListAccessKeys", key, data={"UserName": "tutormail-e-smtp"}).check("tutormail-e-smtp")
    assert enforce.DECISIONS[before]["resource"] == f"arn:aws:iam::{ACCOUNT}:user/tutormail-e-smtp"


class Evaluator:
    def __init__(self, answer):
        self.answer = answer

    def decide(self, **_):
        return self.answer


def test_an_answer_without_a_decision_is_an_error_that_refuses_and_is_recorded_with_its_errors(sandbox_config,
                                                                                               monkeypatch):
    monkeypatch.setattr(enforce, "EVALUATOR", Evaluator({"errors": ["bad policy"]}))
    before = len(enforce.DECISIONS)
    with pytest.raises(enforce.AccessDenied) as refused:
        Request("iam:ListUsers", Key(OPERATOR)).check("*")
    assert refused.value.message.endswith('refused the request: ["bad policy"]')
    monkeypatch.setattr(enforce, "EVALUATOR", Evaluator({}))
    with pytest.raises(enforce.AccessDenied):
        Request("iam:ListUsers", Key(OPERATOR)).check("*")
    assert [(d["decision"], d["errors"]) for d in enforce.DECISIONS[before:]] == [
        ("Error", '["bad policy"]'), ("Error", "")]


@pytest.fixture
def roles(sandbox_config, monkeypatch):
    """Two roles of the account in moto: one whose trust names the operator, one that trusts another user."""
    import boto3
    from moto.iam.models import iam_backends

    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="fake", aws_secret_access_key="fake")
        for name, trusted in (("confiavel", OPERATOR), ("outra", f"arn:aws:iam::{ACCOUNT}:user/outro")):
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"}]}))
        yield iam_backends[ACCOUNT]["aws"]


def assume(backend, key, role, **params):
    request = Request("sts:AssumeRole", key, data={"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/{role}", **params})
    request.backend = backend
    request.check("*")


def test_assume_role_is_decided_by_the_roles_trust_as_well_as_the_callers_policy(roles):
    key = Key(OPERATOR, {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"})
    assume(roles, key, "confiavel")
    with pytest.raises(enforce.AccessDenied, match="role/outra"):
        assume(roles, key, "outra")


# --- a role session: its expiry and its chained duration ----------------------------------------------

@pytest.fixture
def session(roles, monkeypatch):
    from moto.iam import access_control
    from moto.sts.models import sts_backends
    from tutormail.clock import FixedClock

    clock = FixedClock()
    monkeypatch.setattr(enforce, "CLOCK", clock)
    assumed = sts_backends[ACCOUNT]["aws"].assume_role(
        region_name=REGION, role_session_name="s", role_arn=f"arn:aws:iam::{ACCOUNT}:role/confiavel", policy=None,
        duration=900, external_id=None)
    assumed.expiration = enforce.web_identity.sandbox_now(clock)
    key = access_control.AssumedRoleAccessKey(ACCOUNT, "aws", assumed.access_key_id,
                                              {"X-Amz-Security-Token": assumed.session_token})
    return assumed, key


def in_session(action, key, **kwargs):
    request = Request(action, key, **kwargs)
    request.account_id = ACCOUNT
    return request


def test_a_session_expires_at_its_expiration_on_the_sandbox_clock(session):
    from datetime import timedelta

    assumed, key = session
    assert enforce._session_expired(in_session("sts:GetCallerIdentity", key))
    assumed.expiration += timedelta(seconds=1)
    assert not enforce._session_expired(in_session("sts:GetCallerIdentity", key))


def test_a_govcloud_session_is_found_in_its_partition_and_expires_too(session):
    from moto.iam import access_control
    from moto.sts.models import sts_backends

    assumed = sts_backends[ACCOUNT]["aws-us-gov"].assume_role(
        region_name="us-gov-west-1", role_session_name="s", role_arn=f"arn:aws-us-gov:iam::{ACCOUNT}:role/r",
        policy=None, duration=900, external_id=None)
    assumed.expiration = enforce.web_identity.sandbox_now(enforce.CLOCK)
    key = access_control.AssumedRoleAccessKey(ACCOUNT, "aws-us-gov", assumed.access_key_id,
                                              {"X-Amz-Security-Token": assumed.session_token})
    request = in_session("sts:GetCallerIdentity", key)
    request._region = "us-gov-west-1"
    assert enforce._session_expired(request)


def test_an_expired_session_is_refused_with_each_protocols_expired_token_error(session):
    message = "The security token included in the request is expired"
    _, key = session
    with pytest.raises(enforce.web_identity.StsError) as query:
        in_session("sts:GetCallerIdentity", key).check("*")
    assert (query.value.error_type, query.value.message) == ("ExpiredToken", message)
    with pytest.raises(enforce.web_identity.JsonError) as json_:
        in_session("ses:GetAccount", key, path="/v2/email/account").check("*")
    assert (json_.value.error_type, json_.value.message) == ("ExpiredTokenException", message)


def test_a_session_assuming_a_role_again_may_not_ask_for_more_than_an_hour(session):
    from datetime import timedelta

    assumed, key = session
    assumed.expiration += timedelta(hours=1)
    with pytest.raises(enforce.web_identity.StsError, match="role chaining") as refused:
        request = in_session("sts:AssumeRole", key, data={"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/outra",
                                                          "DurationSeconds": "3601"})
        request.check("*")
    assert refused.value.error_type == "ValidationError"


# --- the condition keys a request sets (_request_context, _resource_context) --------------------------

def test_list_bucket_sets_s3_prefix_from_the_query_and_none_without_one():
    context = enforce._request_context
    assert context("s3:ListBucket", Request("s3:ListBucket", None, path="/b?list-type=2&prefix=tutormail/")) == {
        "s3:prefix": "tutormail/"}
    assert context("s3:ListBucket", Request("s3:ListBucket", None, path="/b?list-type=2")) == {}
    assert context("s3:GetObject", Request("s3:GetObject", None, path="/b?prefix=x")) == {}


def test_a_change_batch_given_as_text_and_without_a_namespace_sets_the_same_keys():
    body = "<ChangeBatch><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>W.Escola.br</Name>" \
           "<Type>TXT</Type></ResourceRecordSet></Change></Changes></ChangeBatch>"
    request = Request("route53:ChangeResourceRecordSets", None, body=body)
    assert enforce._request_context("route53:ChangeResourceRecordSets", request) == {
        KEYS[0]: ["UPSERT"], KEYS[1]: ["TXT"], KEYS[2]: ["w.escola.br"]}


def test_an_ses_identitys_tags_are_its_resource_tag_keys(monkeypatch):
    class Tagged:
        def resource_tags(self):
            return {"tutormail:institution": "escola"}

    known = {"escola.edu.br": Tagged()}
    monkeypatch.setattr("sandbox.moto_ext.ses_lifecycle.find_identity", known.get)
    identity = f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/"
    assert enforce._resource_context(identity + "escola.edu.br") == {"aws:ResourceTag/tutormail:institution": "escola"}
    assert enforce._resource_context(identity + "outra.edu.br") == {}
    assert enforce._resource_context(f"arn:aws:iam::{ACCOUNT}:user/escola.edu.br") == {}


def test_the_request_moto_re_signs_is_the_one_it_built_for_this_request(monkeypatch):
    from types import SimpleNamespace

    monkeypatch.setattr(enforce, "_moto_aws_request", lambda self: SimpleNamespace(data=self._body, of=self))
    request = SimpleNamespace(_body=b"Action=ListUsers", _method="POST")
    assert enforce._create_aws_request(request).of is request


# --- AssumeRoleWithWebIdentity, which is not signed: the token and the role's trust decide ------------

PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
DEPLOY = f"arn:aws:iam::{ACCOUNT}:role/deploy"
PRODUCTION = "repo:org/tutormail:environment:producao"


class Response:
    """What moto's BaseResponse holds of an STS request, as the authentication step reads it."""

    def __init__(self, action, headers=None, **params):
        self.action, self.headers, self.params = action, headers or {}, params

    def _get_action(self):
        return self.action

    def _get_param(self, key):
        return self.params.get(key)


@pytest.fixture
def github(sandbox_config, monkeypatch):
    """The account's GitHub OIDC provider and a role it may take from the production environment only."""
    import boto3
    from tutormail.clock import FixedClock

    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)
    clock = FixedClock()
    monkeypatch.setattr(enforce, "CLOCK", clock)
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="fake", aws_secret_access_key="fake")
        iam.create_open_id_connect_provider(Url="https://token.actions.githubusercontent.com",
                                            ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40])
        iam.create_role(RoleName="deploy", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Federated": PROVIDER}, "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringEquals": {"token.actions.githubusercontent.com:sub": PRODUCTION,
                                            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}]}))

        def token(sub):
            bearer = enforce.web_identity.register_job({"sub": sub})
            return enforce.web_identity.issue(bearer, "sts.amazonaws.com", clock.now())
        yield token


def test_an_unsigned_web_identity_request_is_decided_by_the_trust_of_the_role(github):
    before = len(enforce.DECISIONS)
    enforce._authenticate(Response("AssumeRoleWithWebIdentity", WebIdentityToken=github(PRODUCTION),
                                   RoleArn=DEPLOY, DurationSeconds="900"), None)
    with pytest.raises(enforce.web_identity.StsError) as refused:
        enforce._authenticate(Response("AssumeRoleWithWebIdentity", WebIdentityToken=github("repo:org/tutormail:ref:x"),
                                       RoleArn=DEPLOY, DurationSeconds="900"), None)
    assert (refused.value.error_type, refused.value.code) == ("AccessDenied", 403)
    assert [{k: d[k] for k in ("principal", "action", "resource", "decision")} for d in enforce.DECISIONS[before:]] == [
        {"principal": PROVIDER, "action": "sts:AssumeRoleWithWebIdentity", "resource": DEPLOY, "decision": "Allowed"},
        {"principal": PROVIDER, "action": "sts:AssumeRoleWithWebIdentity", "resource": DEPLOY,
         "decision": "ImplicitlyDenied"}]


def test_a_web_identity_session_longer_than_the_roles_maximum_is_refused(github):
    with pytest.raises(enforce.web_identity.StsError, match="MaxSessionDuration") as refused:
        enforce._authenticate(Response("AssumeRoleWithWebIdentity", WebIdentityToken=github(PRODUCTION),
                                       RoleArn=DEPLOY, DurationSeconds="3601"), None)
    assert refused.value.error_type == "ValidationError"


def test_a_web_identity_request_without_a_duration_asks_for_stss_default_hour(github):
    """boto3 leaves DurationSeconds out unless given; moto's parser then hands the sandbox None."""
    enforce._authenticate(Response("AssumeRoleWithWebIdentity", WebIdentityToken=github(PRODUCTION),
                                   RoleArn=DEPLOY), None)  # the role's maximum is the default hour: allowed
    assert enforce.web_identity.requested_duration({"DurationSeconds": None}) == 3600
    assert enforce.web_identity.requested_duration({}) == 3600
    assert enforce.web_identity.requested_duration({"DurationSeconds": "900"}) == 900


@pytest.mark.parametrize("duration", ["899", "0", "-1", "an hour", "3600.5"])
def test_a_duration_sts_would_refuse_is_a_validation_error_not_a_crash(github, duration):
    with pytest.raises(enforce.web_identity.StsError, match="durationSeconds") as refused:
        enforce._authenticate(Response("AssumeRoleWithWebIdentity", WebIdentityToken=github(PRODUCTION),
                                       RoleArn=DEPLOY, DurationSeconds=duration), None)
    assert refused.value.error_type == "ValidationError"


def test_a_role_without_a_trust_is_refused_and_an_evaluator_error_is_recorded(github, monkeypatch):
    assert enforce._decide_web_identity(CONFIG, PROVIDER, DEPLOY, None, {}) != enforce.ALLOWED
    monkeypatch.setattr(enforce, "EVALUATOR", Evaluator({"errors": ["bad trust"]}))
    assert enforce._decide_web_identity(CONFIG, PROVIDER, DEPLOY, {"Statement": []}, {}) == "Error"
    assert enforce.DECISIONS[-1] == {"principal": PROVIDER, "action": "sts:AssumeRoleWithWebIdentity",
                                     "resource": DEPLOY, "decision": "Error", "errors": '["bad trust"]'}


def test_every_other_request_and_a_signed_web_identity_one_is_authenticated_by_moto(monkeypatch):
    calls = []
    monkeypatch.setattr(enforce, "_moto_authenticate", lambda *args: calls.append(args))
    signed = Response("AssumeRoleWithWebIdentity", headers={"Authorization": "AWS4-HMAC-SHA256 ..."})
    other = Response("AssumeRole")
    enforce._authenticate(signed, "cls", "arn:r")
    enforce._authenticate(other, "cls")
    assert calls == [(signed, "cls", "arn:r"), (other, "cls", "*")]


def test_install_authorises_from_the_first_request_and_sessions_expire_on_the_sandbox_clock(monkeypatch):
    from datetime import timedelta

    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.iam import access_control
    from moto.sts.models import STSBackend, sts_backends
    from tutormail.clock import FixedClock

    replaced = ((settings, "INITIAL_NO_AUTH_ACTION_COUNT"), (access_control.IAMRequestBase, "check_action_permitted"),
                (access_control.IAMRequestBase, "_create_aws_request"),
                (ActionAuthenticatorMixin, "_authenticate_and_authorize_action"), (STSBackend, "assume_role"))
    for owner, name in replaced:  # put back after the test: the install is for the emulator's process
        monkeypatch.setattr(owner, name, getattr(owner, name))
    clock = FixedClock()
    monkeypatch.setattr(enforce, "CLOCK", clock)
    enforce.install()
    assert settings.INITIAL_NO_AUTH_ACTION_COUNT == 0
    assert access_control.IAMRequestBase.check_action_permitted is enforce.check_action_permitted
    assert access_control.IAMRequestBase._create_aws_request is enforce._create_aws_request
    assert ActionAuthenticatorMixin._authenticate_and_authorize_action is enforce._authenticate
    clock.advance(days=400)  # the sandbox's clock, not the machine's
    with mock_aws():
        session = sts_backends[ACCOUNT]["aws"].assume_role(
            region_name=REGION, role_session_name="s", role_arn=f"arn:aws:iam::{ACCOUNT}:role/r", policy=None,
            duration=900, external_id=None)
    assert session.expiration == enforce.web_identity.sandbox_now(clock) + timedelta(seconds=900)
    assert session.role_arn == f"arn:aws:iam::{ACCOUNT}:role/r"
