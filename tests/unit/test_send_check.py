"""send-test --check around the reading (issue 25): finding the stored copy, the bounded wait, the exit
rule of the whole command, and activating the receipt rule set without taking another's place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws
from tutormail import names
from tutormail.aws.check_mailbox import TOKEN_HEADER, CheckMailbox, wait_for
from tutormail.aws.receipt_rules import activate
from tutormail.exitcodes import Exit
from tutormail.tutor_setup.phases import TestOutcome as SendOutcome
from tutormail.tutor_setup.receiver_view import receiver_view
from tutormail.tutor_setup.send_check import CheckOutcome
from tutormail.tutor_setup.send_test import SendResult

ACCOUNT, REGION = "123456789012", "us-east-1"
ALIGNED = (b"Authentication-Results: amazonses.com; spf=pass smtp.mailfrom=b@bounce.escolax.com.br; "
           b"dkim=pass header.d=escolax.com.br; dmarc=pass header.from=escolax.com.br\r\n")


def stored(token: str, results: bytes = ALIGNED) -> bytes:
    return results + f"{TOKEN_HEADER}: {token}\r\nFrom: X <c@escolax.com.br>\r\nSubject: t\r\n\r\nbody\r\n".encode()


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=names.inbound_bucket(ACCOUNT, REGION))
        yield client


def test_the_copy_with_the_token_is_found_among_others(s3):
    bucket = names.inbound_bucket(ACCOUNT, REGION)
    for key, token in (("check/aaa", "someone-else"), ("check/bbb", "mine"), ("replies/x/ccc", "mine")):
        s3.put_object(Bucket=bucket, Key=key, Body=stored(token))
    mailbox = CheckMailbox(ACCOUNT, REGION, s3)
    since = datetime.now(UTC)
    assert mailbox.find("mine", since) == stored("mine")
    assert mailbox.find("nobody", since) is None
    # Objects much older than the send are not read.
    assert CheckMailbox(ACCOUNT, REGION, s3).find("mine", since + timedelta(hours=1)) is None


def test_wait_is_bounded_with_back_off():
    now, waits = [0.0], []

    def sleep(seconds):
        waits.append(seconds)
        now[0] += seconds

    assert wait_for(lambda: None, 60, sleep=sleep, clock=lambda: now[0]) is None
    assert waits[:4] == [2, 4, 8, 16] and max(waits) <= 20 and sum(waits) == pytest.approx(60)
    answers = iter([None, None, b"found"])
    assert wait_for(lambda: next(answers), 60, sleep=sleep, clock=lambda: now[0]) == b"found"


def _outcome(result: SendResult | None, arrived=False, raw: bytes | None = None) -> CheckOutcome:
    gate = type("Gate", (), {"code": Exit.ACTION_NEEDED, "problems": []})()
    test = SendOutcome(None, gate, "127.0.0.1:587", result)
    return CheckOutcome(test, arrived, receiver_view(raw) if raw is not None else None)


ACCEPTED = SendResult(True, 250, "Ok id", "SES accepted the message.")
CENARIO2 = (b"Authentication-Results: amazonses.com; spf=pass (x) client-ip=192.0.2.1; envelope-from=a@amazonses.com; "
            b"dkim=pass header.i=@amazonses.com; dmarc=fail header.from=escolax.com.br;\r\n")


@pytest.mark.parametrize(("outcome", "code"), [
    (_outcome(None), Exit.ACTION_NEEDED),  # the gate held it: its own code
    (_outcome(SendResult(False, 554, "Message rejected", "SES refused")), Exit.ACTION_NEEDED),
    (_outcome(SendResult(False, None, "", "no answer")), Exit.SERVICE_ERROR),
    (_outcome(ACCEPTED, arrived=False), Exit.PENDING),
    (_outcome(ACCEPTED, arrived=True, raw=b"From: a@b.example\r\n\r\nno verdicts\r\n"), Exit.SERVICE_ERROR),
    (_outcome(ACCEPTED, arrived=True, raw=stored("t")), Exit.OK),
    (_outcome(ACCEPTED, arrived=True, raw=stored("t", CENARIO2)), Exit.ACTION_NEEDED),
], ids=["gate", "smtp-refused", "smtp-unreachable", "not-arrived", "no-verdicts", "aligned", "cenario2"])
def test_the_commands_exit_rule(outcome, code):
    assert outcome.exit_code == code
    explanation = outcome.explanation("escola-x", 120)
    assert (explanation is None) == (code == Exit.OK or outcome.test.result is None or not outcome.test.result.ok)


def test_not_arrived_says_how_long_it_waited_and_what_to_check():
    text = _outcome(ACCEPTED).explanation("escola-x", 120)
    assert "within 120 s" in text and "MX" in text and "receiving-activate" in text


@pytest.fixture
def ses():
    with mock_aws():
        yield boto3.client("ses", region_name=REGION)


def test_activation_takes_no_other_sets_place(ses):
    assert activate(REGION, apply=True, ses=ses).exit_code == Exit.ACTION_NEEDED  # not deployed yet
    ses.create_receipt_rule_set(RuleSetName=names.RECEIPT_RULE_SET)
    ses.create_receipt_rule_set(RuleSetName="outra-aplicacao")
    ses.set_active_receipt_rule_set(RuleSetName="outra-aplicacao")
    refused = activate(REGION, apply=True, ses=ses)
    assert refused.exit_code == Exit.ACTION_NEEDED and "'outra-aplicacao'" in refused.conflict
    assert ses.describe_active_receipt_rule_set()["Metadata"]["Name"] == "outra-aplicacao"  # untouched


def test_activation_dry_run_then_apply(ses):
    ses.create_receipt_rule_set(RuleSetName=names.RECEIPT_RULE_SET)
    dry = activate(REGION, apply=False, ses=ses)
    assert dry.exit_code == Exit.PENDING and "--apply" in dry.message
    assert not ses.describe_active_receipt_rule_set().get("Metadata")
    done = activate(REGION, apply=True, ses=ses)
    assert done.exit_code == Exit.OK and done.activated
    assert ses.describe_active_receipt_rule_set()["Metadata"]["Name"] == names.RECEIPT_RULE_SET
    again = activate(REGION, apply=True, ses=ses)
    assert again.exit_code == Exit.OK and not again.activated


def test_preflight_platform_reports_another_active_rule_set(ses, tmp_path):
    from tutormail.plan.loader import load_catalog
    from tutormail.preflight.platform import check_platform

    from tests import factory

    tmp_path.mkdir(exist_ok=True)
    platform_file = tmp_path / "platform-source.yaml"
    platform_file.write_text(factory.PLATFORM.read_text() + "receiving: {}\n")
    platform = load_catalog(factory.write_institutions(tmp_path / "i", {}, platform=platform_file)).platform
    clients = {s: boto3.client(s, region_name=REGION) for s in ("cloudformation", "iam", "dynamodb", "logs")}
    clients["ses"] = ses
    found = check_platform(platform, clients)
    assert found.exit_code == Exit.OK
    assert {c.what for c in found.checks} >= {"active receipt rule set", "inbound table"}
    ses.create_receipt_rule_set(RuleSetName="outra-aplicacao")
    ses.set_active_receipt_rule_set(RuleSetName="outra-aplicacao")
    found = check_platform(platform, clients)
    assert found.exit_code == Exit.ACTION_NEEDED
    assert any("'outra-aplicacao'" in c for c in found.conflicts)
