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


# --- identities, the account's state and the whole DATA step, in-process ----------------------------

class Identity:
    """An SES identity as the stand-in reads it (sandbox/moto_ext/ses_lifecycle.py's SandboxIdentity)."""

    def __init__(self, name, status="SUCCESS", configuration_set=None):
        self.email_identity, self.verification_status, self.refreshed = name, status, 0
        self.configuration_set_name = configuration_set
        self.identity_type = "EMAIL_ADDRESS" if "@" in name else "DOMAIN"
        self.tokens, self.dkim_attributes, self.mail_from_domain = ["tokenone", "t2", "t3"], {}, None

    def refresh(self):
        self.refreshed += 1


@pytest.fixture
def identities(monkeypatch):
    known = {}
    monkeypatch.setattr(smtp, "find_identity", known.get)
    # the signing step (sandbox/amazonses.py) reads the same identities, and publishes its keys in DNS
    monkeypatch.setattr("sandbox.moto_ext.ses_lifecycle.find_identity", known.get)
    monkeypatch.setattr("sandbox.moto_ext.cfn_models.mirror_to_dns", lambda zone, changes: None)
    return known


def test_an_address_is_its_own_identity_else_its_domain_or_a_parent_domain_in_any_case(identities):
    identities.update({"sul.edu.br": Identity("sul.edu.br"), "a@norte.edu.br": Identity("a@norte.edu.br", "PENDING")})
    assert smtp.identity_for("x@Sul.Edu.BR") is identities["sul.edu.br"]
    assert smtp.identity_for("x@campus.sul.edu.br") is identities["sul.edu.br"]
    assert smtp.identity_for("a@norte.edu.br") is identities["a@norte.edu.br"]
    assert smtp.identity_for("b@norte.edu.br") is None and smtp.identity_for("x@br") is None
    assert smtp.is_verified("x@sul.edu.br") and identities["sul.edu.br"].refreshed == 1  # its state read anew
    assert not smtp.is_verified("a@norte.edu.br") and not smtp.is_verified("b@norte.edu.br")


@pytest.fixture
def account(monkeypatch):
    from sandbox.moto_ext import ses_account

    state = ses_account.SesAccount()
    monkeypatch.setitem(ses_account.ACCOUNTS, (ACCOUNT, REGION), state)
    return state


SIMULATOR = "success@simulator.amazonses.com"


def test_the_account_refuses_when_paused_then_unverified_recipients_in_the_ses_sandbox_then_over_quota(
        world, identities, account):
    from sandbox.moto_ext import ses_account

    identities["ok@fora.com.br"] = Identity("ok@fora.com.br")
    config = world["config"]
    assert smtp.account_refusal(config, [SIMULATOR, "SUCCESS@SIMULATOR.AMAZONSES.COM", "ok@fora.com.br"]) is None
    assert smtp.account_refusal(config, ["ok@fora.com.br", "x@fora.com.br", "y@fora.com.br"]) == \
        smtp.NOT_VERIFIED.format(region="SA-EAST-1", address="x@fora.com.br, y@fora.com.br")
    account.update(production_access=True)
    assert smtp.account_refusal(config, ["x@fora.com.br"]) is None  # out of the SES sandbox: any recipient
    account.update(sending_enabled=False)
    assert smtp.account_refusal(config, [SIMULATOR]) == ses_account.SENDING_PAUSED
    account.update(sending_enabled=True, production_access=False, reset_quota=True)
    assert smtp.account_refusal(config, [SIMULATOR] * ses_account.SANDBOX_MAX_24H) is None
    assert smtp.account_refusal(config, [SIMULATOR]) == ses_account.QUOTA_EXCEEDED


def data(world, raw, auth_data=USER, mail_from="comunicacao@sul.edu.br", to=(SIMULATOR,), content=None):
    import asyncio
    from types import SimpleNamespace

    session = SimpleNamespace(auth_data=auth_data)
    envelope = SimpleNamespace(original_content=raw, content=content, mail_from=mail_from, rcpt_tos=list(to))
    return asyncio.run(smtp.SesSmtpHandler(world["config"]).handle_DATA(None, session, envelope))


def test_data_delivers_only_what_every_refusal_lets_through_and_keeps_the_bytes_received(world, identities, account):
    identities["sul.edu.br"] = Identity("sul.edu.br")
    raw = b"From: comunicacao@sul.edu.br\r\nTo: success@simulator.amazonses.com\r\nSubject: s\r\n\r\nb\r\n"
    assert data(world, raw, auth_data=None) == "530 Authentication required"
    assert data(world, raw, auth_data="tutormail-outro-smtp") == "530 Authentication required"
    assert data(world, "From: comunicacao@sul.edu.br\r\nSubject: Olá\r\n\r\nb".encode()) == smtp.NON_ASCII_HEADER
    assert data(world, raw.replace(b"comunicacao@", b"outro@"), mail_from="outro@sul.edu.br").startswith(
        "554 Message rejected: User")
    assert data(world, raw, to=("x@fora.com.br",)).startswith("554 Message rejected: Email address is not verified")
    assert not world["config"].mailbox.exists() or not list(world["config"].mailbox.iterdir())  # nothing delivered
    accepted = data(world, raw, content=b"not what was received")
    assert accepted.startswith("250 Ok 0100") and accepted.endswith("-000000")
    [delivered] = world["config"].mailbox.iterdir()
    assert delivered.name == accepted.split()[-1] + ".eml" and delivered.read_bytes().endswith(raw)
    # signed as SES signs a verified domain identity's mail: its own d= first, then amazonses.com's
    signatures = email.message_from_bytes(delivered.read_bytes()).get_all("DKIM-Signature")
    assert [s.split("d=")[1].split(";")[0] for s in signatures] == ["sul.edu.br", "amazonses.com"]
    identities["sul.edu.br"] = Identity("sul.edu.br", configuration_set="tutormail-sul")
    assert data(world, raw).startswith("554 Message rejected: User")  # the policy allows no configuration set


# --- AUTH: every refusal leaves the 535 reply to aiosmtpd --------------------------------------------

def refused_at_auth(result):
    """aiosmtpd replies 535 for a failed AuthResult only when handled is False; handled=True would mean
    the authenticator already sent a reply itself, and the client would wait for one that never comes."""
    return not result.success and not result.handled


def test_every_refusal_at_auth_leaves_aiosmtpd_to_answer_535(world):
    key = world["key"]
    handler = smtp.SesSmtpHandler(world["config"])
    assert refused_at_auth(handler.authenticate(None, None, None, "XOAUTH2", b"a token, not a login"))
    assert refused_at_auth(login(world, "not the password"))
    unknown = LoginPassword(b"FAKEKEYIDNOSUCHKEY00", smtp_password(key["SecretAccessKey"], REGION).encode())
    assert refused_at_auth(handler.authenticate(None, None, None, "LOGIN", unknown))
    world["iam"].update_access_key(UserName=USER, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert refused_at_auth(login(world))


def test_a_login_or_password_that_is_not_utf_8_is_refused_not_an_error(world):
    key = world["key"]
    handler = smtp.SesSmtpHandler(world["config"])
    password = smtp_password(key["SecretAccessKey"], REGION).encode()
    assert refused_at_auth(handler.authenticate(None, None, None, "LOGIN", LoginPassword(b"\xff\xfeFAKE", password)))
    assert refused_at_auth(handler.authenticate(None, None, None, "LOGIN",
                                                LoginPassword(key["AccessKeyId"].encode(), password + b"\xff")))


# --- configuration sets: each one the message uses is authorised, then must exist and send ----------

SET_ARN = f"arn:aws:ses:{REGION}:{ACCOUNT}:configuration-set/"


@pytest.fixture
def sets(world):
    """tutormail-sul sends, tutormail-pausado has sending off; the user's inline policy (beside the
    attached one for the identity) allows every tutormail-* set, for comunicacao@ only."""
    from sandbox.moto_ext.reputation import find_configuration_set

    world["iam"].put_user_policy(UserName=USER, PolicyName="sets", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "ses:SendRawEmail", "Resource": f"{SET_ARN}tutormail-*",
            "Condition": {"StringEqualsIgnoreCase": {"ses:FromAddress": "comunicacao@sul.edu.br"}}}]}))
    sesv2 = boto3.client("sesv2")
    for name in ("tutormail-sul", "tutormail-pausado"):
        sesv2.create_configuration_set(ConfigurationSetName=name)
    find_configuration_set("tutormail-pausado", ACCOUNT, REGION).enabled = False  # as PutConfigurationSetSendingOptions
    return world


def set_refusal(world, *names, sender="comunicacao@sul.edu.br"):
    headers = "".join(f"{smtp.CONFIGURATION_SET_HEADER}: {name}\r\n" for name in names)
    message = email.message_from_bytes(f"From: {sender}\r\n{headers}Subject: s\r\n\r\nb\r\n".encode())
    return smtp.configuration_set_refusal(world["config"], world["user"], message)


def test_the_header_names_the_sets_else_the_from_identitys_default_else_none(identities):
    identities.update({"sul.edu.br": Identity("sul.edu.br", configuration_set="tutormail-sul"),
                       "norte.edu.br": Identity("norte.edu.br")})

    def named(raw):
        return smtp.configuration_sets_named(email.message_from_bytes(raw))

    assert named(b"From: a@sul.edu.br\r\nX-SES-Configuration-Set:  tutormail-outro \r\n"
                 b"X-SES-CONFIGURATION-SET: tutormail-mais\r\n\r\nb") == ["tutormail-outro", "tutormail-mais"]
    assert named(b"From: A <a@sul.edu.br>\r\n\r\nb") == ["tutormail-sul"]
    assert named(b"From: a@norte.edu.br\r\n\r\nb") == []  # an identity without a default set
    assert named(b"From: a@fora.com.br\r\n\r\nb") == []  # no identity at all


def test_a_set_that_sends_and_that_the_policy_allows_for_the_from_address_passes(sets):
    assert set_refusal(sets) is None  # no set: nothing to authorise
    assert set_refusal(sets, "tutormail-sul") is None
    # the same set for another From address: the condition (from the inline policy) refuses it
    assert set_refusal(sets, "tutormail-sul", sender="outro@sul.edu.br") == smtp.NOT_AUTHORIZED.format(
        arn=sets["user"].arn, resource=f"{SET_ARN}tutormail-sul")


def test_a_set_outside_the_policy_is_refused_on_its_own_arn_before_existence_or_pause(sets):
    assert set_refusal(sets, "outro-conjunto") == smtp.NOT_AUTHORIZED.format(
        arn=sets["user"].arn, resource=f"{SET_ARN}outro-conjunto")
    # every header is authorised: an allowed first set does not let a second one through
    assert set_refusal(sets, "tutormail-sul", "outro-conjunto") == smtp.NOT_AUTHORIZED.format(
        arn=sets["user"].arn, resource=f"{SET_ARN}outro-conjunto")


def test_an_allowed_set_that_does_not_exist_or_is_paused_is_refused_by_name(sets):
    assert set_refusal(sets, "tutormail-ausente") == smtp.NO_CONFIGURATION_SET.format(name="tutormail-ausente")
    assert set_refusal(sets, "tutormail-pausado") == smtp.CONFIGURATION_SET_PAUSED.format(name="tutormail-pausado")
    assert set_refusal(sets, "tutormail-sul", "tutormail-pausado") == smtp.CONFIGURATION_SET_PAUSED.format(
        name="tutormail-pausado")


# --- the addresses authorised, more cases -------------------------------------------------------------

def test_the_envelope_mail_from_is_authorised_though_the_from_header_is_allowed(world, monkeypatch):
    monkeypatch.setattr(smtp, "is_verified", lambda address: True)
    message = email.message_from_bytes(b"From: comunicacao@sul.edu.br\r\nSubject: s\r\n\r\nb\r\n")
    assert smtp.sender_refusal(world["config"], world["user"], message, "outro@sul.edu.br") == \
        smtp.NOT_AUTHORIZED.format(arn=world["user"].arn, resource=f"{IDENTITY_ARN}sul.edu.br")


def test_an_address_of_no_identity_is_refused_on_the_arn_of_the_address_itself(world):
    assert refusal(world, "alguem@fora.com.br") == smtp.NOT_AUTHORIZED.format(
        arn=world["user"].arn, resource=f"{IDENTITY_ARN}alguem@fora.com.br")


def test_a_from_that_does_not_parse_is_refused_though_the_envelope_has_an_address(world):
    broken = email.message_from_bytes(b"From: <>\r\nSubject: s\r\n\r\nb")
    assert smtp.sender_refusal(world["config"], world["user"], broken, "comunicacao@sul.edu.br") == smtp.NO_FROM


def test_every_unverified_address_is_named_in_the_one_refusal(world, monkeypatch):
    monkeypatch.setattr(smtp, "is_verified", lambda address: False)
    message = email.message_from_bytes(b"From: comunicacao@sul.edu.br\r\nSubject: s\r\n\r\nb\r\n")
    # the envelope's spelling differs in case: both are allowed (StringEqualsIgnoreCase), both are named
    assert smtp.sender_refusal(world["config"], world["user"], message, "Comunicacao@Sul.edu.br") == \
        smtp.NOT_VERIFIED.format(region="SA-EAST-1", address="comunicacao@sul.edu.br, Comunicacao@Sul.edu.br")


def test_the_header_section_ends_at_the_first_blank_line_and_8_bit_starts_at_0x80():
    assert smtp.non_ascii_refusal("From: a@sul.edu.br\r\n\r\nOlá\r\n\r\nAté logo".encode()) is None
    assert smtp.non_ascii_refusal("From: a@sul.edu.br\r\nSubject: €5\r\n\r\nb".encode("cp1252")) == \
        smtp.NON_ASCII_HEADER  # cp1252's euro sign is the byte 0x80
    assert smtp.non_ascii_refusal(b"From: a@sul.edu.br\r\nSubject: \x7f\r\n\r\nb") is None  # DEL is 7-bit ASCII


# --- an accepted message: its id, the mailbox, the hand-over to SES receiving -----------------------

def test_an_accepted_message_gets_an_ses_message_id_and_goes_to_receiving_from_that_ids_mail_from(
        world, identities, account, monkeypatch, tmp_path):
    import re

    from sandbox import receiving

    identities["sul.edu.br"] = Identity("sul.edu.br")
    handed = []

    def deliver(config, mail_from, recipients, raw):
        handed.append((mail_from, recipients, raw))
        return [f"{to}: 250" for to in recipients] + ["x@sul.edu.br: 550 5.1.1 mailbox unavailable"]

    monkeypatch.setattr(receiving, "deliver", deliver)
    # a state directory not created yet: the mailbox and its parents are made on the first message
    world["config"] = SandboxConfig(state_dir=str(tmp_path / "state" / "sandbox"), account=ACCOUNT, region=REGION)
    raw = b"From: comunicacao@sul.edu.br\r\nTo: success@simulator.amazonses.com\r\nSubject: s\r\n\r\nb\r\n"
    first, second = data(world, raw, to=(SIMULATOR, "b@sul.edu.br")), data(world, raw)
    ids = [reply.removeprefix("250 Ok ") for reply in (first, second)]
    assert all(re.fullmatch(r"0100[0-9a-f]{32}-[0-9a-f]{8}-000000", i) for i in ids) and ids[0] != ids[1]
    mailbox = world["config"].mailbox
    assert sorted(p.name for p in mailbox.iterdir()) == sorted(
        [f"{i}.eml" for i in ids] + [f"{i}.delivery.txt" for i in ids])
    (mail_from, recipients, sent), _ = handed
    assert mail_from == f"{ids[0]}@sa-east-1.amazonses.com" and recipients == [SIMULATOR, "b@sul.edu.br"]
    assert sent == (mailbox / f"{ids[0]}.eml").read_bytes() and sent.endswith(raw)  # signed, as stored
    assert (mailbox / f"{ids[0]}.delivery.txt").read_text() == (
        f"{SIMULATOR}: 250\nb@sul.edu.br: 250\nx@sul.edu.br: 550 5.1.1 mailbox unavailable\n")


def test_data_authorises_the_envelope_mail_from_too(world, identities, account):
    identities["sul.edu.br"] = Identity("sul.edu.br")
    raw = b"From: comunicacao@sul.edu.br\r\nTo: success@simulator.amazonses.com\r\nSubject: s\r\n\r\nb\r\n"
    assert data(world, raw, mail_from="outro@sul.edu.br") == smtp.NOT_AUTHORIZED.format(
        arn=world["user"].arn, resource=f"{IDENTITY_ARN}sul.edu.br")


# --- the endpoint as a client meets it: STARTTLS first, then AUTH, no SMTPUTF8 ------------------------

def test_the_endpoint_takes_auth_only_after_starttls_and_mail_only_after_auth(world, tmp_path):
    import smtplib
    import socket
    import ssl

    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    cert_file, key_file = tmp_path / "smtp.pem", tmp_path / "smtp.key"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = smtp.start_smtp(world["config"], port, cert_file, key_file)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            code = client.ehlo("client.example")[0]
            offered = client.esmtp_features
            assert code == 250 and "starttls" in offered and "auth" not in offered and "smtputf8" not in offered
            # STARTTLS before anything else (RFC 3207), AUTH included: without it AUTH would get aiosmtpd's
            # 538 "encryption required" and MAIL its 530 "authentication required"
            assert client.docmd("AUTH", "PLAIN AGEAYg==") == (530, b"Must issue a STARTTLS command first")
            assert client.mail("comunicacao@sul.edu.br") == (530, b"Must issue a STARTTLS command first")
            context = ssl.create_default_context()
            ca.configure_trust(context)
            client.starttls(context=context)
            client.ehlo("client.example")
            assert "LOGIN" in client.esmtp_features["auth"] and "smtputf8" not in client.esmtp_features
            assert client.mail("comunicacao@sul.edu.br")[0] == 530  # AUTH first
            client.rset()
            with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
                client.login(world["key"]["AccessKeyId"], "not the password")
            assert refused.value.smtp_code == 535
            client.login(world["key"]["AccessKeyId"], smtp_password(world["key"]["SecretAccessKey"], REGION))
            assert client.mail("comunicacao@sul.edu.br")[0] == 250
            assert client.rcpt(SIMULATOR)[0] == 250
            # DATA reaches this endpoint's handler: the message has no From, which SES refuses
            assert client.data(b"Subject: s\r\n\r\nb\r\n") == (554, smtp.NO_FROM.removeprefix("554 ").encode())
    finally:
        controller.stop()
