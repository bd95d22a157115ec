"""`status`'s sweep: the rows of the fleet from one listing of SES, the progress marks and one
DMARC look-up per domain (all faked here), and the sending health beside them."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

import pytest
from tutormail.aws.progress_marks import LINK, MIGRATED, RELEASED, fleet_marks
from tutormail.catalog.reputation_fields import Thresholds
from tutormail.cenario2.dmarc import DmarcLookups
from tutormail.clock import FixedClock, iso
from tutormail.dnsclient.resolver import DnsEndpoints
from tutormail.exitcodes import Exit
from tutormail.fleet.status import status_with_health, sweep
from tutormail.plan.loader import load_catalog
from tutormail.reputation.health import Health, SendingColumns
from tutormail.reputation.pause import PauseMark

from tests.factory import company, institution
from tests.unit.fakes import FakeSecrets, services, status_row

ENDPOINTS = DnsEndpoints(("127.0.0.1", 5300))
ADDRESS = "contato@colegioteste.com.br"
ROW_KEYS = {"tutor", "institution", "company", "account", "address", "scenario", "state", "phase", "missing",
            "next_action", "actor", "link_expires_at", "dmarc_warning", "deliverability",
            # filled after the sweep: null until their reads
            "sending", "bounce_rate", "complaint_rate", "paused_why", "drift", "drift_unchecked", "received"}
MIGRATED_MARKS = {MIGRATED: "2026-01-01T00:00:00Z"}


class ListingSes:
    def __init__(self, statuses):
        self._statuses = statuses

    def statuses(self):
        return dict(self._statuses)


class Store:
    """The progress table: one Scan (fleet) of marks already migrated from the old secret tags."""

    def __init__(self, marks):
        self.marks = marks

    def fleet(self):
        return {slug: {**MIGRATED_MARKS, **marks} for slug, marks in self.marks.items()}

    def put(self, marks):
        raise AssertionError("nothing to migrate")


@pytest.fixture
def catalog(institution_files):
    return load_catalog(institution_files(padrao=institution("Padrão"), escola=institution(
        "Escola", companies=[company("Escola", {"comunicacao": ADDRESS})])))


class Dmarc:
    """DMARC look-ups where colegioteste.com.br publishes p=reject; the names they were asked."""

    def __init__(self):
        self.asked: list[str] = []
        self.lookups = DmarcLookups(fetch=self._fetch)

    def _fetch(self, name):
        self.asked.append(name)
        return ["v=DMARC1; p=reject"] if name == "_dmarc.colegioteste.com.br" else []


@pytest.fixture
def dmarc():
    return Dmarc()


def given(ses, marks=None, dmarc=None, clock=None, **readers):
    """The sweep's Services: this SES, these marks for the fleet (or `fleet_marks=` a reader), these look-ups."""
    if marks is not None:
        readers["fleet_marks"] = lambda platform, slugs: {slug: marks.get(slug, {}) for slug in slugs}
    return services(ses, clock=clock, dns=ENDPOINTS, lookups=dmarc.lookups if dmarc else None, **readers)


def by_account(rows):
    return {(r.institution, r.account): r for r in rows}


def test_a_verified_address_blocked_by_dmarc_waits_on_the_institution(catalog, dmarc):
    ses = ListingSes({ADDRESS: "SUCCESS", "escola.sistematutor.com.br": "SUCCESS"})
    rows, code = sweep(catalog, ["escola"], given(ses, dmarc=dmarc), marks={"escola": {}})
    assert "_dmarc.colegioteste.com.br" in dmarc.asked and code == Exit.ACTION_NEEDED
    row = by_account(rows)[("escola", "comunicacao")]
    assert (row.phase, row.actor, row.state) == ("1 blocked by DMARC", "institution", "verified")
    assert row.next_action == row.deliverability.way_out and "--accept-dmarc-risk" in row.next_action
    assert row.missing == row.deliverability.verdict.reason and "p=reject" in row.dmarc_warning
    news = by_account(rows)[("escola", "news")]  # the platform's domain: DKIM-aligned, never held back by DMARC
    assert (news.phase, news.dmarc_warning, news.next_action) == (
        "1 verified", None, "hand over the settings: tutormail smtp-settings escola --reveal")
    # readiness is per account: the blocked one is not to configure yet, its sibling is ready
    assert (row.tutor, news.tutor) == ("not to configure yet", "configure")


def test_rows_follow_ses_and_the_marks(catalog, dmarc):
    clock = FixedClock()
    sent = clock.now() - timedelta(hours=1)
    ses = ListingSes({ADDRESS: "PENDING", "padrao.sistematutor.com.br": "SUCCESS"})  # escola's domain: not in SES
    marks = {"escola": {LINK + ADDRESS: f"1 {iso(sent)}"},
             "padrao": {RELEASED + "comunicacao@padrao.sistematutor.com.br": iso(sent)}}
    rows, code = sweep(catalog, ["escola", "padrao"], given(ses, marks, dmarc, clock))
    assert all(set(r.as_dict()) == ROW_KEYS for r in rows) and code == Exit.ACTION_NEEDED
    rows = by_account(rows)
    link = rows[("escola", "comunicacao")]
    assert (link.state, link.scenario, link.actor, link.company, link.address) == (
        "pending", 2, "institution", "Escola", ADDRESS)
    expires = sent + timedelta(hours=catalog.platform.link_validity_hours)
    assert link.link_expires_at == iso(expires)
    assert link.missing == f"{ADDRESS} has not opened SES's verification link"
    assert (rows[("escola", "news")].state, rows[("escola", "news")].actor) == ("missing", "platform team")
    assert rows[("escola", "news")].link_expires_at is None
    released = rows[("padrao", "comunicacao")]
    assert (released.phase, released.missing, released.actor) == (
        "2 settings released", "phase 3 test", "institution")
    verified = rows[("padrao", "news")]
    assert verified.deliverability.state == "ready" and verified.dmarc_warning is None


def test_the_marks_are_read_from_the_progress_table_of_the_platforms_region(catalog, monkeypatch):
    opened = []

    def store(region):
        opened.append(region)
        return Store({"escola": {}, "padrao": {RELEASED + "comunicacao@padrao.sistematutor.com.br": "t"}})

    monkeypatch.setattr("tutormail.aws.progress_marks.ProgressStore", store)
    ses = ListingSes({"padrao.sistematutor.com.br": "SUCCESS"})
    rows, _ = sweep(catalog, ["padrao"], given(ses, fleet_marks=fleet_marks), dns_checks=False)
    assert opened == [catalog.platform.region]
    assert by_account(rows)[("padrao", "comunicacao")].phase == "2 settings released"


def test_a_large_fleet_logs_its_progress_every_hundred_institutions(catalog, caplog):
    ses = ListingSes({"padrao.sistematutor.com.br": "SUCCESS"})
    with caplog.at_level(logging.INFO, logger="tutormail"):
        rows, _ = sweep(catalog, ["padrao"] * 199, given(ses), dns_checks=False, marks={"padrao": {}})
    assert [r.args for r in caplog.records if r.getMessage().startswith("status:")] == [(100, 199)]
    assert len(rows) == 199 * 2


def test_an_institution_without_marks_and_an_address_ses_gave_up_on(catalog):
    ses = ListingSes({ADDRESS: "FAILED", "escola.sistematutor.com.br": "PENDING"})
    rows, code = sweep(catalog, ["escola"], given(ses, {}), dns_checks=False)
    rows = by_account(rows)
    assert (rows[("escola", "comunicacao")].state, rows[("escola", "comunicacao")].actor) == (
        "expired", "platform team")  # FAILED with no link history: the link expired unopened
    assert rows[("escola", "news")].state == "pending" and code == Exit.ACTION_NEEDED


class CountingStore(Store):
    def __init__(self, marks):
        super().__init__(marks)
        self.scans = 0

    def fleet(self):
        self.scans += 1
        return super().fleet()


def test_status_adds_the_sending_health_and_a_pause_needs_a_person(catalog, monkeypatch):
    marks = {"escola": {}, "padrao": {}}
    store = CountingStore(marks)
    asked = []

    def fleet_health(catalog_, slugs, marks=None):
        assert catalog_ is catalog
        asked.append((slugs, marks))
        paused = PauseMark(True, "2026-01-05T12:00:00Z", "arn:aws:iam::000000000000:user/op", "bounces")
        return [Health("escola", Thresholds(), rates={"bounce": 0.06, "complaint": 0.0}, mark=paused),
                Health("padrao", Thresholds(), rates={"bounce": 0.01, "complaint": None})]

    monkeypatch.setattr("tutormail.fleet.status.fleet_health", fleet_health)
    ses = ListingSes({"escola.sistematutor.com.br": "SUCCESS", ADDRESS: "SUCCESS",
                      "padrao.sistematutor.com.br": "SUCCESS"})
    found = given(ses, fleet_marks=partial(fleet_marks, store=store))
    rows, code, health = status_with_health(catalog, found, dns_checks=False)
    assert asked == [(["escola", "padrao"], {slug: {} for slug in marks})] and store.scans == 1  # read once, reused
    assert set(health) == {"escola", "padrao"} and code == Exit.ACTION_NEEDED
    rows = by_account(rows)
    escola, padrao = rows[("escola", "news")].health, rows[("padrao", "news")].health
    assert escola.bounce_rate == 0.06 and "bounces" in escola.paused_why and escola.sending == "paused"
    assert (padrao.complaint_rate, padrao.paused_why) == (None, None)
    monkeypatch.setattr("tutormail.fleet.status.fleet_health",
                        lambda catalog_, slugs, marks=None: [Health(s, Thresholds()) for s in slugs])
    _, code, _ = status_with_health(catalog, found, dns_checks=False)
    assert code == Exit.OK  # escola's address is verified but unchecked for DMARC: --offline never blocks


class HalfMigrated(Store):
    """padrao's marks are still only in its secret's tags."""

    def fleet(self):
        return {"escola": {**MIGRATED_MARKS}}

    def put(self, marks):
        self.written = marks


def test_status_checks_dmarc_by_default_and_migrates_old_tags(catalog, dmarc, monkeypatch):
    """By default status looks DMARC up (with the command's look-ups); an institution whose marks
    are still in its secret's tags is migrated with the secrets client it was given."""
    store = HalfMigrated({})
    monkeypatch.setattr("tutormail.fleet.status.fleet_health",
                        lambda catalog_, slugs, marks=None: [Health(s, Thresholds()) for s in slugs])
    released = RELEASED + "comunicacao@padrao.sistematutor.com.br"
    secrets = FakeSecrets(pages=[{"SecretList": [{"Name": "tutormail/padrao/smtp",
                                                  "Tags": [{"Key": released, "Value": "t"}]}]}])
    ses = ListingSes({"escola.sistematutor.com.br": "SUCCESS", ADDRESS: "PENDING",
                      "padrao.sistematutor.com.br": "SUCCESS"})
    found = given(ses, dmarc=dmarc, fleet_marks=partial(fleet_marks, store=store, secrets_client=secrets))
    rows, code, _ = status_with_health(catalog, found)
    assert "_dmarc.colegioteste.com.br" in dmarc.asked and code == Exit.PENDING
    rows = by_account(rows)
    assert rows[("padrao", "comunicacao")].phase == "2 settings released"
    assert rows[("escola", "comunicacao")].state == "pending"
    assert released in store.written["padrao"]


def test_a_rows_json_has_every_key_and_null_for_what_was_not_read():
    """as_dict() is the row of `status --output json`: the sweep's keys, then the sending health,
    the drift and what was received, each null until its read filled it."""
    row = status_row(phase="1 blocked by DMARC", missing="p=reject", link_expires_at="2026-01-05T12:00:00Z")
    fixed = {"institution": "escola-padrao", "company": "Escola Padrão", "account": "comunicacao",
             "address": "comunicacao@escola-padrao.sistematutor.com.br", "scenario": 1, "state": "verified",
             "phase": "1 blocked by DMARC", "missing": "p=reject", "next_action": "none", "actor": "platform team",
             "link_expires_at": "2026-01-05T12:00:00Z", "dmarc_warning": None,
             "deliverability": row.deliverability.as_dict(), "tutor": "configure"}
    assert row.as_dict() == {**fixed, "sending": None, "bounce_rate": None, "complaint_rate": None,
                             "paused_why": None, "drift": None, "drift_unchecked": None, "received": None}
    row.health = SendingColumns("paused", 0.06, None, "paused by op: bounces")
    row.drift, row.drift_unchecked, row.received = ["DKIM FAILED"], [], 3
    assert row.as_dict() == {**fixed, "sending": "paused", "bounce_rate": 0.06, "complaint_rate": None,
                             "paused_why": "paused by op: bounces", "drift": ["DKIM FAILED"], "drift_unchecked": [],
                             "received": 3}
