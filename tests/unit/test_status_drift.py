"""`status --drift` without AWS: each row gets its identity's drift and the institution's SMTP key
drift; without --drift the field is null and nothing is read (the sandbox run: tests/lifecycle/test_drift.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tutormail.aws.ses import IdentityState
from tutormail.cenario1.check import Finding
from tutormail.clock import Clock
from tutormail.exitcodes import Exit
from tutormail.fleet import drift
from tutormail.plan.build import plan_for

from tests.unit.fakes import FakeSes, services, status_row

NOW = datetime(2026, 11, 28, tzinfo=UTC)


class FixedClock(Clock):
    def now(self):
        return NOW


class FakeIam:
    def __init__(self, age_days):
        self.age = age_days

    def list_access_keys(self, UserName):
        return {"AccessKeyMetadata": [{"AccessKeyId": "FAKE-TEST-KEY-ID-0001", "Status": "Active",
                                       "CreateDate": NOW - timedelta(days=self.age)}]}


def rows_of(plan):
    return [status_row(plan.slug, s.company, s.account, s.address_display) for s in plan.senders]


def test_rows_get_their_identitys_drift_and_the_keys(examples, monkeypatch):
    plan = plan_for(examples, "faculdade-delta")
    domain = next(i for i in plan.identities if i.provider == "rfc2136")
    missing = Finding("ns1", "127.0.0.1", f"t1._domainkey.{domain.name}", "CNAME", "missing", ("x",))
    monkeypatch.setattr(drift, "check_domain", lambda item, endpoints: (
        [missing] if item.identity.name == domain.name else [], None))
    states = {i.name: IdentityState(i.name, True, "SUCCESS", True, dkim_status="SUCCESS", dkim_tokens=("t1",))
              for i in plan.identities}
    states[domain.name] = IdentityState(domain.name, True, "SUCCESS", True, dkim_status="FAILED", dkim_tokens=("t1",))
    rows = rows_of(plan)
    code = drift.add_drift(examples, rows, services(FakeSes(states), clock=FixedClock()), checked=True,
                           iam=FakeIam(age_days=120))
    assert code == Exit.ACTION_NEEDED
    for row, sender in zip(rows, plan.senders, strict=True):
        key = [line for line in row.drift if "SMTP access key" in line]
        assert len(key) == 1 and "120 days old" in key[0]
        on_domain = [line for line in row.drift if "SMTP access key" not in line]
        if sender.identity == domain.name:
            assert any("is missing at ns1" in line for line in on_domain)
            assert any("DKIM FAILED" in line for line in on_domain)
        else:
            assert not any(domain.name in line for line in on_domain)
    lines = drift.drift_lines(rows)
    assert len(lines) == len(set(lines)) and all(line.startswith("drift: faculdade-delta ") for line in lines)


def test_fresh_keys_and_records_in_place_are_no_drift(examples, monkeypatch):
    plan = plan_for(examples, "faculdade-delta")
    monkeypatch.setattr(drift, "check_domain", lambda item, endpoints: ([], None))
    states = {i.name: IdentityState(i.name, True, "SUCCESS", True, dkim_status="SUCCESS", dkim_tokens=("t1",))
              for i in plan.identities}
    rows = rows_of(plan)
    assert drift.add_drift(examples, rows, services(FakeSes(states), clock=FixedClock()), checked=True,
                           iam=FakeIam(age_days=10)) == Exit.OK
    assert all(row.drift == [] for row in rows)


def test_without_drift_the_field_is_null_and_nothing_is_read(examples):
    rows = rows_of(plan_for(examples, "faculdade-delta"))
    assert drift.add_drift(examples, rows, services(None), checked=False) == Exit.OK
    assert {row.drift for row in rows} == {None} and drift.drift_lines(rows) == []


def test_records_that_could_not_be_checked_are_exit_4_never_no_drift(examples, monkeypatch):
    """The resolver timed out for one institution's domain, a server answered garbage for another's:
    each row says why (4), and an institution whose check ran is still judged on its own."""
    delta, xy = plan_for(examples, "faculdade-delta"), plan_for(examples, "instituicao-xy")
    hung = next(i.name for i in delta.identities if i.provider == "rfc2136")
    garbage = next(i.name for i in xy.identities if i.kind == "domain" and not i.is_platform)
    bad = Finding("ns1", "127.0.0.1", f"t1._domainkey.{garbage}", "CNAME", "error", ("x",),
                  detail="malformed answer (ShortHeader)")

    def check_domain(item, endpoints):
        if item.identity.name == hung:
            return [], f"cannot find the authoritative servers of {hung}: LifetimeTimeout"
        return ([bad] if item.identity.name == garbage else []), None

    monkeypatch.setattr(drift, "check_domain", check_domain)
    states = {i.name: IdentityState(i.name, True, "SUCCESS", True, dkim_status="SUCCESS", dkim_tokens=("t1",))
              for plan in (delta, xy) for i in plan.identities}
    rows = rows_of(delta) + rows_of(xy)
    code = drift.add_drift(examples, rows, services(FakeSes(states), clock=FixedClock()), checked=True,
                           iam=FakeIam(age_days=10))
    assert code == Exit.SERVICE_ERROR
    by_identity = {s.address_display: s.identity for plan in (delta, xy) for s in plan.senders}
    for row in rows:
        identity = by_identity[row.address]
        assert row.drift == []
        if identity == hung:
            assert row.drift_unchecked == [f"cannot find the authoritative servers of {hung}: LifetimeTimeout"]
        elif identity == garbage:
            assert row.drift_unchecked == [f"t1._domainkey.{garbage} CNAME not checked at ns1 (127.0.0.1): "
                                              "error, malformed answer (ShortHeader)"]
        else:
            assert row.drift_unchecked == []
    assert any(line.startswith("drift not checked: instituicao-xy ") for line in drift.drift_lines(rows))
