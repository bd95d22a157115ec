"""The replies handler (issue 25): forward to replies_to, or answer once per sender and day, never
to an automatic message (RFC 3834 section 2). boto3 against moto in process: the conditional put,
the stored object and the sending are real API calls."""

from __future__ import annotations

import email
import email.policy
import json

import boto3
import pytest
from moto import mock_aws
from tutormail import names
from tutormail.aws.progress_store import PARTITION_KEY, SORT_KEY
from tutormail.inbound.replies import Replies, loop_reason

REGION = "us-east-1"
BUCKET = names.inbound_bucket("123456789012", REGION)
DOMAIN = "sistematutor.com.br"
SLUG = "escola-a"
RECIPIENT = f"comunicacao@{SLUG}.{DOMAIN}"
DAY = 1_790_000_000  # a fixed instant; DAY + 86400 is the next day


def raw_message(sender="Aluna <aluna@example.org>", extra: str = "", subject="Dúvida sobre a matrícula") -> bytes:
    message = email.message.EmailMessage()
    message["From"] = sender
    message["To"] = RECIPIENT
    message["Subject"] = subject
    message["Message-ID"] = "<original-1@example.org>"
    for line in filter(None, extra.split("\n")):
        name, _, value = line.partition(": ")
        message[name] = value
    message.set_content("Olá, quando abre a matrícula?\n")
    return message.as_bytes(policy=email.policy.SMTP)


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def aws():
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(TableName=names.INBOUND_TABLE, BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
                                         {"AttributeName": SORT_KEY, "KeyType": "RANGE"}],
                              AttributeDefinitions=[{"AttributeName": PARTITION_KEY, "AttributeType": "S"},
                                                    {"AttributeName": SORT_KEY, "AttributeType": "S"}])
        ses = boto3.client("ses", region_name=REGION)
        ses.verify_domain_identity(Domain=f"{SLUG}.{DOMAIN}")
        ses.create_configuration_set(ConfigurationSet={"Name": names.configuration_set(SLUG)})
        yield {"s3": s3, "dynamodb": dynamodb, "ses": ses, "ssm": boto3.client("ssm", region_name=REGION)}


def settings(aws, replies_to=None, contact="secretaria@escolaa.example"):
    aws["ssm"].put_parameter(Name=names.inbound_settings(SLUG), Type="String", Overwrite=True, Value=json.dumps(
        {"name": "Escola A", "from_address": RECIPIENT, "replies_to": replies_to, "contact": contact}))


def deliver(aws, raw: bytes, message_id: str, source: str = "aluna@example.org", clock=None) -> dict:
    aws["s3"].put_object(Bucket=BUCKET, Key=f"{names.REPLIES_PREFIX}{message_id}", Body=raw)
    record = {"mail": {"messageId": message_id, "source": source, "destination": [RECIPIENT]},
              "receipt": {"recipients": [RECIPIENT]}}
    replies = Replies(aws["s3"], aws["ses"], aws["dynamodb"], aws["ssm"], BUCKET, DOMAIN, clock or Clock(DAY))
    return replies.handle(record)


def sent(aws) -> list[email.message.EmailMessage]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    return [email.message_from_string(m.raw_data, policy=email.policy.default) for m in backend.sent_messages]


def received_count(aws) -> int:
    item = aws["dynamodb"].get_item(TableName=names.INBOUND_TABLE,
                                    Key={PARTITION_KEY: {"S": SLUG}, SORT_KEY: {"S": "received"}}).get("Item")
    return int(item["count"]["N"]) if item else 0


def test_a_person_gets_the_note_once_a_day(aws):
    settings(aws)
    first = deliver(aws, raw_message(), "m1")
    assert first == {"action": "answered", "institution": SLUG, "to": "aluna@example.org"}
    (note,) = sent(aws)
    assert note["To"] == "aluna@example.org"
    assert note["Auto-Submitted"] == "auto-replied"  # RFC 3834 section 5
    assert note["In-Reply-To"] == "<original-1@example.org>"
    assert note["From"].addresses[0].addr_spec == RECIPIENT
    body = note.get_content()
    assert "não recebe mensagens" in body and "Portal do Aluno" in body and "secretaria@escolaa.example" in body
    again = deliver(aws, raw_message(), "m2", source="Aluna@Example.org")
    assert again["action"] == "not answered" and again["reason"] == "already answered today"
    assert len(sent(aws)) == 1
    tomorrow = deliver(aws, raw_message(), "m3", clock=Clock(DAY + 86400))
    assert tomorrow["action"] == "answered" and len(sent(aws)) == 2
    assert received_count(aws) == 3  # every message is counted, answered or not


@pytest.mark.parametrize(("extra", "source", "reason"), [
    ("Auto-Submitted: auto-replied", "aluna@example.org", "Auto-Submitted: auto-replied"),
    ("Auto-Submitted: auto-generated; owner-email=x@example.org", "aluna@example.org",
     "Auto-Submitted: auto-generated"),
    ("Precedence: bulk", "aluna@example.org", "Precedence: bulk"),
    ("Precedence: list", "aluna@example.org", "Precedence: list"),
    ("Precedence: junk", "aluna@example.org", "Precedence: junk"),
    ("List-Id: <alunos.example.org>", "aluna@example.org", "List-* header"),
    ("List-Unsubscribe: <mailto:leave@example.org>", "aluna@example.org", "List-* header"),
    ("", "", "null return path"),
    ("", "<>", "null return path"),
    ("", "MAILER-DAEMON@mx.example.org", "automatic sender"),
    ("", "owner-alunos@example.org", "automatic sender"),
    ("", "alunos-request@example.org", "automatic sender"),
])
def test_never_an_answer_to_an_automatic_message(aws, extra, source, reason):
    settings(aws)
    result = deliver(aws, raw_message(extra=extra), "m1", source=source)
    assert result["action"] == "not answered"
    assert reason in result["reason"]
    assert sent(aws) == []
    assert received_count(aws) == 1


def test_auto_submitted_no_is_a_person():
    message = email.message_from_bytes(raw_message(extra="Auto-Submitted: no"), policy=email.policy.default)
    assert loop_reason(message, "aluna@example.org") is None


def test_replies_to_forwards_rewritten_so_dmarc_passes(aws):
    settings(aws, replies_to="secretaria@escolaa.example")
    raw = raw_message(sender="Aluna <aluna@example.org>")
    result = deliver(aws, raw, "m1")
    assert result == {"action": "forwarded", "institution": SLUG, "to": "secretaria@escolaa.example"}
    (forwarded,) = sent(aws)
    # From the platform address (its own identity signs: aligned), Reply-To the student.
    assert forwarded["From"].addresses[0].addr_spec == RECIPIENT
    assert forwarded["Reply-To"] == "aluna@example.org"
    assert forwarded["To"] == "secretaria@escolaa.example"
    assert "Dúvida sobre a matrícula" in forwarded["Subject"]
    attached = [part for part in forwarded.iter_attachments() if part.get_content_type() == "message/rfc822"]
    assert attached and attached[0]["Content-Transfer-Encoding"] in (None, "7bit", "8bit")
    assert "quando abre a matr" in attached[0].get_content().get_content()
    # Forwarding is not an automatic answer: a second message the same day is forwarded too.
    deliver(aws, raw_message(), "m2")
    assert len(sent(aws)) == 2 and received_count(aws) == 2


def test_mail_outside_the_platform_subdomains_is_ignored(aws):
    replies = Replies(aws["s3"], aws["ses"], aws["dynamodb"], aws["ssm"], BUCKET, DOMAIN)
    record = {"mail": {"messageId": "m1", "source": "a@example.org"},
              "receipt": {"recipients": ["x@deep.escola-a.sistematutor.com.br", "y@other.example"]}}
    assert replies.handle(record)["action"] == "ignored"


def test_status_reads_what_each_institution_received(aws):
    from types import SimpleNamespace

    from tutormail.aws.check_mailbox import received_counts
    from tutormail.cli.status import add_received

    from tests.unit.fakes import status_row

    settings(aws)
    for n in range(3):
        deliver(aws, raw_message(), f"m{n}")
    assert received_counts(REGION, aws["dynamodb"]) == {SLUG: 3}
    rows = [status_row(SLUG), status_row("outra")]
    receiving = SimpleNamespace(region=REGION, receiving=object())
    add_received(receiving, rows, counts=lambda region: received_counts(region, aws["dynamodb"]))
    assert [r.received for r in rows] == [3, 0]
    add_received(SimpleNamespace(region=REGION, receiving=None), rows)
    assert [r.received for r in rows] == [None, None]
