"""Phase 3's message through a fake SMTP client: what is sent and checked, when it is retried and
how SES's answers are explained. The real STARTTLS session with the sandbox's SMTP stand-in is
tested end to end (tests/e2e/test_onboarding.py)."""

from __future__ import annotations

import email
import email.policy
import smtplib
import ssl
import time

import pytest
from tutormail.aws.check_mailbox import TOKEN_HEADER
from tutormail.exitcodes import Exit
from tutormail.tutor_setup.send_test import SendResult, build_message, explain, send_test
from tutormail.tutor_setup.smtp_password import smtp_password

from tests.unit.fakes import SECRET

TO = "destino@example.com.br"


class FakeSmtp:
    """smtplib.SMTP as send_test uses it; `answers` maps a step to its reply or exception, per attempt."""

    def __init__(self, **answers):
        self.answers = answers
        self.sessions: list[list[tuple]] = []

    def __call__(self, host, port, timeout):
        self.sessions.append([("connect", host, port, timeout)])
        failure = self._answer("connect", None)
        if failure:
            raise failure
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sessions[-1].append(("quit",))

    def _answer(self, step, default):
        answer = self.answers.get(step, default)
        if isinstance(answer, list):  # one answer per attempt
            answer = answer[min(len(self.sessions), len(answer)) - 1]
        return answer

    def _step(self, step, *args, default=None):
        self.sessions[-1].append((step, *args))
        answer = self._answer(step, default)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def ehlo(self):
        return self._step("ehlo", default=(250, b"ok"))

    def starttls(self, context):
        return self._step("starttls", context, default=(220, b"ready"))

    def login(self, user, password):
        return self._step("login", user, password, default=(235, b"ok"))

    def mail(self, address):
        return self._step("mail", address, default=(250, b"ok"))

    def rcpt(self, to):
        return self._step("rcpt", to, default=(250, b"ok"))

    def data(self, message):
        return self._step("data", message, default=(250, b"Ok 0100018cabcdef-00000000"))


def without_stamps(raw: bytes) -> bytes:
    """A message without its Date and Message-ID, which differ at each build."""
    return b"\r\n".join(line for line in raw.split(b"\r\n") if not line.startswith((b"Date:", b"Message-ID:")))


@pytest.fixture
def smtp(monkeypatch):
    """Installs a FakeSmtp and records the sleeps between attempts."""
    slept = []
    monkeypatch.setattr("tutormail.tutor_setup.send_test.time.sleep", slept.append)

    def install(**answers):
        fake = FakeSmtp(**answers)
        monkeypatch.setattr("tutormail.tutor_setup.send_test.smtplib.SMTP", fake)
        return fake, slept

    return install


def sender_of(plans):
    plan = plans["escola"]
    return plan, next(s for s in plan.senders if s.company == "Colégio Teste" and s.account == "comunicacao")


def test_a_message_ses_accepts_goes_through_starttls_with_the_derived_password(plans, smtp):
    plan, sender = sender_of(plans)
    fake, slept = smtp()
    result = send_test(plan, sender, SECRET, TO, "email-smtp.test", 2587)
    assert result == SendResult(True, 250, "Ok 0100018cabcdef-00000000", "SES accepted the message.",
                                "0100018cabcdef-00000000")
    assert result.exit_code == Exit.OK and slept == []
    [session] = fake.sessions
    assert [step[0] for step in session] == ["connect", "ehlo", "starttls", "ehlo", "login", "mail", "rcpt", "data",
                                            "quit"]
    assert session[0] == ("connect", "email-smtp.test", 2587, 15.0)
    context = session[2][1]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname  # certificate and host name checked
    assert session[4] == ("login", SECRET.access_key_id, smtp_password(SECRET.secret_access_key, plan.platform.region))
    assert session[5] == ("mail", sender.address) and session[6] == ("rcpt", TO)
    assert without_stamps(session[7][1]) == without_stamps(build_message(sender, TO, plan.institution.name))


def test_the_ca_bundle_and_the_defaults(plans, smtp, monkeypatch):
    plan, sender = sender_of(plans)
    made, create = [], ssl.create_default_context

    def context(cafile=None):
        made.append(cafile)
        return create()

    monkeypatch.setattr("tutormail.tutor_setup.send_test.ssl.create_default_context", context)
    fake, _ = smtp()
    send_test(plan, sender, SECRET, TO, "email-smtp.test", ca_bundle="/etc/ca.pem")
    assert made == ["/etc/ca.pem"] and fake.sessions[0][0] == ("connect", "email-smtp.test", 587, 15.0)


def test_refused_credentials_are_retried_with_a_doubling_back_off(plans, smtp):
    plan, sender = sender_of(plans)
    fake, slept = smtp(login=smtplib.SMTPAuthenticationError(535, b"Authentication Credentials Invalid"))
    result = send_test(plan, sender, SECRET, TO, "email-smtp.test", attempts=3, backoff=2.0)
    assert len(fake.sessions) == 3 and slept == [2.0, 4.0]
    assert (result.ok, result.code, result.reply) == (False, 535, "Authentication Credentials Invalid")
    assert result.exit_code == Exit.SERVICE_ERROR and result.explanation == explain(535, "", plan)


def test_a_permanent_refusal_is_not_retried(plans, smtp):
    plan, sender = sender_of(plans)
    reply = b"Message rejected: Email address is not verified. The following identities failed the check: x@y.br"
    fake, slept = smtp(data=(554, reply))
    result = send_test(plan, sender, SECRET, TO, "email-smtp.test", attempts=3)
    assert len(fake.sessions) == 1 and slept == []
    assert (result.ok, result.code, result.reply) == (False, 554, reply.decode())
    assert result.exit_code == Exit.ACTION_NEEDED and result.explanation == explain(554, reply.decode(), plan, TO)


def test_a_temporary_refusal_is_retried_then_reported(plans, smtp):
    plan, sender = sender_of(plans)
    fake, slept = smtp(rcpt=[(451, b"try later"), (451, b"try later"), (250, b"ok")])
    result = send_test(plan, sender, SECRET, TO, "email-smtp.test", attempts=3, backoff=1.0)
    assert result.ok and len(fake.sessions) == 3 and slept == [1.0, 2.0]
    fake, slept = smtp(mail=(451, b"try later"))
    result = send_test(plan, sender, SECRET, TO, "email-smtp.test", attempts=2, backoff=1.0)
    assert (result.code, result.reply, result.exit_code) == (451, "try later", Exit.SERVICE_ERROR)
    assert result.explanation == "SES refused the message for now (451) and still did after retries: try later"


def test_a_refusal_raised_by_smtplib_is_explained_too(plans, smtp):
    plan, sender = sender_of(plans)
    fake, _ = smtp(starttls=smtplib.SMTPResponseException(554, b"TLS not available"))
    result = send_test(plan, sender, SECRET, TO, "email-smtp.test", attempts=2)
    assert (result.code, result.reply, len(fake.sessions)) == (554, "TLS not available", 1)


@pytest.mark.parametrize("failure", [OSError("connection refused"), TimeoutError("timed out"),
                                     smtplib.SMTPServerDisconnected("gone")])
def test_no_answer_is_retried_and_is_a_service_error(plans, smtp, failure):
    plan, sender = sender_of(plans)
    fake, slept = smtp(connect=failure)
    result = send_test(plan, sender, SECRET, TO, "email-smtp.test", attempts=2, backoff=3.0)
    assert len(fake.sessions) == 2 and slept == [3.0]
    assert (result.ok, result.code, result.reply) == (False, None, str(failure))
    assert result.exit_code == Exit.SERVICE_ERROR and result.explanation == explain(None, "", plan)


def test_by_default_three_attempts_two_seconds_apart_then_doubled(plans, smtp):
    plan, sender = sender_of(plans)
    fake, slept = smtp(connect=OSError("connection refused"))
    send_test(plan, sender, SECRET, TO, "email-smtp.test")
    assert len(fake.sessions) == 3 and slept == [2.0, 4.0]


def test_a_forwarded_recipient_and_the_message_id_as_the_last_word(plans, smtp):
    plan, sender = sender_of(plans)
    smtp(rcpt=(251, b"User not local; will forward"), data=(250, b"2.0.0 Ok 0100018cabcdef"))
    result = send_test(plan, sender, SECRET, TO, "email-smtp.test")
    assert result.ok and result.message_id == "0100018cabcdef"
    smtp(data=(250, b""))
    assert send_test(plan, sender, SECRET, TO, "email-smtp.test").message_id is None  # a bare 250: no id to show


def test_a_reply_that_is_not_utf8_is_still_shown(plans, smtp):
    plan, sender = sender_of(plans)
    smtp(data=(554, b"rejected \xff here"))
    assert send_test(plan, sender, SECRET, TO, "email-smtp.test").reply == "rejected \ufffd here"
    smtp(data=(250, b"Ok \xff"))
    assert send_test(plan, sender, SECRET, TO, "email-smtp.test").reply == "Ok \ufffd"
    smtp(login=smtplib.SMTPAuthenticationError(535, b"bad \xff"))
    assert send_test(plan, sender, SECRET, TO, "email-smtp.test", attempts=1).reply == "bad \ufffd"
    smtp(starttls=smtplib.SMTPResponseException(554, b"no \xff"))
    assert send_test(plan, sender, SECRET, TO, "email-smtp.test", attempts=1).reply == "no \ufffd"


def test_a_recipient_refused_in_the_ses_sandbox_is_explained_as_such(plans, smtp):
    plan, sender = sender_of(plans)
    reply = b"Message rejected: Email address is not verified. The following identities failed the check in " \
            b"region US-EAST-1: " + TO.encode()
    smtp(data=(554, reply))
    result = send_test(plan, sender, SECRET, TO, "email-smtp.test")
    assert f"the recipient {TO}" in result.explanation


def test_500_is_already_permanent(plans, smtp):
    plan, sender = sender_of(plans)
    fake, slept = smtp(mail=(500, b"syntax error"))
    result = send_test(plan, sender, SECRET, TO, "email-smtp.test")
    assert len(fake.sessions) == 1 and slept == [] and result.exit_code == Exit.ACTION_NEEDED


def test_no_attempt_at_all_is_no_answer(plans, smtp):
    plan, sender = sender_of(plans)
    fake, _ = smtp()
    result = send_test(plan, sender, SECRET, TO, "email-smtp.test", attempts=0)
    assert fake.sessions == [] and (result.ok, result.code, result.reply) == (False, None, "")
    assert result.explanation == explain(None, "", plan)


@pytest.mark.parametrize(("ok", "code", "exit_code"), [
    (True, 250, Exit.OK), (False, 554, Exit.ACTION_NEEDED), (False, 500, Exit.ACTION_NEEDED),
    (False, 599, Exit.ACTION_NEEDED), (False, 535, Exit.SERVICE_ERROR), (False, 451, Exit.SERVICE_ERROR),
    (False, 499, Exit.SERVICE_ERROR), (False, 600, Exit.SERVICE_ERROR), (False, None, Exit.SERVICE_ERROR),
])
def test_the_exit_code_of_a_result(ok, code, exit_code):
    assert SendResult(ok, code, "", "").exit_code == exit_code


def test_explanations_name_what_to_do(plans):
    plan = plans["escola"]
    assert "(it must be for us-east-1)" in explain(535, "", plan)
    assert "tutormail smtp-settings escola --reveal" in explain(535, "", plan)
    sandbox = "Message rejected: Email address is not verified. The following identities failed the check in " \
              "region US-EAST-1: Destino@Example.com.br, outro@example.com.br"
    recipient = explain(554, sandbox, plan, TO)
    assert "the recipient destino@example.com.br" in recipient and "SES sandbox in us-east-1" in recipient
    sender = explain(554, sandbox, plan, "terceiro@example.com.br")  # not among the failed identities: the sender
    assert "tutormail verify escola" in sender and sender == explain(554, sandbox, plan)
    assert "cdk deploy TutorMail-escola" in explain(554, "Sending is not authorized", plan)
    assert explain(None, "", plan) != explain(554, "Sending is not authorized", plan)
    assert explain(450, "mailbox busy", plan).endswith("(450) and still did after retries: mailbox busy")
    assert explain(550, "no such user", plan).endswith("(550): no such user")
    assert explain(554, "Sending paused", plan).endswith("(554): Sending paused")
    assert explain(500, "syntax", plan).endswith("(500): syntax")
    assert explain(400, "busy", plan).endswith("(400) and still did after retries: busy")
    assert explain(250, "", plan) == "The SMTP server answered 250."


def test_the_message_has_tutors_exact_from_and_the_senders_domain(plans):
    _, sender = sender_of(plans)
    raw = build_message(sender, TO, "Escola Teste")
    head = raw.partition(b"\r\n\r\n")[0]
    lines = head.split(b"\r\n")
    [from_line] = [line for line in lines if line.startswith(b"From:")]
    parsed = email.message_from_bytes(raw, policy=email.policy.default)["From"].addresses[0]
    assert (parsed.display_name, parsed.addr_spec) == (sender.display_name, sender.address) and from_line.isascii()
    assert f"To: {TO}".encode() in lines and b"Subject: Teste de envio (fase 3) - Escola Teste" in lines
    [message_id] = [line for line in lines if line.startswith(b"Message-ID:")]
    assert message_id.endswith(b"@colegioteste.com.br>")
    assert any(line.startswith(b"Date: ") for line in lines)
    text = email.message_from_bytes(raw, policy=email.policy.default).get_content()
    assert '"comunicacao" da empresa Colégio Teste' in text and sender.mailbox in text


def test_the_date_is_in_utc_whatever_the_machines_zone(plans, monkeypatch):
    _, sender = sender_of(plans)
    monkeypatch.setenv("TZ", "America/Sao_Paulo")
    time.tzset()
    try:
        raw = build_message(sender, TO, "Escola Teste")
    finally:
        monkeypatch.undo()
        time.tzset()
    [date] = [line for line in raw.split(b"\r\n") if line.startswith(b"Date: ")]
    assert date.endswith(b" -0000")


def test_send_test_check_stamps_its_token_so_the_stored_copy_is_found(plans, smtp):
    """send-test --check finds the copy the platform received by this header (aws/check_mailbox.py);
    without --check no such header is sent."""
    plan, sender = sender_of(plans)
    fake, _ = smtp()
    send_test(plan, sender, SECRET, TO, "email-smtp.test", 2587, check_token="fake-check-token-0001")
    send_test(plan, sender, SECRET, TO, "email-smtp.test", 2587)
    sent = [email.message_from_bytes(dict((s[0], s) for s in session)["data"][1], policy=email.policy.default)
            for session in fake.sessions]
    assert sent[0].get_all(TOKEN_HEADER) == ["fake-check-token-0001"]
    assert sent[1].get_all(TOKEN_HEADER) is None
