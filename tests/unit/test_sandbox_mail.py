"""The sandbox's receiving rules and DMARC judgement on their own (issue 25); the whole path, with
signing and the sandbox DNS, is tests/e2e/test_ses_receiving.py."""

from __future__ import annotations

import pytest

from sandbox import mailauth, receiving
from sandbox.mailauth import DkimResult


# https://docs.aws.amazon.com/ses/latest/dg/receiving-email-receipt-rules-console-walkthrough.html
@pytest.mark.parametrize("conditions, address, expected", [
    ([], "anyone@x.example.com", True),
    (["user@example.com"], "USER@Example.com", True),
    (["user@example.com"], "other@example.com", False),
    (["example.com"], "a@example.com", True),
    (["example.com"], "a@sub.example.com", False),  # a domain does not take its subdomains
    ([".example.com"], "a@sub.example.com", True),
    ([".example.com"], "a@example.com", False),
    (["example.com"], "a@notexample.com", False),
])
def test_recipient_conditions(conditions, address, expected):
    assert receiving.matches(conditions, address) is expected


def dmarc(monkeypatch, records: dict[str, list[bytes]], from_domain: str, spf_result: str, mail_from: str,
          dkim: tuple[DkimResult, ...]):
    monkeypatch.setattr(mailauth, "txt", lambda name: records.get(name, []))
    return mailauth.check_dmarc(from_domain, spf_result, mail_from, dkim)


REJECT = {"_dmarc.colegioxy.com.br": [b"v=DMARC1; p=reject"]}


def test_only_an_aligned_pass_passes_dmarc(monkeypatch):
    amazonses = (DkimResult("pass", "amazonses.com"),)
    assert dmarc(monkeypatch, REJECT, "colegioxy.com.br", "pass", "x@us-east-1.amazonses.com", amazonses) == (
        "fail", "reject")
    own = (DkimResult("pass", "colegioxy.com.br"),)
    assert dmarc(monkeypatch, REJECT, "colegioxy.com.br", "fail", "x@us-east-1.amazonses.com", own) == ("pass", None)
    failed = (DkimResult("fail", "colegioxy.com.br"),)
    assert dmarc(monkeypatch, REJECT, "colegioxy.com.br", "pass", "x@bounce.colegioxy.com.br", failed) == (
        "pass", None)  # SPF aligned in relaxed mode: bounce.<domain> has the same organisational domain


def test_strict_alignment_and_the_inherited_subdomain_policy(monkeypatch):
    records = {"_dmarc.colegioxy.com.br": [b"v=DMARC1; p=none; sp=quarantine; aspf=s"]}
    spf_only = ()
    assert dmarc(monkeypatch, records, "colegioxy.com.br", "pass", "x@bounce.colegioxy.com.br", spf_only) == (
        "fail", "none")  # aspf=s: bounce.colegioxy.com.br is not colegioxy.com.br
    assert dmarc(monkeypatch, records, "avisos.colegioxy.com.br", "fail", "x@amazonses.com", spf_only) == (
        "fail", "quarantine")  # the organisational domain's record, and its sp=


def test_no_record_or_two_records_apply_no_policy(monkeypatch):
    nothing = (DkimResult("pass", "amazonses.com"),)
    assert dmarc(monkeypatch, {}, "colegioxy.com.br", "fail", "x@amazonses.com", nothing) == ("none", None)
    two = {"_dmarc.colegioxy.com.br": [b"v=DMARC1; p=reject", b"v=DMARC1; p=none"]}
    assert dmarc(monkeypatch, two, "colegioxy.com.br", "fail", "x@amazonses.com", nothing) == ("none", None)


def test_verdicts_are_ses_statuses_and_the_header_ses_form():
    verdicts = mailauth.Verdicts("softfail", "spfCheck: 127.0.0.1 is not permitted by domain of a.example", "127.0.0.1",
                                 "x@a.example", "h.example", (DkimResult("pass", "amazonses.com"),), "a.example",
                                 "fail", "reject")
    assert (verdicts.spf_verdict, verdicts.dkim_verdict, verdicts.dmarc_verdict) == ("FAIL", "PASS", "FAIL")
    header = verdicts.header("amazonses.com")
    assert header.startswith("amazonses.com;\r\n spf=softfail (spfCheck: ")
    assert " dkim=pass header.i=amazonses.com;" in header and header.endswith(" dmarc=fail header.from=a.example;")
    unsigned = mailauth.Verdicts("none", "", "127.0.0.1", "", "h", (), "a.example", "none", None)
    assert (unsigned.spf_verdict, unsigned.dkim_verdict, unsigned.dmarc_verdict) == ("GRAY", "GRAY", "GRAY")
