"""Phases 2 and 3 as use cases: which accounts they act on, what is handed to the sender and the
secret reader, and what is recorded afterwards."""

from __future__ import annotations

import dns.exception
import pytest
from tutormail.aws.progress_marks import DMARC_RISK, RELEASED, TESTED
from tutormail.cenario2.dmarc import DmarcLookups
from tutormail.clock import FixedClock, iso
from tutormail.exitcodes import Exit
from tutormail.plan.build import plan_for
from tutormail.plan.loader import load_catalog
from tutormail.tutor_setup.gate import Gate, Hold
from tutormail.tutor_setup.phases import SettingsRelease, phase_test, record_released, release_settings
from tutormail.tutor_setup.send_test import SendResult

from tests.factory import company, institution
from tests.unit.fakes import SECRET, FakeProgress, FakeSes, no_dmarc, services, verified


@pytest.fixture
def ordem(institution_files):
    """An institution whose file lists another account before send-test's default one."""
    catalog = load_catalog(institution_files(ordem=institution("Ordem", companies=[
        company("Ordem", {"news": "news@ordem.com.br", "comunicacao": "contato@ordem.com.br"}),
        company("Outra", {"atendimento": "atendimento@outra.com.br"})])))
    plan = plan_for(catalog, "ordem")
    return plan, FakeSes({i.name: verified(i.name) for i in plan.identities})


class Sender:
    def __init__(self):
        self.calls = []

    def __call__(self, plan, sender, secret, to, host, port, ca_bundle, attempts):
        self.calls.append((plan.slug, sender.company, sender.account, secret, to, host, port, ca_bundle, attempts))
        return SendResult(True, 250, "Ok id", "", "id")


def read_secret_of(plan):
    def read(given):
        assert given is plan
        return SECRET

    return read


@pytest.mark.parametrize(("company_name", "account", "chosen"), [
    (None, None, ("Ordem", "comunicacao")),  # no company: the default account of the first company
    (None, "news", ("Ordem", "news")),
    ("Outra", None, ("Outra", "comunicacao")),  # a company and no account: its first account
    ("Outra", "atendimento", ("Outra", "atendimento")),
])
def test_phase_test_sends_as_the_chosen_account(ordem, company_name, account, chosen):
    plan, ses = ordem
    send, progress, clock = Sender(), FakeProgress(), FixedClock()
    outcome = phase_test(
        plan,
        company_name,
        account,
        "to@example.com.br",
        ("smtp.test", 2587),
        "/ca.pem",
        2,
        services(ses, progress, clock, lookups=no_dmarc()),
        send=send,
        read_secret=read_secret_of(plan),
    )
    assert (outcome.sender.company, outcome.sender.account) == chosen and outcome.gate.open
    assert send.calls == [("ordem", *chosen, SECRET, "to@example.com.br", "smtp.test", 2587, "/ca.pem", 2)]
    assert outcome.endpoint == "smtp.test:2587" and outcome.result.ok
    assert progress.writes == [{TESTED + outcome.sender.address: iso(clock.now())}]


def test_phase_test_refused_by_the_gate_says_where_it_would_have_sent(ordem):
    plan, _ = ordem
    send = Sender()
    outcome = phase_test(
        plan,
        None,
        None,
        "to@example.com.br",
        ("smtp.test", 2587),
        None,
        1,
        services(FakeSes(), FakeProgress(), FixedClock(), lookups=no_dmarc()),
        send=send,
        read_secret=read_secret_of(plan),
    )
    assert send.calls == [] and outcome.result is None and not outcome.gate.open
    assert (outcome.sender.account, outcome.endpoint) == ("comunicacao", "smtp.test:2587")


def test_phase_test_does_not_accept_a_dmarc_risk_unless_asked(ordem):
    plan, ses = ordem
    reject = DmarcLookups(fetch=lambda name: ["v=DMARC1; p=reject"] if name == "_dmarc.ordem.com.br" else [])
    send = Sender()
    outcome = phase_test(
        plan,
        None,
        None,
        "to@example.com.br",
        ("smtp.test", 2587),
        None,
        1,
        services(ses, FakeProgress(), FixedClock(), lookups=reject),
        send=send,
        read_secret=read_secret_of(plan),
    )
    assert send.calls == [] and not outcome.gate.open


def test_release_settings_of_one_account(plans):
    plan = plans["escola"]
    ses, progress = FakeSes({i.name: verified(i.name) for i in plan.identities}), FakeProgress()
    release = release_settings(
        plan,
        "Escola Teste",
        "news",
        False,
        services(ses, progress, FixedClock(), lookups=no_dmarc()),
        read_secret=read_secret_of(plan),
    )
    assert [(s.company, s.account) for s in release.senders] == [("Escola Teste", "news")]
    assert [(r.company, r.account) for r in release.rows] == [("Escola Teste", "news")]
    assert [r.as_dict() for r in release.rules] == [{"company": "Escola Teste", "rule": "avisos",
                                                      "account": "comunicacao"}]


def test_a_refused_release_still_names_its_senders(plans):
    plan = plans["escola"]
    release = release_settings(
        plan,
        "Colégio Teste",
        "comunicacao",
        True,
        services(FakeSes(), FakeProgress(), FixedClock(), lookups=no_dmarc()),
        read_secret=read_secret_of(plan),
    )
    assert [s.address for s in release.senders] == ["contato@colegioteste.com.br"] and release.rows == []


def test_record_released_marks_every_released_sender_with_the_gates_marks(plans):
    plan, clock, progress = plans["escola"], FixedClock(), FakeProgress()
    senders = [s for s in plan.senders if s.company == "Colégio Teste"]
    held = Hold(Exit.PENDING, "pending", "not verified", "wait")
    gate = Gate(checks={s.identity: None for s in senders}, readiness={}, held={senders[1].identity: held},
                marks={DMARC_RISK + "contato@colegioteste.com.br": "accepted"})
    record_released(progress, SettingsRelease(senders, gate), clock)
    # a sender held back (not to configure yet) is not marked released
    assert progress.writes == [{DMARC_RISK + "contato@colegioteste.com.br": "accepted",
                                RELEASED + senders[0].address: iso(clock.now())}]




def failing_at(domain):
    """DMARC look-ups where `domain`'s `_dmarc` name times out (the server hangs) and nothing else has a record."""
    def fetch(name):
        if name == f"_dmarc.{domain}":
            raise dns.exception.Timeout()
        return []

    return DmarcLookups(fetch=fetch)


def test_a_dmarc_look_up_that_failed_keeps_the_gate_shut_for_phase_3(ordem):
    plan, ses = ordem
    send, progress = Sender(), FakeProgress()
    outcome = phase_test(
        plan,
        None,
        None,
        "to@example.com.br",
        ("smtp.test", 2587),
        None,
        1,
        services(ses, progress, FixedClock(), lookups=failing_at("ordem.com.br")),
        send=send,
        read_secret=read_secret_of(plan),
    )
    assert send.calls == [] and outcome.result is None and not outcome.gate.open
    assert outcome.gate.code == Exit.SERVICE_ERROR  # a check that could not run: 4, "run again"
    [problem] = outcome.gate.problems
    assert problem.startswith("contato@ordem.com.br: DMARC unknown: could not look up _dmarc.ordem.com.br")
    assert "tutormail dmarc ordem.com.br" in problem and progress.writes == []


def test_a_dmarc_risk_accepted_while_the_look_up_failed_is_of_an_unknown_policy(ordem, monkeypatch):
    monkeypatch.setattr("tutormail.aws.client.caller", lambda region: "arn:aws:iam::000000000000:user/op")
    plan, ses = ordem
    send, progress, clock = Sender(), FakeProgress(), FixedClock()
    outcome = phase_test(
        plan,
        None,
        None,
        "to@example.com.br",
        ("smtp.test", 2587),
        None,
        1,
        services(ses, progress, clock, lookups=failing_at("ordem.com.br")),
        accept_dmarc_risk=True,
        send=send,
        read_secret=read_secret_of(plan),
    )
    assert outcome.gate.open and len(send.calls) == 1
    assert progress.writes == [{DMARC_RISK + "contato@ordem.com.br":
                                f"{iso(clock.now())} unknown arn:aws:iam::000000000000:user/op",
                                TESTED + "contato@ordem.com.br": iso(clock.now())}]


def test_a_dmarc_risk_accepted_for_one_company_is_recorded_and_counts_for_its_address_only(ordem, monkeypatch):
    """Both companies' domains reject unaligned mail; accepting the risk for Outra's release records
    Outra's address only, and Ordem's blocked addresses stay held (issue 20)."""
    monkeypatch.setattr("tutormail.aws.client.caller", lambda region: "arn:aws:iam::000000000000:user/op")
    plan, ses = ordem
    reject = DmarcLookups(fetch=lambda name: ["v=DMARC1; p=reject"] if name.startswith("_dmarc.") else [])
    progress, clock = FakeProgress(), FixedClock()
    release = release_settings(
        plan,
        "Outra",
        None,
        False,
        services(ses, progress, clock, lookups=reject),
        accept_dmarc_risk=True,
        read_secret=read_secret_of(plan),
    )
    assert "atendimento@outra.com.br" in [s.address for s in release.released] and release.gate.open
    record_released(progress, release, clock)
    assert sorted(k for k in progress.tags if k.startswith(DMARC_RISK)) == [DMARC_RISK + "atendimento@outra.com.br"]
    ordem_release = release_settings(
        plan, "Ordem", None, False, services(ses, progress, clock, lookups=reject), read_secret=read_secret_of(plan)
    )
    assert {h.state for h in ordem_release.gate.held.values()} == {"blocked"}
    assert sorted(ordem_release.gate.held) == ["contato@ordem.com.br", "news@ordem.com.br"]
    assert release_settings(
        plan, "Outra", None, False, services(ses, progress, clock, lookups=reject), read_secret=read_secret_of(plan)
    ).gate.open  # Outra's acceptance stands for it


def test_the_json_of_a_release_lists_the_accounts_ready_and_those_held_with_their_way_out(ordem):
    """`smtp-settings --output json`'s contract: the ready accounts (password masked without --reveal),
    each held account with its company, address, From, state, reason, way out and exit code."""
    plan, ses = ordem
    reject = DmarcLookups(fetch=lambda name: ["v=DMARC1; p=reject"] if name == "_dmarc.ordem.com.br" else [])
    release = release_settings(plan, None, None, False, services(ses, FakeProgress(), FixedClock(), lookups=reject),
                               read_secret=read_secret_of(plan))
    data = release.as_dict("ordem")
    assert list(data) == ["institution", "accounts", "not_ready", "rules"] and data["institution"] == "ordem"
    assert [(a["company"], a["account"], a["password"]) for a in data["accounts"]] == [
        ("Outra", "comunicacao", "********"), ("Outra", "news", "********"), ("Outra", "atendimento", "********")]
    held = data["not_ready"]
    assert [{k: v for k, v in h.items() if k not in ("reason", "way_out")} for h in held] == [
        {"company": "Ordem", "account": "comunicacao", "address": "contato@ordem.com.br",
         "from": '"Ordem" <contato@ordem.com.br>', "state": "blocked", "exit_code": 1},
        {"company": "Ordem", "account": "news", "address": "news@ordem.com.br",
         "from": '"Ordem" <news@ordem.com.br>', "state": "blocked", "exit_code": 1}]
    assert all(h["reason"].startswith("blocked by DMARC: _dmarc.ordem.com.br publishes 'v=DMARC1; p=reject'")
               and "tutormail smtp-settings ordem --reveal --accept-dmarc-risk" in h["way_out"] for h in held)
    assert data["rules"] == []


class Refused535(Sender):
    def __call__(self, *args, **kwargs):
        super().__call__(*args, **kwargs)
        return SendResult(False, 535, "535 Authentication Credentials Invalid", "credentials refused")


@pytest.mark.parametrize(("keys", "inactive"), [
    ([{"AccessKeyId": "FAKEKEYIDFORTESTS001", "Status": "Inactive"}], True),
    ([{"AccessKeyId": "FAKEKEYIDFORTESTS000", "Status": "Active"},
      {"AccessKeyId": "FAKEKEYIDFORTESTS001", "Status": "Inactive"}], True),
    ([{"AccessKeyId": "FAKEKEYIDFORTESTS001", "Status": "Active"}], False),  # still reaching SES: retry later
    ([{"AccessKeyId": "FAKEKEYIDFORTESTS000", "Status": "Inactive"}], False),  # another key is Inactive
    ([], False),
    (None, False),  # IAM could not be read
])
def test_a_535_with_the_secrets_key_inactive_in_iam_needs_a_person_else_it_is_a_service_error(ordem, keys, inactive):
    plan, ses = ordem
    asked, progress = [], FakeProgress()

    def key_states(given):
        asked.append(given.slug)
        return keys

    outcome = phase_test(plan, None, None, "to@example.com.br", ("smtp.test", 2587), None, 1,
                         services(ses, progress, FixedClock(), lookups=no_dmarc()), send=Refused535(),
                         read_secret=read_secret_of(plan), key_states=key_states)
    result = outcome.result
    assert asked == ["ordem"] and progress.writes == [] and not result.ok and result.code == 535
    assert result.key_inactive is inactive
    assert result.exit_code == (Exit.ACTION_NEEDED if inactive else Exit.SERVICE_ERROR)
    if inactive:
        assert result.explanation.startswith("SES refused the credentials (535): the secret's access key is "
                                             "Inactive in IAM")
        assert "Deploy TutorMail-ordem again" in result.explanation
        assert "tutormail smtp-settings ordem --reveal" in result.explanation
        assert result.reply == "535 Authentication Credentials Invalid"
    else:
        assert result.explanation == "credentials refused"


def test_iam_is_asked_for_the_key_only_after_a_535(ordem):
    plan, ses = ordem
    outcome = phase_test(plan, None, None, "to@example.com.br", ("smtp.test", 2587), None, 1,
                         services(ses, FakeProgress(), FixedClock(), lookups=no_dmarc()), send=Sender(),
                         read_secret=read_secret_of(plan), key_states=lambda plan: pytest.fail("IAM asked"))
    assert outcome.result.ok and not outcome.result.key_inactive
