"""The SMTP stand-in's refusals one at a time, in-process on moto's backends (so mutation testing
reaches sandbox/smtp.py; tests/e2e/test_iam.py drives the same refusals over SMTP): each case
changes one thing from a message or login that passes."""

from __future__ import annotations

import email
import json

import boto3
import pytest
from aiosmtpd.smtp import LoginPassword
from moto import mock_aws
from tutormail.tutor_setup.smtp_password import smtp_password

from sandbox import smtp
from sandbox.config import SandboxConfig

ACCOUNT, REGION = "123456789012", "sa-east-1"  # moto's default account; a region other than us-east-1
USER = "tutormail-sul-smtp"
IDENTITY_ARN = f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/"
POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "ses:SendRawEmail", "Resource": [f"{IDENTITY_ARN}sul.edu.br"],
    "Condition": {"StringEqualsIgnoreCase": {"ses:FromAddress": ["comunicacao@sul.edu.br"]}}}]}


@pytest.fixture
def world(tmp_path, monkeypatch):
    config = SandboxConfig(state_dir=str(tmp_path), account=ACCOUNT, region=REGION)
    monkeypatch.setenv("TUTORMAIL_SANDBOX_CONFIG", config.to_env()["TUTORMAIL_SANDBOX_CONFIG"])
    for name, value in (("AWS_ACCESS_KEY_ID", "sandbox-fake-admin"), ("AWS_SECRET_ACCESS_KEY", "sandbox-fake"),
                        ("AWS_DEFAULT_REGION", REGION)):
        monkeypatch.setenv(name, value)
    with mock_aws():
        iam = boto3.client("iam")
        iam.create_user(UserName=USER)
        arn = iam.create_policy(PolicyName="send", PolicyDocument=json.dumps(POLICY))["Policy"]["Arn"]
        iam.attach_user_policy(UserName=USER, PolicyArn=arn)
        key = iam.create_access_key(UserName=USER)["AccessKey"]
        boto3.client("sesv2").create_email_identity(EmailIdentity="sul.edu.br")
        yield {"config": config, "iam": iam, "key": key, "user": smtp._find_key(key["AccessKeyId"])[0]}


def login(world, password=None):
    key = world["key"]
    given = LoginPassword(key["AccessKeyId"].encode(),
                          (password or smtp_password(key["SecretAccessKey"], REGION)).encode())
    return smtp.SesSmtpHandler(world["config"]).authenticate(None, None, None, "LOGIN", given)


def test_an_inactive_key_is_refused_at_auth_though_its_password_is_right(world):
    assert login(world).success and login(world).auth_data == USER
    world["iam"].update_access_key(UserName=USER, AccessKeyId=world["key"]["AccessKeyId"], Status="Inactive")
    assert not login(world).success


def test_auth_takes_only_the_password_of_the_endpoints_region(world):
    assert not login(world, smtp_password(world["key"]["SecretAccessKey"], "us-east-1")).success
    assert not login(world, world["key"]["SecretAccessKey"]).success  # the secret key is not the password


def refusal(world, sender):
    message = email.message_from_bytes(f"From: {sender}\r\nSubject: s\r\n\r\nb\r\n".encode())
    return smtp.sender_refusal(world["config"], world["user"], message, sender)


def test_only_the_from_address_condition_refuses_another_address_of_an_allowed_identity(world, monkeypatch):
    monkeypatch.setattr(smtp, "is_verified", lambda address: True)  # verification is another refusal
    assert refusal(world, "comunicacao@sul.edu.br") is None
    assert refusal(world, "Comunicacao@Sul.edu.br") is None  # StringEqualsIgnoreCase
    refused = refusal(world, "outro@sul.edu.br")  # same identity, so the same resource: the condition decides
    assert refused == smtp.NOT_AUTHORIZED.format(arn=world["user"].arn, resource=f"{IDENTITY_ARN}sul.edu.br")
    assert smtp.may_send(world["config"], world["user"], "comunicacao@sul.edu.br", f"{IDENTITY_ARN}sul.edu.br")
    assert not smtp.may_send(world["config"], world["user"], "outro@sul.edu.br", f"{IDENTITY_ARN}sul.edu.br")


def test_an_allowed_address_not_verified_is_refused_after_authorisation(world, monkeypatch):
    monkeypatch.setattr(smtp, "is_verified", lambda address: address != "comunicacao@sul.edu.br")
    assert refusal(world, "comunicacao@sul.edu.br") == smtp.NOT_VERIFIED.format(
        region="SA-EAST-1", address="comunicacao@sul.edu.br")
    assert refusal(world, "outro@sul.edu.br").startswith("554 Message rejected: User")  # authorisation first


def test_a_sender_header_outside_the_policy_is_refused_though_from_is_allowed(world, monkeypatch):
    monkeypatch.setattr(smtp, "is_verified", lambda address: True)
    message = email.message_from_bytes(b"From: comunicacao@sul.edu.br\r\nSender: outro@sul.edu.br\r\n\r\nb\r\n")
    assert smtp.sender_refusal(world["config"], world["user"], message, "comunicacao@sul.edu.br") == \
        smtp.NOT_AUTHORIZED.format(arn=world["user"].arn, resource=f"{IDENTITY_ARN}sul.edu.br")


def test_raw_8_bit_bytes_in_the_header_are_refused_in_the_body_they_are_not():
    assert smtp.non_ascii_refusal("From: Fulano <a@sul.edu.br>\r\nSubject: Olá\r\n\r\nb".encode()) == \
        smtp.NON_ASCII_HEADER
    assert smtp.non_ascii_refusal("From: a@sul.edu.br\nSubject: =?utf-8?q?Ol=C3=A1?=\n\nOlá".encode()) is None
    assert smtp.non_ascii_refusal("From: a@sul.edu.br\r\n\r\nOlá\r\nX-Not-A-Header: é".encode()) is None


def test_every_address_ses_authorises_is_collected_once_and_a_missing_from_is_refused(world):
    message = email.message_from_bytes(b"From: A <a@sul.edu.br>, b@sul.edu.br\r\nSender: s@sul.edu.br\r\n"
                                       b"Return-Path: <r@sul.edu.br>\r\n\r\nb")
    assert smtp.addresses_to_authorise(message, "a@sul.edu.br") == [
        "a@sul.edu.br", "b@sul.edu.br", "s@sul.edu.br", "r@sul.edu.br"]
    assert smtp.addresses_to_authorise(message, None) == ["a@sul.edu.br", "b@sul.edu.br", "s@sul.edu.br",
                                                          "r@sul.edu.br"]
    no_from = email.message_from_bytes(b"Subject: s\r\n\r\nb")
    assert smtp.sender_refusal(world["config"], world["user"], no_from, "comunicacao@sul.edu.br") == smtp.NO_FROM
    broken = email.message_from_bytes(b"From: <>\r\n\r\nb")
    assert smtp.sender_refusal(world["config"], world["user"], broken, None) == smtp.NO_FROM
