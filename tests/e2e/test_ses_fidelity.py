"""The SMTP stand-in and the SES account refuse what SES refuses (issue 12, issue 13 item 6).

Each test names the AWS page it follows; sandbox/smtp.py and sandbox/moto_ext/ses_account.py cite
them in full. Every test leaves the account as a new one is: production access off, sending on.
"""

from __future__ import annotations

import json
import re
import smtplib

import boto3
import pytest
from tutormail.tutor_setup.smtp_password import smtp_password

from sandbox import launcher
from tests.conftest import TEST_RECIPIENT, run_cli, smtp_login

OWN = "comunicacao@instituicaoxy.com.br"
OTHER = "comunicacao@escola-padrao.sistematutor.com.br"  # another institution's verified sender


def new_account(state) -> None:
    launcher.account(state, production_access=False, sending_enabled=True, enforcement_status="HEALTHY",
                     reset_quota=True)


@pytest.fixture
def env(deployed, monkeypatch):
    for key, value in deployed["env"].items():
        monkeypatch.setenv(key, value)
    new_account(deployed["state"])
    yield deployed["env"]
    new_account(deployed["state"])


@pytest.fixture
def smtp(env):
    secret = json.loads(boto3.client("secretsmanager").get_secret_value(
        SecretId="tutormail/instituicao-xy/smtp")["SecretString"])
    with smtp_login(env, secret["access_key_id"], smtp_password(secret["secret_access_key"], "us-east-1")) as session:
        yield session


def message(headers: str) -> bytes:
    return (headers.replace("\n", "\r\n") + "\r\nSubject: t\r\n\r\nbody\r\n").encode()


def refusal(smtp, mail_from: str, to: list[str], data: bytes) -> tuple[int, bytes]:
    with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused, smtplib.SMTPRecipientsRefused)) as info:
        smtp.sendmail(mail_from, to, data)
    smtp.rset()
    error = info.value
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return next(iter(error.recipients.values()))
    return error.smtp_code, error.smtp_error


def test_the_own_verified_sender_is_accepted(smtp):
    assert smtp.sendmail(OWN, [TEST_RECIPIENT], message(f"From: {OWN}")) == {}


# SES authorises every From mailbox, Sender and Return-Path:
# https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html
@pytest.mark.parametrize("mail_from, headers", [
    (OWN, f"From: {OWN}, {OTHER}"),
    (OWN, f"From: {OWN}\nFrom: {OTHER}"),
    (OWN, f"From: {OWN}\nSender: {OTHER}"),
    (OWN, f"From: {OWN}\nReturn-Path: <{OTHER}>"),
    (OTHER, f"From: {OWN}"),  # the envelope sender becomes the Return-Path
])
def test_every_address_ses_checks_must_be_the_users_own(smtp, mail_from, headers):
    code, text = refusal(smtp, mail_from, [TEST_RECIPIENT], message(headers))
    assert code == 554 and b"not authorized" in text and OTHER.split("@")[1].encode() in text


def test_a_message_without_a_from_mailbox_is_refused(smtp):
    code, text = refusal(smtp, OWN, [TEST_RECIPIENT], message("To: x@exemplo.com.br"))
    assert code == 554 and b"From" in text


# SES does not support SMTPUTF8: https://docs.aws.amazon.com/ses/latest/APIReference/API_Destination.html
def test_non_ascii_is_refused_as_ses_has_no_smtputf8(smtp):
    assert b"SMTPUTF8" not in (smtp.ehlo_resp or b"")
    code, _ = refusal(smtp, OWN, [TEST_RECIPIENT], f'From: "Instituição XY" <{OWN}>'.encode() + b"\r\n\r\nx\r\n")
    assert code == 554
    smtp.mail(OWN)
    smtp.send("RCPT TO:<ana@exemplo-ação.com.br>\r\n".encode())  # smtplib itself would not send it
    assert smtp.getreply()[0] == 500
    smtp.rset()
    code, _ = smtp.docmd(f"MAIL FROM:<{OWN}> SMTPUTF8")  # smtplib itself would refuse to ask
    assert code == 501
    smtp.rset()
    encoded = f"From: =?utf-8?q?Institui=C3=A7=C3=A3o_XY?= <{OWN}>"
    assert smtp.sendmail(OWN, [TEST_RECIPIENT], message(encoded)) == {}


# A new account is in the SES sandbox: verified recipients (or the mailbox simulator) only:
# https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html
def test_ses_sandbox_refuses_unverified_recipients_until_production_access(env, smtp):
    code, text = refusal(smtp, OWN, ["someone@elsewhere.example"], message(f"From: {OWN}"))
    assert code == 554 and b"not verified" in text and b"someone@elsewhere.example" in text
    assert smtp.sendmail(OWN, ["success@simulator.amazonses.com"], message(f"From: {OWN}")) == {}
    account = boto3.client("sesv2").get_account()
    assert account["ProductionAccessEnabled"] is False and account["SendQuota"]["Max24HourSend"] == 200

    launcher.account(env["TUTORMAIL_SANDBOX_STATE"], production_access=True)
    assert smtp.sendmail(OWN, ["someone@elsewhere.example"], message(f"From: {OWN}")) == {}
    assert boto3.client("sesv2").get_account()["ProductionAccessEnabled"] is True


def test_send_test_explains_the_ses_sandbox_refusal_and_exits_1(env):
    result = run_cli("send-test", "instituicao-xy", "--to", "someone@elsewhere.example", "--output", "json", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["smtp_code"] == 554 and "SES sandbox" in data["explanation"]
    assert "request production access" in data["explanation"] and "Verify the recipient" in data["explanation"]


# Quotas count recipients (https://docs.aws.amazon.com/ses/latest/dg/quotas.html); over the quota SMTP
# answers 454 (https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas-errors.html).
def test_the_200_a_day_quota_of_the_ses_sandbox(smtp):
    recipients = [f"success+{n}@simulator.amazonses.com" for n in range(50)]
    for _ in range(4):
        assert smtp.sendmail(OWN, recipients, message(f"From: {OWN}")) == {}
    assert boto3.client("sesv2").get_account()["SendQuota"]["SentLast24Hours"] == 200
    code, text = refusal(smtp, OWN, ["success@simulator.amazonses.com"], message(f"From: {OWN}"))
    assert code == 454 and b"Daily message quota exceeded" in text


def test_a_paused_account_does_not_send(env, smtp):
    launcher.account(env["TUTORMAIL_SANDBOX_STATE"], sending_enabled=False)
    account = boto3.client("sesv2").get_account()
    assert account["SendingEnabled"] is False and account["EnforcementStatus"] == "HEALTHY"
    code, _ = refusal(smtp, OWN, [TEST_RECIPIENT], message(f"From: {OWN}"))
    assert code == 554


# What Tutor is given is what SES accepts: https://docs.aws.amazon.com/ses/latest/APIReference/API_Destination.html
def test_an_idn_institution_gets_an_ascii_from_and_send_test_sends_exactly_it(env, deployed):
    settings = run_cli("smtp-settings", "faculdade-acao", "--account", "comunicacao", "--format", "json", env=env)
    assert settings.returncode == 0, settings.stderr
    [row] = json.loads(settings.stdout)["accounts"]
    # the article's "Nome" <e-mail>: the name readable, the address in A-labels; Tutor encodes the name
    assert row["from"] == '"Faculdade Ação" <comunicacao@xn--faculdadeao-i8a5c.com.br>'
    env_format = run_cli("smtp-settings", "faculdade-acao", "--account", "comunicacao", "--format", "env", env=env)
    assert f"_FROM='{row['from']}'" in env_format.stdout

    sent = run_cli("send-test", "faculdade-acao", "--to", TEST_RECIPIENT, "--output", "json", env=env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    data = json.loads(sent.stdout)
    assert data["from"] == row["from"]
    raw = (deployed["state"] / "mailbox" / f"{data['message_id']}.eml").read_bytes()
    # what SES received: the name as an RFC 2047 word outside quotes, the address in A-labels
    head = re.sub(rb"\r\n(?=[ \t])", b"", raw.partition(b"\r\n\r\n")[0])  # unfolded (RFC 5322 2.2.3)
    assert b"From: Faculdade =?utf-8?b?QcOnw6Nv?= <comunicacao@xn--faculdadeao-i8a5c.com.br>\r\n" in head + b"\r\n"


def test_the_unicode_form_of_an_idn_from_is_refused(env):
    secret = json.loads(boto3.client("secretsmanager").get_secret_value(
        SecretId="tutormail/faculdade-acao/smtp")["SecretString"])
    password = smtp_password(secret["secret_access_key"], "us-east-1")
    with smtp_login(env, secret["access_key_id"], password) as session:
        unicode_from = '"Faculdade Ação" <comunicacao@faculdadeação.com.br>'.encode()
        code, _ = refusal(session, "comunicacao@xn--faculdadeao-i8a5c.com.br", [TEST_RECIPIENT],
                          b"From: " + unicode_from + b"\r\nSubject: t\r\n\r\nx\r\n")
        assert code == 554


# GetAccount: https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_GetAccount.html
def test_status_and_verify_show_the_account_state(env):
    state = env["TUTORMAIL_SANDBOX_STATE"]
    launcher.account(state, enforcement_status="PROBATION")
    status = run_cli("status", "escola-padrao", "--output", "json", env=env)
    account = json.loads(status.stdout)["account"]
    assert account["in_ses_sandbox"] is True and account["under_review"] is True and account["paused"] is False
    assert account["send_quota"]["max_24_hour_send"] == 200
    header = run_cli("status", "escola-padrao", env=env).stdout.splitlines()[0]
    assert header.startswith("SES account in us-east-1: SES sandbox") and "UNDER REVIEW" in header

    launcher.account(state, production_access=True, sending_enabled=False, enforcement_status="HEALTHY")
    verify = json.loads(run_cli("verify", "escola-padrao", "--output", "json", env=env).stdout)
    assert verify["account"]["production_access"] is True and verify["account"]["paused"] is True
    header = run_cli("verify", "escola-padrao", env=env).stdout.splitlines()[0]
    assert "production access" in header and "sending PAUSED" in header


# Over SMTP the X-SES-CONFIGURATION-SET header chooses the configuration set, and IAM authorises
# ses:SendRawEmail on it as on the identity (sandbox/smtp.py cites both pages).
def test_a_configuration_set_header_must_name_the_users_own_set(smtp):
    other_set = "tutormail-escola-padrao"  # another institution's, deployed beside ours
    code, text = refusal(smtp, OWN, [TEST_RECIPIENT], message(f"From: {OWN}\nX-SES-CONFIGURATION-SET: {other_set}"))
    assert code == 554 and b"not authorized" in text and f"configuration-set/{other_set}".encode() in text
    code, text = refusal(smtp, OWN, [TEST_RECIPIENT], message(
        f"From: {OWN}\nX-SES-CONFIGURATION-SET: tutormail-instituicao-xy\nX-SES-CONFIGURATION-SET: {other_set}"))
    assert code == 554 and f"configuration-set/{other_set}".encode() in text
    own = message(f"From: {OWN}\nX-SES-CONFIGURATION-SET: tutormail-instituicao-xy")
    assert smtp.sendmail(OWN, [TEST_RECIPIENT], own) == {}
