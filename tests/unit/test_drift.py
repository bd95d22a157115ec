"""Drift after verification: records, DKIM and SMTP key age (pure cores)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tutormail.cenario1.check import Finding
from tutormail.plan.build import build_plan
from tutormail.verification.drift import identity_drift, key_drift

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def finding(status, found=()):
    return Finding("ns1.uni-xy.edu.br", "127.0.0.1", "x._domainkey.uni-xy.edu.br", "CNAME", status, (), tuple(found))


def test_a_pending_identity_never_drifts():
    assert identity_drift(False, "FAILED", [finding("missing")]) == []


def test_a_verified_identity_with_a_record_gone_or_changed_drifts():
    drift = identity_drift(True, "SUCCESS", [finding("found"), finding("missing"), finding("wrong", ["other."]),
                                             finding("unreachable")])
    assert drift == ["x._domainkey.uni-xy.edu.br CNAME is missing at ns1.uni-xy.edu.br (127.0.0.1)",
                     "x._domainkey.uni-xy.edu.br CNAME is wrong at ns1.uni-xy.edu.br (127.0.0.1): holds other."]


def test_dkim_failed_on_a_verified_identity_drifts():
    assert identity_drift(True, "FAILED", []) == ["SES reports DKIM FAILED: it no longer signs for this identity"]
    assert identity_drift(True, "SUCCESS", [finding("found")]) == []


def test_only_active_keys_older_than_the_maximum_are_reported(examples):
    plan = build_plan(examples.get("instituicao-xy"), replace(examples.platform, smtp_key_max_age_days=90))
    keys = [{"AccessKeyId": "FAKE-OLD-ACTIVE", "Status": "Active", "CreateDate": NOW - timedelta(days=91)},
            {"AccessKeyId": "FAKE-OLD-INACTIVE", "Status": "Inactive", "CreateDate": NOW - timedelta(days=400)},
            {"AccessKeyId": "FAKE-YOUNG", "Status": "Active", "CreateDate": NOW - timedelta(days=90)}]
    [drift] = key_drift(plan, keys, NOW)
    assert "FAKE-OLD-ACTIVE" in drift and "91 days old (more than 90)" in drift
    assert f"smtp_key_generation: {plan.institution.smtp_key_generation + 1}" in drift


def test_the_default_maximum_age_is_90_days(examples):
    assert examples.platform.smtp_key_max_age_days == 90
