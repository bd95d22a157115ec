"""IAM in the sandbox as the product meets it: the operator's policy and the SMTP user's policy."""

from __future__ import annotations

import json
import smtplib

import boto3
import pytest
from tutormail.tutor_setup.smtp_password import smtp_password

from sandbox import launcher
from tests.conftest import run_cli, smtp_login

MISSING = "secretsmanager:GetSecretValue"


@pytest.fixture
def admin(deployed, monkeypatch):
    for key, value in deployed["env"].items():
        monkeypatch.setenv(key, value)
    return deployed["env"]


def _operator_policy_without(action: str) -> str:
    iam = boto3.client("iam")
    account = boto3.client("sts").get_caller_identity()["Account"]
    arn = f"arn:aws:iam::{account}:policy/tutormail-operator"
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    document = json.loads(document) if isinstance(document, str) else document
    for statement in document["Statement"]:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        statement["Action"] = [a for a in actions if a != action]
    document["Statement"] = [s for s in document["Statement"] if s["Action"]]
    name = "tutormail-operator-without-one-action"
    try:
        iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    return name


def test_an_operator_policy_missing_one_action_fails_with_access_denied_naming_it(admin, deployed):
    allowed = run_cli("smtp-settings", "escola-padrao", "--output", "json", env=deployed["operator_env"])
    assert allowed.returncode == 0, allowed.stderr
    crippled = launcher.principal(admin, "operator-without-one-action", [_operator_policy_without(MISSING)])
    refused = run_cli("smtp-settings", "escola-padrao", "--output", "json", env=crippled)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert "AccessDenied" in refused.stderr and f"not authorized to perform: {MISSING}" in refused.stderr


def test_a_key_the_account_never_issued_is_refused_from_the_first_request(admin):
    """moto checks no request at all by default (INITIAL_NO_AUTH_ACTION_COUNT is infinite); the
    sandbox sets it to 0 (sandbox/iam/enforce.py), so a key the account never issued is refused, as
    AWS refuses it: https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html"""
    stranger = boto3.session.Session(aws_access_key_id="FAKE-TEST-UNKNOWN-01",
                                     aws_secret_access_key="obviously-fake-not-a-secret")
    for service, call in (("secretsmanager", "list_secrets"), ("sesv2", "list_email_identities")):
        client = stranger.client(service)
        with pytest.raises(client.exceptions.ClientError) as refused:
            getattr(client, call)()
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] in (401, 403), refused.value.response


def test_the_operator_cannot_do_what_no_command_does(admin, deployed):
    operator = boto3.session.Session(aws_access_key_id=deployed["operator_env"]["AWS_ACCESS_KEY_ID"],
                                     aws_secret_access_key=deployed["operator_env"]["AWS_SECRET_ACCESS_KEY"])
    secrets = operator.client("secretsmanager")
    with pytest.raises(secrets.exceptions.ClientError) as refused:
        secrets.put_secret_value(SecretId="tutormail/escola-padrao/smtp", SecretString="obviously-fake")
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "secretsmanager:PutSecretValue" in refused.value.response["Error"]["Message"]


def test_the_operator_may_delete_only_identities_tutor_mail_made(admin, deployed):
    """ses:DeleteEmailIdentity is scoped to identities carrying the tutormail:institution tag, which the
    stacks put on every identity they make (issue 20): another application's identity is refused."""
    foreign = "outra-aplicacao.com.br"
    boto3.client("sesv2").create_email_identity(EmailIdentity=foreign)  # made by another application
    ours = boto3.client("sesv2").get_email_identity(EmailIdentity="instituicao-xy.sistematutor.com.br")
    assert {"Key": "tutormail:institution", "Value": "instituicao-xy"} in ours["Tags"]
    operator = boto3.session.Session(aws_access_key_id=deployed["operator_env"]["AWS_ACCESS_KEY_ID"],
                                     aws_secret_access_key=deployed["operator_env"]["AWS_SECRET_ACCESS_KEY"])
    sesv2 = operator.client("sesv2")
    try:
        with pytest.raises(sesv2.exceptions.ClientError) as refused:
            sesv2.delete_email_identity(EmailIdentity=foreign)
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
        assert "ses:DeleteEmailIdentity" in refused.value.response["Error"]["Message"]
        assert sesv2.get_email_identity(EmailIdentity=foreign)["IdentityType"] == "DOMAIN"  # still there
    finally:
        boto3.client("sesv2").delete_email_identity(EmailIdentity=foreign)


@pytest.fixture
def smtp_key(admin):
    """A key of the institution's SMTP user, made for the test and deleted after it (the secret's
    key depends on which rotation tests ran before), so the user never holds more than two."""
    created = []

    def make(slug):
        key = boto3.client("iam").create_access_key(UserName=f"tutormail-{slug}-smtp")["AccessKey"]
        created.append(key)
        return key["AccessKeyId"], key["SecretAccessKey"]

    yield make
    for key in created:
        boto3.client("iam").delete_access_key(UserName=key["UserName"], AccessKeyId=key["AccessKeyId"])


def test_mixed_case_from_under_a_domain_identity_is_sent(admin, smtp_key):
    sender = "Comunicacao@Escola-Padrao.Sistematutor.com.br"  # the file says comunicacao@escola-padrao...
    key_id, secret = smtp_key("escola-padrao")
    with smtp_login(admin, key_id, smtp_password(secret, admin["AWS_REGION"])) as smtp:
        refused = smtp.sendmail(sender, ["teste@exemplo.com.br"],
                                f"From: {sender}\r\nSubject: caixa\r\n\r\nteste\r\n".encode())
    assert refused == {}


def test_mixed_case_link_verified_address_is_refused_by_the_policy(admin, smtp_key):
    sender = "Contato@colegioxy.com.br"  # SES verified contato@colegioxy.com.br, exactly
    key_id, secret = smtp_key("instituicao-xy")
    with smtp_login(admin, key_id, smtp_password(secret, admin["AWS_REGION"])) as smtp, \
            pytest.raises(smtplib.SMTPDataError) as refused:
        smtp.sendmail(sender, ["teste@exemplo.com.br"], f"From: {sender}\r\nSubject: caixa\r\n\r\nteste\r\n".encode())
    assert refused.value.smtp_code == 554
    assert b"not authorized to perform `ses:SendRawEmail'" in refused.value.smtp_error


def test_an_address_under_an_allowed_identity_is_refused_by_the_from_address_condition(admin, smtp_key):
    """The resource matches (identity/instituicaoxy.com.br is in the policy's Resource list) and only
    the ses:FromAddress condition refuses: the file lists comunicacao@ and atendimento@ there."""
    key_id, secret = smtp_key("instituicao-xy")
    with smtp_login(admin, key_id, smtp_password(secret, admin["AWS_REGION"])) as smtp:
        for allowed in ("atendimento@instituicaoxy.com.br", "Comunicacao@InstituicaoXY.com.br"):
            try:
                smtp.sendmail(allowed, ["teste@exemplo.com.br"],
                              f"From: {allowed}\r\nSubject: caixa\r\n\r\nteste\r\n".encode())
            except smtplib.SMTPDataError as refused:  # the identity's verification may still be under way
                assert b"not authorized" not in refused.smtp_error, refused.smtp_error
        with pytest.raises(smtplib.SMTPDataError) as refused:
            smtp.sendmail("outro@instituicaoxy.com.br", ["teste@exemplo.com.br"],
                          b"From: outro@instituicaoxy.com.br\r\nSubject: caixa\r\n\r\nteste\r\n")
    assert refused.value.smtp_code == 554
    account = boto3.client("sts").get_caller_identity()["Account"]
    assert (f"not authorized to perform `ses:SendRawEmail' on resource `arn:aws:ses:{admin['AWS_REGION']}:"
            f"{account}:identity/instituicaoxy.com.br'").encode() in refused.value.smtp_error


def test_an_inactive_key_is_refused_at_auth_with_its_right_password(admin, smtp_key):
    key_id, secret = smtp_key("escola-padrao")
    smtp_login(admin, key_id, smtp_password(secret, admin["AWS_REGION"])).quit()  # the password is right
    boto3.client("iam").update_access_key(UserName="tutormail-escola-padrao-smtp", AccessKeyId=key_id,
                                          Status="Inactive")
    with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        smtp_login(admin, key_id, smtp_password(secret, admin["AWS_REGION"]))
    assert refused.value.smtp_code == 535
