"""The event record (issue 14 item 3): recipients masked to their domain, one line per SES event,
read back by `reputation` per institution."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from tutormail import names
from tutormail.reputation.event_log import NO_DOMAIN, handler, mask, masked_recipients, record
from tutormail.reputation.health import read_events


@pytest.mark.parametrize(("address", "masked"), [
    ("aluno@example.org", "*@example.org"),
    ("ALUNO.Silva@EXAMPLE.ORG", "*@example.org"),  # upper case: one domain, whatever the case
    ("Ana Souza <ana.souza@Example.org>", "*@example.org"),  # a display name
    ('"Souza, Ana" <ana@example.org>', "*@example.org"),
    ('"ana@evil.example" <ana@example.org>', "*@example.org"),  # an @ inside the display name
    ('"ana@x"@example.org', "*@example.org"),  # a quoted local part holding an @
    ("aluno@xn--exmplo-cva.br", "*@xn--exmplo-cva.br"),  # IDN domain, already punycode
    ("aluno@exémplo.br", "*@xn--exmplo-cva.br"),  # the same domain in Unicode: its punycode form
    ("aluno@example.org.", "*@example.org"),  # the root's dot
    ("aluno@[192.0.2.1]", "*@[192.0.2.1]"),
    ("aluno", NO_DOMAIN), ("@example.org", NO_DOMAIN), ("aluno@", NO_DOMAIN), ("", NO_DOMAIN),
    ("aluno@-example.org", NO_DOMAIN), ("aluno@example..org", NO_DOMAIN), ("aluno@exa mple.org%", NO_DOMAIN),
    (None, NO_DOMAIN), (42, NO_DOMAIN), (["aluno@example.org"], NO_DOMAIN),
])
def test_a_recipient_is_only_ever_its_domain(address, masked):
    assert mask(address) == masked
    if isinstance(address, str) and "@" in address:
        assert "aluno" not in mask(address) and "ana" not in mask(address)


def _bounce(recipients, **mail):
    return {"version": "0", "id": "e1", "detail-type": "Email Bounced", "source": "aws.ses", "account": "123456789012",
            "time": "2026-11-28T01:00:00Z", "region": "us-east-1", "resources": [], "detail": {
                "eventType": "Bounce",
                "bounce": {"bounceType": "Permanent", "bounceSubType": "General",
                           "bouncedRecipients": [{"emailAddress": r, "status": "5.1.1"} for r in recipients]},
                "mail": {"source": "Secretaria <comunicacao@instituicaoxy.com.br>", "messageId": "0100-abc",
                         "destination": ["x@other.example", *recipients],
                         "tags": {names.DIMENSION: ["tutormail-instituicao-xy"], "ses:from-domain": ["x"]}, **mail}}}


def test_several_recipients_become_their_domains_once_each(capsys):
    event = _bounce(["a@Example.org", "Bea <b@example.org>", "c@gmail.example", "d@example.org"])
    line = handler(event, None)
    assert line == {"event": "Bounce", "from": "comunicacao@instituicaoxy.com.br", "bounce": "Permanent/General",
                    "complaint": None, "reject": None, "message_id": "0100-abc",
                    "configuration_set": "tutormail-instituicao-xy",
                    "recipients": ["*@example.org", "*@gmail.example"]}  # the bounced ones, not the whole list
    printed = capsys.readouterr().out
    assert printed.count("\n") == 1 and json.loads(printed) == line  # one line per event: the record
    assert "a@" not in printed and "b@" not in printed and "Bea" not in printed


def test_a_complaint_and_a_reject():
    complaint = record({"detail-type": "Email Complaint Received", "detail": {
        "eventType": "Complaint", "complaint": {"complaintFeedbackType": "abuse",
                                                "complainedRecipients": [{"emailAddress": "z@Example.ORG"}]},
        "mail": {"source": "a@b.example", "destination": ["z@example.org", "y@else.example"]}}})
    assert (complaint["event"], complaint["complaint"], complaint["recipients"]) == ("Complaint", "abuse",
                                                                                     ["*@example.org"])
    # A reject lists no recipients of its own: the message's, masked.
    reject = record({"detail-type": "Email Rejected", "detail": {
        "eventType": "Reject", "reject": {"reason": "Bad content"},
        "mail": {"destination": ["p@example.org", "q@Example.org"]}}})
    assert (reject["reject"], reject["recipients"], reject["bounce"]) == ("Bad content", ["*@example.org"], None)


@pytest.mark.parametrize("event", [
    {}, {"detail": None}, {"detail": "text"}, {"detail-type": "Email Bounced", "detail": {"eventType": "Bounce"}},
    {"detail": {"eventType": "Bounce", "bounce": {"bouncedRecipients": "a@example.org"}, "mail": None}},
    {"detail": {"eventType": "Bounce", "bounce": {"bouncedRecipients": [None, {}, {"emailAddress": None}]},
                "mail": {"tags": {names.DIMENSION: "tutormail-x"}, "source": 7}}},
])
def test_missing_or_odd_fields_give_nulls_never_a_failure(event, capsys):
    line = handler(event)
    assert set(line) == {"event", "from", "bounce", "complaint", "reject", "message_id", "configuration_set",
                         "recipients"}
    assert line["configuration_set"] is None and line["from"] is None
    assert set(line["recipients"]) <= {NO_DOMAIN}
    assert json.loads(capsys.readouterr().out) == line


def test_bounce_type_without_sub_type_and_recipients_from_the_message():
    event = _bounce([])
    del event["detail"]["bounce"]["bounceSubType"], event["detail"]["bounce"]["bouncedRecipients"]
    line = record(event)
    assert line["bounce"] == "Permanent" and line["recipients"] == ["*@other.example"]
    assert masked_recipients({"eventType": "Bounce", "bounce": {"bouncedRecipients": []}}) == []


class _Logs:
    """FilterLogEvents' answer: what Lambda wrote into the function's log group."""

    def __init__(self, messages):
        self.messages = messages
        self.asked = None

    def filter_log_events(self, **kwargs):
        self.asked = kwargs
        return {"events": [{"timestamp": 1_795_000_000_000 + n, "message": m} for n, m in enumerate(self.messages)]}


def test_reputation_reads_each_institutions_lines_and_skips_lambdas_own():
    xy = json.dumps(record(_bounce(["a@example.org"])))
    other = json.dumps(record(_bounce(["b@example.org"], tags={names.DIMENSION: ["tutormail-escola-padrao"]})))
    foreign = json.dumps(record(_bounce(["c@example.org"], tags={names.DIMENSION: ["someone-else"]})))
    logs = _Logs(["START RequestId: 1 Version: $LATEST", xy, "END RequestId: 1", "REPORT RequestId: 1\tDuration: 1 ms",
                  "not json {", json.dumps(["a list"]), foreign, other, *[xy] * 4])
    found = read_events(logs, ["instituicao-xy", "faculdade-delta"], datetime.now(UTC))
    assert logs.asked["logGroupName"] == "/aws/lambda/tutormail-sending-events"
    assert list(found) == ["instituicao-xy"] and len(found["instituicao-xy"]) == 3  # the last three
    assert found["instituicao-xy"][-1].endswith(
        " Bounce from=comunicacao@instituicaoxy.com.br bounce=Permanent/General message_id=0100-abc "
        "recipients=*@example.org")


class _PagedLogs:
    """FilterLogEvents over several pages, oldest first, as CloudWatch Logs returns a window."""

    def __init__(self, pages):
        self.pages, self.calls = pages, []

    def filter_log_events(self, **kwargs):
        self.calls.append(kwargs)
        index = int(kwargs.get("nextToken", 0))
        page = {"events": [{"timestamp": 1_795_000_000_000 + index * 10 + n, "message": m}
                           for n, m in enumerate(self.pages[index])]}
        return {**page, "nextToken": str(index + 1)} if index + 1 < len(self.pages) else page


def test_the_last_events_come_from_the_last_page_of_the_window():
    old = json.dumps(record(_bounce(["old@old.example"])))
    new = json.dumps(record(_bounce(["new@new.example"])))
    logs = _PagedLogs([[old] * 3, [old] * 3, [new] * 2])
    found = read_events(logs, ["instituicao-xy"], datetime.now(UTC))
    assert [c.get("nextToken") for c in logs.calls] == [None, "1", "2"]  # the last hour had events: one window
    assert found["instituicao-xy"][-2:] == [found["instituicao-xy"][-1]] * 2
    assert found["instituicao-xy"][-1].endswith("recipients=*@new.example")
    assert found["instituicao-xy"][0].endswith("recipients=*@old.example")  # three kept: the newest two and one before


def test_an_institution_without_events_in_the_last_hour_is_looked_for_in_the_day():
    logs = _PagedLogs([[json.dumps(record(_bounce(["a@example.org"])))]])
    read_events(logs, ["instituicao-xy", "faculdade-delta"], datetime.now(UTC))
    hour, day = (c["startTime"] for c in logs.calls)
    assert len(logs.calls) == 2 and hour - day == 23 * 3600 * 1000
