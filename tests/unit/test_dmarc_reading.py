"""A published DMARC record read as the strictest receiver reads it (cenario2/dmarc.py): ASCII digits
only in pct= (RFC 7489 6.4, 1*3DIGIT), the strictest copy of a repeated tag, OpenDMARC's left match of
a policy name, and a record no reading agrees on is "unknown", never "ready" and never a traceback."""

from __future__ import annotations

import pytest
from tutormail.cenario2.dmarc import DmarcLookups, judge, policy_value, read_policy

DOMAIN = "colegioxy.com.br"


def verdict(record: str):
    return judge(DOMAIN, [record])


@pytest.mark.parametrize("record", [
    "v=DMARC1; p=reject; pct=\u00b2",  # SUPERSCRIPT TWO: isdigit() but int() refuses it
    "v=DMARC1; p=reject; pct=\u2460",  # CIRCLED DIGIT ONE
    "v=DMARC1; p=quarantine; pct=\u0660",  # ARABIC-INDIC ZERO: int() reads 0, no receiver does
    "v=DMARC1; p=quarantine; pct=\uff10",  # FULLWIDTH ZERO
    "v=DMARC1; p=reject; pct=1000",  # 4 digits
    "v=DMARC1; p=reject; pct=101",
    "v=DMARC1; p=reject; pct=-0",
    "v=DMARC1; p=reject; pct=",
    "v=DMARC1; p=quarantine; pct=0; pct=x",  # one readable copy does not make the other readable
    "v=DMARC1; p=r\u00e9ject",  # not ASCII
    "v=DMARC1; p=\u212a",  # KELVIN SIGN lowers to an ASCII k
    "v=DMARC1; p=rejected",  # longer than the name: no left match
    "v=DMARC1; p=none; sp=maybe",
])
def test_an_unreadable_value_is_unknown_never_ready(record):
    result = verdict(record)
    assert result.state == "unknown", result
    assert result.record == record and result.record_name == f"_dmarc.{DOMAIN}"
    assert "cannot be read" in result.warning and "never taken as ready" in result.reason


@pytest.mark.parametrize(("record", "state", "policy"), [
    ("v=DMARC1; p=reject; pct=0", "blocked", "quarantine"),
    ("v=DMARC1; p=quarantine; pct=0", "ready", "none"),
    ("v=DMARC1; p=quarantine; pct=007", "blocked", "quarantine"),  # 1*3DIGIT: leading zeros are digits
    ("v=DMARC1; p=quarantine; pct=100", "blocked", "quarantine"),
])
def test_ascii_pct_is_read_as_a_number(record, state, policy):
    result = verdict(record)
    assert (result.state, result.policy) == (state, policy), result


@pytest.mark.parametrize(("record", "policy"), [
    ("v=DMARC1; p=reject; p=none", "reject"),  # the last copy would call it ready
    ("v=DMARC1; p=none; p=reject", "reject"),
    ("v=DMARC1; p=none; p=quarantine; p=none", "quarantine"),
    ("v=DMARC1; p=quarantine; pct=0; pct=100", "quarantine"),  # the larger sample is the stricter
    ("v=DMARC1; p=reject; pct=100; pct=0", "reject"),
])
def test_a_repeated_tag_counts_at_its_strictest(record, policy):
    result = verdict(record)
    assert (result.state, result.policy) == ("blocked", policy), result
    assert "repeats" in result.note


def test_a_repeated_sp_counts_at_its_strictest_for_a_subdomain():
    result = judge(f"secretaria.{DOMAIN}", [], (f"_dmarc.{DOMAIN}", ["v=DMARC1; p=none; sp=none; sp=reject"]))
    assert (result.state, result.policy) == ("blocked", "reject")


@pytest.mark.parametrize(("value", "policy"), [
    ("rej", "reject"), ("r", "reject"), ("REJ", "reject"), ("Reject", "reject"), ("q", "quarantine"),
    ("quar", "quarantine"), ("n", "none"), ("no", "none"), ("none", "none"),
    ("", None), ("x", None), ("rejectx", None), ("n\u00f6", None),
])
def test_policy_names_are_read_by_their_left_match_as_opendmarc_does(value, policy):
    assert policy_value(value) == policy


def test_a_prefix_of_reject_blocks():
    result = verdict("v=DMARC1; p=rej")
    assert (result.state, result.policy) == ("blocked", "reject")
    assert read_policy("v=DMARC1; p=rej; sp=q").sp == "quarantine"


def test_a_batch_goes_on_past_an_unreadable_record():
    answers = {f"_dmarc.{DOMAIN}": ["v=DMARC1; p=reject; pct=\u00b2"],
               "_dmarc.outra.com.br": ["v=DMARC1; p=reject"], "_dmarc.terceira.com.br": []}
    found = DmarcLookups(fetch=lambda name: answers[name]).verdicts([DOMAIN, "outra.com.br", "terceira.com.br"])
    assert {d: v.state for d, v in found.items()} == {DOMAIN: "unknown", "outra.com.br": "blocked",
                                                       "terceira.com.br": "ready"}
