"""`verify`'s use case: the entry of each identity, the DNS part (the authoritative servers faked
here: they are asked for real in tests/dns/), drift, auto-resend and the `--wait` loop."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError
from tutormail.aws.progress_marks import LINK
from tutormail.aws.ses import IdentityState
from tutormail.cenario1.check import SES_MEANING, Finding
from tutormail.cenario2.dmarc import DmarcLookups
from tutormail.cenario2.links import LINK_MEANING
from tutormail.clock import FixedClock, iso
from tutormail.dnsclient.resolver import DnsEndpoints
from tutormail.exitcodes import Exit
from tutormail.verification.verify import VerifyOptions, verify_and_drift, verify_institution, verify_once

from tests.unit.fakes import FakeProgress, FakeSes, no_dmarc, pending, services, verified

ENDPOINTS = DnsEndpoints(("127.0.0.1", 5300), direct_port=5301)
ADDRESS = "contato@colegioteste.com.br"
ENTRY_KEYS = {"identity", "scenario", "state", "verified", "missing", "next_action", "actor", "link_expires_at", "ses",
              "deliverability", "drift", "exit_code"}
DOMAIN_SES_KEYS = {"status", "meaning", "dkim_status", "mail_from_domain", "mail_from_status", "mail_from_meaning"}


def only(plan, *names):
    """The plan with only these identities (so no other one asks a DNS server)."""
    return type(plan)(plan.institution, plan.platform, tuple(i for i in plan.identities if i.name in names),
                      plan.senders)


class FakeServers:
    """What every authoritative server answers, as check_domain's findings."""

    def __init__(self, monkeypatch, status="found", problem=None):
        self.asked = []
        self.status, self.problem = status, problem
        monkeypatch.setattr("tutormail.verification.verify.check_domain", self.check_domain)

    def check_domain(self, records, endpoints):
        self.asked.append((records.identity.name, records.tokens_known, endpoints))
        return [Finding("ns1.escolateste.com.br", "127.0.0.9", r.name, r.type, self.status, (r.value,),
                        ("other.",) if self.status == "wrong" else (), "a detail" if self.status == "wrong" else "")
                for r in records.records[:1]], self.problem


def test_a_domain_entry_carries_ses_and_every_servers_findings(plans, monkeypatch):
    plan = only(plans["escola"], "escolateste.com.br")
    servers = FakeServers(monkeypatch, status="wrong")
    state = IdentityState("escolateste.com.br", True, "PENDING", False, "PENDING", ("t1", "t2", "t3"),
                          mail_from_domain="mail.escolateste.com.br", mail_from_status="PENDING")
    [entry], code = verify_once(
        plan,
        services(FakeSes({state.name: state}), FakeProgress(), FixedClock(), dns=ENDPOINTS, lookups=no_dmarc()),
        VerifyOptions(),
    )
    assert servers.asked == [("escolateste.com.br", True, ENDPOINTS)]
    data = entry.as_dict()
    assert set(data) == ENTRY_KEYS | {"dns"} and set(data["ses"]) == DOMAIN_SES_KEYS
    assert entry.ses.meaning == SES_MEANING["PENDING"].format(hours=plan.platform.dkim_window_hours)
    assert (entry.ses.domain.dkim_status, entry.ses.domain.mail_from_domain, entry.ses.domain.mail_from_status) == (
        "PENDING", "mail.escolateste.com.br", "PENDING")
    assert entry.ses.domain.mail_from_meaning.startswith("SES has not seen the MAIL FROM MX yet")
    [finding] = entry.dns.findings
    assert entry.dns.problem is None
    assert data["dns"]["findings"] == [{
        "server": "ns1.escolateste.com.br", "address": "127.0.0.9", "record": finding.record, "type": "CNAME",
        "status": "wrong", "expected": list(finding.expected), "found": ["other."], "detail": "a detail"}]
    assert len(finding.expected) == 1 and finding.record.endswith("._domainkey.escolateste.com.br")
    # SES still pending (3), a record wrong on a server (1): someone must fix it
    assert (entry.exit_code, code, entry.check.state) == (Exit.ACTION_NEEDED, Exit.ACTION_NEEDED, "pending")
    assert entry.drift == ()  # only a verified identity drifts


def test_every_round_and_the_drift_check_ask_the_given_servers(plans, monkeypatch):
    plan = only(plans["escola"], "escolateste.com.br")
    servers = FakeServers(monkeypatch)
    ses = FakeSes({"escolateste.com.br": pending("escolateste.com.br")})
    options = VerifyOptions(wait=True)
    verify_institution(plan, services(ses, FakeProgress(), FixedClock(), dns=ENDPOINTS, lookups=no_dmarc()), options, 0)
    verify_and_drift(
        plan,
        services(ses, FakeProgress(), FixedClock(), dns=ENDPOINTS, lookups=no_dmarc()),
        options,
        0,
        iam=FakeIam([]),
    )  # pending with --wait: the deadline (now) ends it
    assert [endpoints for _, _, endpoints in servers.asked] == [ENDPOINTS, ENDPOINTS]


def test_without_dkim_tokens_the_dns_part_does_not_decide(plans, monkeypatch):
    plan = only(plans["escola"], "escolateste.com.br")
    FakeServers(monkeypatch, status="wrong", problem="no tokens")
    ses = FakeSes({"escolateste.com.br": pending("escolateste.com.br", tokens=())})
    [entry], code = verify_once(
        plan, services(ses, FakeProgress(), FixedClock(), dns=ENDPOINTS, lookups=no_dmarc()), VerifyOptions()
    )
    assert code == Exit.PENDING and entry.dns.problem == "no tokens"
    assert entry.ses.domain.mail_from_meaning is None  # SES reported no MAIL FROM status
    assert entry.as_dict()["ses"]["mail_from_meaning"] is None  # null in the JSON, not absent


def test_a_verified_domain_whose_record_went_missing_has_drifted(plans, monkeypatch):
    plan = only(plans["escola"], "escolateste.com.br")
    FakeServers(monkeypatch, status="missing")
    ses = FakeSes({"escolateste.com.br": verified("escolateste.com.br")})
    [entry], code = verify_once(
        plan, services(ses, FakeProgress(), FixedClock(), dns=ENDPOINTS, lookups=no_dmarc()), VerifyOptions()
    )
    [drift] = entry.drift
    assert "is missing at ns1.escolateste.com.br (127.0.0.9)" in drift
    assert (code, entry.exit_code, entry.check.verified) == (Exit.ACTION_NEEDED, 1, True)
    FakeServers(monkeypatch, status="found")
    state = IdentityState("escolateste.com.br", True, "SUCCESS", True, "FAILED", ("t1", "t2", "t3"))
    [entry], code = verify_once(
        plan,
        services(FakeSes({state.name: state}), FakeProgress(), FixedClock(), dns=ENDPOINTS, lookups=no_dmarc()),
        VerifyOptions(),
    )
    assert entry.drift == ("SES reports DKIM FAILED: it no longer signs for this identity",)
    assert code == Exit.ACTION_NEEDED


def test_an_address_entry_has_no_dns_part(plans):
    plan, clock = only(plans["escola"], ADDRESS), FixedClock()
    sent = clock.now() - timedelta(hours=1)
    progress = FakeProgress({LINK + ADDRESS: f"1 {iso(sent)}"})
    [entry], code = verify_once(
        plan,
        services(
            FakeSes({ADDRESS: IdentityState(ADDRESS, True, "PENDING")}),
            progress,
            clock,
            dns=ENDPOINTS,
            lookups=no_dmarc(),
        ),
        VerifyOptions(),
    )
    data = entry.as_dict()
    assert set(data) == ENTRY_KEYS and data["ses"] == {"status": "PENDING", "meaning": LINK_MEANING["PENDING"]}
    assert entry.dns is None and entry.ses.domain is None
    expires = sent + timedelta(hours=plan.platform.link_validity_hours)
    assert (entry.check.identity, entry.check.scenario, data["link_expires_at"]) == (ADDRESS, 2, iso(expires))
    assert (entry.check.missing, entry.check.actor) == (f"{ADDRESS} has not opened SES's verification link",
                                                        "institution")
    assert entry.deliverability.state == "ready" and code == Exit.PENDING == entry.exit_code
    [entry], _ = verify_once(
        plan,
        services(
            FakeSes({ADDRESS: IdentityState(ADDRESS, True, "NEW_STATUS")}),
            FakeProgress(),
            clock,
            dns=ENDPOINTS,
            lookups=no_dmarc(),
        ),
        VerifyOptions(),
    )
    assert entry.ses.meaning == "NEW_STATUS" and entry.as_dict()["link_expires_at"] is None  # an unknown status as is


def test_dmarc_is_looked_up_through_the_given_endpoints_once_per_run(plans, monkeypatch):
    import dataclasses

    from tutormail.services import Services

    plan, made = only(plans["escola"], ADDRESS), []

    def lookups(endpoints):
        made.append(endpoints)
        return no_dmarc()

    monkeypatch.setattr("tutormail.services.DmarcLookups", lookups)
    ses = FakeSes({ADDRESS: verified(ADDRESS)})
    run = dataclasses.replace(Services.of(FixedClock(), ENDPOINTS), ses=lambda platform: ses,
                              progress=lambda p: FakeProgress())
    [entry], code = verify_institution(plan, run, VerifyOptions(), 0)
    assert made == [ENDPOINTS] and code == Exit.OK and entry.deliverability.state == "ready"
    verify_once(plan, run, VerifyOptions())
    assert made == [ENDPOINTS]  # one set of look-ups for the whole command


def test_dmarc_blocks_a_verified_address(plans):
    plan = only(plans["escola"], ADDRESS)
    reject = DmarcLookups(fetch=lambda name: ["v=DMARC1; p=reject"] if name == "_dmarc.colegioteste.com.br" else [])
    [entry], code = verify_once(
        plan,
        services(FakeSes({ADDRESS: verified(ADDRESS)}), FakeProgress(), FixedClock(), dns=ENDPOINTS, lookups=reject),
        VerifyOptions(),
    )
    assert entry.deliverability.state == "blocked" and code == Exit.ACTION_NEEDED and entry.check.verified


def expired_link(plan, clock, status="PENDING", hours_ago=None, count=1):
    hours = plan.platform.link_validity_hours + 1 if hours_ago is None else hours_ago
    sent = iso(clock.now() - timedelta(hours=hours))
    return FakeSes({ADDRESS: IdentityState(ADDRESS, True, status)}), FakeProgress({LINK + ADDRESS: f"{count} {sent}"})


def test_an_expired_link_is_resent_only_when_asked(plans, caplog):
    plan, clock = only(plans["escola"], ADDRESS), FixedClock()
    ses, progress = expired_link(plan, clock)
    verify_once(plan, services(ses, progress, clock, dns=ENDPOINTS, lookups=no_dmarc()), VerifyOptions())
    assert ses.links == [] and progress.writes == []
    with caplog.at_level(logging.INFO, logger="tutormail"):
        verify_once(
            plan,
            services(ses, progress, clock, dns=ENDPOINTS, lookups=no_dmarc()),
            VerifyOptions(auto_resend=True, max_resends=5),
        )
    assert ses.links == [ADDRESS] and len(progress.writes) == 1
    [record] = [r for r in caplog.records if "expired" in r.getMessage()]
    assert record.args == (ADDRESS, 2, 5)


def test_ses_reporting_failed_is_resent_even_while_our_last_link_looks_valid(plans):
    plan, clock = only(plans["escola"], ADDRESS), FixedClock()
    ses, progress = expired_link(plan, clock, status="FAILED", hours_ago=1)
    verify_once(
        plan, services(ses, progress, clock, dns=ENDPOINTS, lookups=no_dmarc()), VerifyOptions(auto_resend=True)
    )
    assert ses.links == [ADDRESS] and progress.tags[LINK + ADDRESS].startswith("2 ")


def test_a_domain_is_never_sent_a_link(plans, monkeypatch):
    plan = only(plans["escola"], "escolateste.com.br")
    FakeServers(monkeypatch)
    ses = FakeSes({"escolateste.com.br": IdentityState("escolateste.com.br", True, "FAILED", dkim_tokens=("t1",))})
    verify_once(
        plan,
        services(ses, FakeProgress(), FixedClock(), dns=ENDPOINTS, lookups=no_dmarc()),
        VerifyOptions(auto_resend=True),
    )
    assert ses.links == []


class Waiting:
    """A monotonic clock moved only by sleep()."""

    def __init__(self):
        self.now, self.slept = 0.0, []

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def wait_for(plan, ses, deadline):
    waiting = Waiting()
    _, code = verify_institution(
        plan,
        services(ses, FakeProgress(), FixedClock(), dns=ENDPOINTS, lookups=no_dmarc()),
        VerifyOptions(wait=True),
        deadline,
        monotonic=lambda: waiting.now,
        sleep=waiting.sleep,
    )
    return waiting.slept, code


def test_the_wait_goes_on_up_to_the_deadline_with_the_delay_capped(plans, caplog):
    plan = only(plans["escola"], ADDRESS)
    ses = FakeSes({ADDRESS: IdentityState(ADDRESS, True, "PENDING")})
    assert wait_for(plan, ses, 1.0) == ([1.0], Exit.PENDING)  # a round that would start at the deadline still runs
    with caplog.at_level(logging.INFO, logger="tutormail"):
        slept, _ = wait_for(plan, ses, 400.0)
    assert slept == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60]
    waits = [r.args for r in caplog.records if "still pending" in r.getMessage()]
    assert waits[:2] == [("escola", 1.0), ("escola", 2.0)]


def test_the_wait_ends_when_nothing_is_pending_and_goes_on_while_anything_is(plans):
    plan = only(plans["escola"], ADDRESS, "escola.sistematutor.com.br")
    platform = "escola.sistematutor.com.br"
    both = FakeSes({ADDRESS: IdentityState(ADDRESS, True, "PENDING"),
                    platform: IdentityState(platform, True, "SUCCESS", True)})
    assert wait_for(plan, both, 3.0)[0] == [1, 2]  # one verified, one pending: still waiting
    missing = FakeSes({platform: IdentityState(platform, True, "SUCCESS", True)})  # the address is not in SES
    assert wait_for(plan, missing, 100.0) == ([], Exit.ACTION_NEEDED)  # a person must act: no use waiting


class FakeIam:
    def __init__(self, keys):
        self.keys, self.asked = keys, []

    def list_access_keys(self, UserName):
        self.asked.append(UserName)
        return {"AccessKeyMetadata": self.keys}


@pytest.mark.parametrize(("age", "code"), [(90, Exit.OK), (91, Exit.ACTION_NEEDED)])
def test_verify_and_drift_reports_an_old_smtp_key(plans, age, code):
    plan, clock = only(plans["escola"], ADDRESS), FixedClock(datetime(2026, 6, 1, tzinfo=UTC))
    iam = FakeIam([{"AccessKeyId": "FAKE-TEST-OLD-KEY-01", "Status": "Active",
                    "CreateDate": clock.now() - timedelta(days=age)}])
    entries, worst, drift = verify_and_drift(
        plan,
        services(FakeSes({ADDRESS: verified(ADDRESS)}), FakeProgress(), clock, dns=ENDPOINTS, lookups=no_dmarc()),
        VerifyOptions(),
        0,
        iam=iam,
    )
    assert iam.asked == [plan.smtp_user_name] and [e.check.identity for e in entries] == [ADDRESS]
    assert worst == code and set(drift) == {"smtp_key_drift"}
    assert [k.split(" ")[3] for k in drift["smtp_key_drift"]] == (["FAKE-TEST-OLD-KEY-01"] if age > 90 else [])
    _, worst, _ = verify_and_drift(
        plan,
        services(
            FakeSes({ADDRESS: IdentityState(ADDRESS, True, "PENDING")}),
            FakeProgress(),
            clock,
            dns=ENDPOINTS,
            lookups=no_dmarc(),
        ),
        VerifyOptions(),
        0,
        iam=iam,
    )
    assert worst == (Exit.PENDING if age == 90 else Exit.ACTION_NEEDED)


def test_verify_and_drift_without_the_smtp_user_has_no_key_drift(plans):
    class NoUser:
        def list_access_keys(self, UserName):
            raise ClientError({"Error": {"Code": "NoSuchEntity", "Message": "no"}}, "ListAccessKeys")

    plan = only(plans["escola"], ADDRESS)
    _, worst, drift = verify_and_drift(
        plan,
        services(
            FakeSes({ADDRESS: verified(ADDRESS)}), FakeProgress(), FixedClock(), dns=ENDPOINTS, lookups=no_dmarc()
        ),
        VerifyOptions(),
        0,
        iam=NoUser(),
    )
    assert worst == Exit.OK and drift == {"smtp_key_drift": []}
