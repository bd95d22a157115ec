"""The pure cores and the use cases of the library, with fakes for AWS and an injected clock."""

from __future__ import annotations

import codecs
import stat
from datetime import timedelta
from functools import partial

import pytest
from tutormail.aws.progress_marks import DMARC_RISK, LINK, RELEASED, TESTED, fleet_marks, secret_tags
from tutormail.aws.ses import IdentityState
from tutormail.catalog.add_company import add_company_to_file
from tutormail.catalog.problems import ConfigurationError
from tutormail.cenario1.check import Finding
from tutormail.cenario1.publishing import PublishOptions, publish_domain
from tutormail.cenario1.records import DomainRecords
from tutormail.cenario2.dmarc import DmarcLookups
from tutormail.clock import FixedClock, iso
from tutormail.dnsclient.rdata import comparable, fqdn, quote_txt, zone_rdata
from tutormail.dnsclient.resolver import DnsEndpoints
from tutormail.dnsclient.rfc2136 import PublishError, parse_key
from tutormail.exitcodes import Exit, UsageError, worst
from tutormail.fleet.status import phase_of, sweep
from tutormail.markdown import markdown_code, markdown_text
from tutormail.plan.build import build_plan, plan_for
from tutormail.plan.loader import CATALOG_CHECKS, load_catalog
from tutormail.tutor_setup.handoff import render_markdown
from tutormail.tutor_setup.phases import phase_test, release_settings
from tutormail.tutor_setup.send_test import SendResult
from tutormail.tutor_setup.smtp_settings import AccountSettings, env_lines, read_smtp_secret, write_private
from tutormail.verification.identity_check import check_identity
from tutormail.verification.verify import VerifyOptions, dns_exit_code, verify_institution
from tutormail.vocabulary import IdentityKind, Provider, Scenario

from tests.factory import company, institution
from tests.unit.fakes import SECRET, FakeProgress, FakeSecrets, FakeSes, no_dmarc, pending, services, verified

# --- build_plan -----------------------------------------------------------------------------------

def test_build_plan_classifies_every_address(plans):
    plan = plans["escola"]
    kinds = {i.name: (i.kind, i.scenario, i.provider) for i in plan.identities}
    assert kinds == {
        "escola.sistematutor.com.br": (IdentityKind.DOMAIN, Scenario.DNS, Provider.ROUTE53),
        "escolateste.com.br": (IdentityKind.DOMAIN, Scenario.DNS, Provider.ROUTE53),
        "rede.escolateste.edu.br": (IdentityKind.DOMAIN, Scenario.DNS, Provider.RFC2136),
        "manual.escolateste.org.br": (IdentityKind.DOMAIN, Scenario.DNS, Provider.MANUAL),
        # a sub-domain of a dns entry: an identity of its own, in the entry's DNS (issue 23)
        "sub.rede.escolateste.edu.br": (IdentityKind.DOMAIN, Scenario.DNS, Provider.RFC2136),
        "contato@colegioteste.com.br": (IdentityKind.EMAIL, Scenario.LINK, None),
    }
    by_account = {(s.company, s.account): s.identity for s in plan.senders}
    assert by_account[("Escola Teste", "news")] == "sub.rede.escolateste.edu.br"
    assert by_account[("Colégio Teste", "news")] == "escola.sistematutor.com.br"  # omitted: platform default
    assert plan.identities[0].is_platform and plan.identities[0].owner == "stack"
    assert {i.name: i.owner for i in plan.identities if i.kind == "domain"}["manual.escolateste.org.br"] == "person"


def test_build_plan_of_an_institution_without_dns_uses_the_platform_default(plans):
    plan = plans["padrao"]
    assert [i.name for i in plan.identities] == ["padrao.sistematutor.com.br"]
    assert {s.address for s in plan.senders} == {"comunicacao@padrao.sistematutor.com.br"}
    assert plan.from_addresses == ("comunicacao@padrao.sistematutor.com.br",)


def test_the_plan_is_the_same_built_twice(plans, institution_files):
    catalog = load_catalog(institution_files(escola=institution("Escola Teste")))
    assert build_plan(catalog.get("escola"), catalog.platform) == build_plan(catalog.get("escola"), catalog.platform)


# --- check_identity -------------------------------------------------------------------------------

def test_check_identity_of_a_domain(plans):
    plan, clock = plans["escola"], FixedClock()
    missing = check_identity(plan, "escolateste.com.br", IdentityState("escolateste.com.br", False), clock, {})
    assert (missing.state, missing.exit_code, missing.verified) == ("missing", Exit.ACTION_NEEDED, False)
    assert "cdk deploy TutorMail-escola" in missing.next_action
    ok = check_identity(plan, "escolateste.com.br", verified("escolateste.com.br"), clock, {})
    assert (ok.state, ok.exit_code, ok.verified) == ("verified", Exit.OK, True)
    waiting = {name: check_identity(plan, name, pending(name), clock, {}) for name in
               ("escolateste.com.br", "rede.escolateste.edu.br", "manual.escolateste.org.br")}
    assert {n: (c.state, c.exit_code, c.actor) for n, c in waiting.items()} == {
        "escolateste.com.br": ("pending", Exit.PENDING, "platform team"),
        "rede.escolateste.edu.br": ("pending", Exit.PENDING, "platform team"),
        "manual.escolateste.org.br": ("pending", Exit.PENDING, "institution")}
    assert "dns-publish escola" in waiting["rede.escolateste.edu.br"].next_action
    failed = check_identity(plan, "escolateste.com.br", IdentityState("escolateste.com.br", True, "FAILED"), clock, {})
    assert failed.state == "failed" and failed.exit_code == Exit.ACTION_NEEDED
    assert f"{plan.platform.dkim_window_hours} h window" in failed.missing


def test_check_identity_of_an_address_follows_the_link_in_time(plans):
    plan, clock, name = plans["escola"], FixedClock(), "contato@colegioteste.com.br"
    state = IdentityState(name, True, "PENDING")
    never = check_identity(plan, name, state, clock, {})
    assert (never.state, never.link_expires_at, never.actor) == ("pending", None, "institution")
    sent = {LINK + name: f"1 {iso(clock.now())}"}
    hours = plan.platform.link_validity_hours
    clock.advance(hours=hours)  # the last instant the link is still valid
    still = check_identity(plan, name, state, clock, sent)
    assert still.state == "pending" and still.link_expires_at == clock.now()
    assert "(0 h 00 min left)" in still.next_action
    clock.advance(seconds=1)
    late = check_identity(plan, name, state, clock, sent)
    assert (late.state, late.exit_code) == ("expired", Exit.ACTION_NEEDED)
    failed = check_identity(plan, name, IdentityState(name, True, "FAILED"), FixedClock(), {})  # no history
    assert failed.state == "expired"


# --- status phases --------------------------------------------------------------------------------

def test_status_phases(plans):
    plan = plans["padrao"]
    sender = plan.senders[0]
    clock = FixedClock()
    check = check_identity(plan, sender.identity, verified(sender.identity), clock, {})
    assert phase_of(plan, sender, check, {})[0] == "1 verified"
    assert phase_of(plan, sender, check, {RELEASED + sender.address: "x"})[:3] == (
        "2 settings released", "the institution fills in Contas de E-mail and runs the phase 3 test", "institution")
    assert phase_of(plan, sender, check, {RELEASED + sender.address: "x", TESTED + sender.address: "x"}) == (
        "3 tested", "none", "platform team", "")
    waiting = check_identity(plan, sender.identity, pending(sender.identity), clock, {})
    assert phase_of(plan, sender, waiting, {TESTED + sender.address: "x"})[0] == "1 pending"


# --- TSIG keys ------------------------------------------------------------------------------------

def test_tsig_key_parsing():
    assert parse_key('{"name": "k", "algorithm": "hmac-sha512", "secret": "c2VjcmV0"}', "f").algorithm == "hmac-sha512"
    assert parse_key('{"name": "k", "secret": "c2VjcmV0"}', "f").algorithm == "hmac-sha256"
    key = parse_key("  chave.teste:HMAC-SHA256.:c2VjcmV0\n", "f")
    assert (key.name, key.algorithm, key.secret) == ("chave.teste", "hmac-sha256", "c2VjcmV0")
    assert "c2VjcmV0" not in repr(key)
    for text in ("", "only-a-name", '{"name": "k"}', "{not json", "[1, 2]", "k:hmac-sha256:not base64!",
                 "k:hmac-nothing:c2VjcmV0", '{"name": 1, "secret": "c2VjcmV0"}', "k::c2VjcmV0"):
        with pytest.raises(PublishError) as caught:
            parse_key(text, "the file x.key")
        assert caught.value.exit_code == Exit.BAD_INPUT and "the file x.key" in str(caught.value)


# --- verify ---------------------------------------------------------------------------------------

def finding(status):
    return Finding("ns1.example.com.br", "127.0.0.1", "x._domainkey.example.com.br", "CNAME", status, ("a.",))


@pytest.mark.parametrize(("statuses", "problem", "code"), [
    ([], None, Exit.OK),
    (["found", "found"], None, Exit.OK),
    (["found", "missing"], None, Exit.PENDING),
    (["missing", "wrong"], None, Exit.ACTION_NEEDED),
    (["wrong", "unreachable"], None, Exit.SERVICE_ERROR),
    (["found", "refused"], None, Exit.SERVICE_ERROR),
    (["found", "servfail"], None, Exit.SERVICE_ERROR),
    (["error"], None, Exit.SERVICE_ERROR),
    # the resolver timed out: nothing was checked, which is never "verified" (issue 20)
    ([], "cannot find the authoritative servers", Exit.SERVICE_ERROR),
    (["found"], "cannot find the authoritative servers", Exit.SERVICE_ERROR),
])
def test_dns_exit_code(statuses, problem, code):
    assert dns_exit_code([finding(s) for s in statuses], problem) == code


def test_worst_orders_the_codes():
    assert worst([]) == Exit.OK
    assert worst([Exit.OK, Exit.PENDING]) == Exit.PENDING
    assert worst([Exit.PENDING, Exit.ACTION_NEEDED]) == Exit.ACTION_NEEDED
    assert worst([Exit.SERVICE_ERROR, Exit.BAD_INPUT, Exit.ACTION_NEEDED]) == Exit.SERVICE_ERROR
    assert worst([Exit.BAD_INPUT, Exit.ACTION_NEEDED]) == Exit.BAD_INPUT


def test_verify_waits_with_a_doubling_back_off_until_the_deadline(plans):
    plan = plans["padrao"]
    name = plan.identities[0].name
    ses, now, slept = FakeSes({name: IdentityState(name, True, "PENDING")}), [0.0], []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    entries, code = verify_institution(
        plan,
        services(ses, FakeProgress(), FixedClock(), dns=DnsEndpoints()),
        VerifyOptions(wait=True),
        100.0,
        monotonic=lambda: now[0],
        sleep=sleep,
    )
    assert code == Exit.PENDING and entries[0].check.state == "pending"
    assert slept == [1, 2, 4, 8, 16, 32]  # the next, 64 s, would end after the deadline
    # Verified, and no DKIM tokens to look for: no DNS question is asked here (no network in unit tests).
    once, no_wait = [], FakeSes({name: IdentityState(name, True, "SUCCESS", True)})
    _, code = verify_institution(
        plan,
        services(no_wait, FakeProgress(), FixedClock(), dns=DnsEndpoints()),
        VerifyOptions(wait=True),
        100.0,
        monotonic=lambda: 0.0,
        sleep=once.append,
    )
    assert once == []


def test_verify_resends_an_expired_link_up_to_the_bound(plans):
    plan = plans["escola"]
    name = "contato@colegioteste.com.br"
    clock = FixedClock()
    sent = iso(clock.now() - timedelta(hours=plan.platform.link_validity_hours + 1))
    ses = FakeSes({name: IdentityState(name, True, "PENDING")})
    progress = FakeProgress({LINK + name: f"2 {sent}"})
    options = VerifyOptions(auto_resend=True, max_resends=3)
    only_email = type(plan)(plan.institution, plan.platform, tuple(i for i in plan.identities if i.kind == "email"),
                            plan.senders)
    entries, code = verify_institution(
        only_email, services(ses, progress, clock, dns=DnsEndpoints(), lookups=no_dmarc()), options, 0
    )
    assert ses.links == [name] and code == Exit.PENDING
    assert progress.tags[LINK + name].startswith(f"3 {sent},{iso(clock.now())}")
    clock.advance(hours=plan.platform.link_validity_hours + 1)
    entries, code = verify_institution(
        only_email, services(ses, progress, clock, dns=DnsEndpoints(), lookups=no_dmarc()), options, 0
    )
    assert ses.links == [name] and code == Exit.ACTION_NEEDED  # three links sent: the bound holds
    assert entries[0].check.state == "expired"


# --- publishing per provider -------------------------------------------------------------------------

def test_publish_decides_by_provider(plans):
    plan = plans["escola"]
    items = {i.name: DomainRecords(i, pending(i.name), plan.records(i, ("t1", "t2", "t3")))
             for i in plan.identities if i.kind == "domain"}
    options = PublishOptions()
    entry, code = publish_domain(items["escolateste.com.br"], plan, DnsEndpoints(), options)
    assert code == Exit.OK and "Route 53" in entry.result and entry.changes == []
    entry, code = publish_domain(items["manual.escolateste.org.br"], plan, DnsEndpoints(), options)
    assert code == Exit.OK and "a person must publish" in entry.result and len(entry.records) >= 3
    rede = plan.identity("rede.escolateste.edu.br")
    unknown = DomainRecords(rede, pending(rede.name, tokens=()), plan.records(rede, None))
    entry, code = publish_domain(unknown, plan, DnsEndpoints(), options)
    assert code == Exit.ACTION_NEEDED and "deploy the stack first" in entry.result


# --- the phase gate ---------------------------------------------------------------------------------

def test_settings_are_released_only_for_verified_senders(plans):
    plan = plans["escola"]
    states = {i.name: verified(i.name) for i in plan.identities if i.kind == "domain"}
    ses, progress, clock = FakeSes(states), FakeProgress(), FixedClock()
    partly = release_settings(
        plan, None, None, True, services(ses, progress, clock, lookups=no_dmarc()), read_secret=lambda _: SECRET
    )
    # readiness is per account: the four verified ones get their settings, the missing one is listed
    assert partly.gate.code == Exit.ACTION_NEEDED and len(partly.rows) == 4
    assert "contato@colegioteste.com.br" not in {r.mailbox.split("<")[1].rstrip(">") for r in partly.rows}
    assert {r.password for r in partly.rows} != {"********"}
    [held] = partly.not_ready
    assert (held.sender.address, held.hold.state) == ("contato@colegioteste.com.br", "missing")
    assert "cdk deploy" in held.hold.way_out and held.as_dict()["exit_code"] == 1
    assert [s.address for s in partly.released] == [r.mailbox.split("<")[1].rstrip(">") for r in partly.rows]
    masked = release_settings(
        plan, None, None, False, services(ses, progress, clock, lookups=no_dmarc()), read_secret=lambda _: SECRET
    )
    assert {r.password for r in masked.rows} == {"********"} and len(masked.rows) == 4
    assert [e.sender.address for e in masked.not_ready] == ["contato@colegioteste.com.br"]
    one = release_settings(
        plan,
        "Escola Teste",
        "comunicacao",
        True,
        services(ses, progress, clock, lookups=no_dmarc()),
        read_secret=lambda _: SECRET,
    )
    assert one.rows[0].password.startswith("B") and one.rows[0].password != "********"
    assert progress.writes == []  # recording is the caller's, after the settings are out
    assert [tuple(r.as_dict().values()) for r in one.rules] == [("Escola Teste", "avisos", "comunicacao")]


def test_phase_test_sends_only_for_a_verified_sender_and_records_only_an_acceptance(plans):
    plan = plans["padrao"]
    name = plan.identities[0].name
    sent = []

    def send(plan_, sender, secret, to, host, port, ca_bundle, attempts):
        sent.append((sender.address, to, host, port))
        return SendResult(to != "refused@example.com.br", 250 if to != "refused@example.com.br" else 554, "", "")

    progress, clock = FakeProgress(), FixedClock()
    waiting = phase_test(
        plan,
        None,
        None,
        "a@example.com.br",
        ("localhost", 2525),
        None,
        1,
        services(FakeSes({name: pending(name)}), progress, clock, lookups=no_dmarc()),
        send=send,
        read_secret=lambda _: SECRET,
    )
    assert waiting.result is None and sent == [] and progress.writes == []
    ses = FakeSes({name: verified(name)})
    refused = phase_test(
        plan,
        None,
        None,
        "refused@example.com.br",
        ("localhost", 2525),
        None,
        1,
        services(ses, progress, clock, lookups=no_dmarc()),
        send=send,
        read_secret=lambda _: SECRET,
    )
    assert refused.result is not None and not refused.result.ok and progress.writes == []
    ok = phase_test(
        plan,
        None,
        None,
        "a@example.com.br",
        ("localhost", 2525),
        None,
        1,
        services(ses, progress, clock, lookups=no_dmarc()),
        send=send,
        read_secret=lambda _: SECRET,
    )
    assert ok.result.ok and ok.endpoint == "localhost:2525"
    assert progress.writes == [{TESTED + "comunicacao@padrao.sistematutor.com.br": iso(clock.now())}]
    # send-test's JSON contract, in its table's order.
    assert list(ok.as_dict("padrao", "a@example.com.br").items()) == [
        ("institution", "padrao"), ("company", ok.sender.company), ("account", "comunicacao"),
        ("from", ok.sender.mailbox), ("to", "a@example.com.br"), ("endpoint", "localhost:2525"), ("accepted", True),
        ("smtp_code", 250), ("server_reply", ""), ("explanation", ""), ("message_id", None)]
    with pytest.raises(ValueError, match="gate was shut"):
        waiting.as_dict("padrao", "a@example.com.br")


def reject_at(domain):
    """DMARC look-ups where `domain` publishes p=reject and nothing else has a record."""
    return DmarcLookups(fetch=lambda name: ["v=DMARC1; p=reject"] if name == f"_dmarc.{domain}" else [])


def test_a_sibling_blocked_by_dmarc_holds_back_only_itself(plans, monkeypatch):
    """Readiness is per account (issue 21): one company's blocked address no longer keeps the
    institution's other accounts from their settings, and an acceptance is of the address chosen."""
    monkeypatch.setattr("tutormail.aws.client.caller", lambda region: "arn:aws:iam::000000000000:user/op")
    plan = plans["escola"]
    ses = FakeSes({i.name: verified(i.name) for i in plan.identities})
    progress, clock = FakeProgress(), FixedClock()
    one = release_settings(
        plan,
        "Escola Teste",
        "comunicacao",
        True,
        services(ses, progress, clock, lookups=reject_at("colegioteste.com.br")),
        read_secret=lambda _: SECRET,
    )
    assert one.gate.code == Exit.OK and one.rows[0].password != "********" and one.not_ready == []
    every = release_settings(
        plan,
        None,
        None,
        True,
        services(ses, progress, clock, lookups=reject_at("colegioteste.com.br")),
        read_secret=lambda _: SECRET,
    )
    assert every.gate.code == Exit.ACTION_NEEDED and len(every.rows) == 4
    [held] = every.not_ready
    assert (held.sender.address, held.hold.state) == ("contato@colegioteste.com.br", "blocked")
    assert "--accept-dmarc-risk" in held.hold.way_out and "blocked by DMARC" in held.hold.reason
    # accepting the risk while asking for another company's account records nothing for this address
    other = release_settings(
        plan,
        "Escola Teste",
        None,
        True,
        services(ses, progress, clock, lookups=reject_at("colegioteste.com.br")),
        accept_dmarc_risk=True,
        read_secret=lambda _: SECRET,
    )
    assert other.gate.marks == {}
    accepted = release_settings(
        plan,
        "Colégio Teste",
        "comunicacao",
        True,
        services(ses, progress, clock, lookups=reject_at("colegioteste.com.br")),
        accept_dmarc_risk=True,
        read_secret=lambda _: SECRET,
    )
    assert accepted.gate.open and accepted.rows[0].password != "********"
    assert list(accepted.gate.marks) == [DMARC_RISK + "contato@colegioteste.com.br"]
    assert progress.writes == []  # recorded by the caller once the settings are out


def test_a_dmarc_acceptance_is_recorded_only_with_a_test_ses_accepted(plans, monkeypatch):
    monkeypatch.setattr("tutormail.aws.client.caller", lambda region: "arn:aws:iam::000000000000:user/op")
    plan = plans["escola"]
    ses = FakeSes({i.name: verified(i.name) for i in plan.identities})
    progress, clock = FakeProgress(), FixedClock()
    replies = iter([SendResult(False, None, "", "no answer"), SendResult(True, 250, "Ok id", "", "id")])

    def send(*args, **kwargs):
        return next(replies)

    args = ("Colégio Teste", "comunicacao", "a@example.com.br", ("localhost", 2525), None, 1,
            services(ses, progress, clock, lookups=reject_at("colegioteste.com.br")))
    failed = phase_test(plan, *args, accept_dmarc_risk=True, send=send, read_secret=lambda _: SECRET)
    assert failed.result is not None and not failed.result.ok and progress.writes == []
    ok = phase_test(plan, *args, accept_dmarc_risk=True, send=send, read_secret=lambda _: SECRET)
    assert ok.result.ok
    [written] = progress.writes
    assert set(written) == {DMARC_RISK + "contato@colegioteste.com.br", TESTED + "contato@colegioteste.com.br"}


def test_offline_status_never_advises_releasing_an_unchecked_cenario2_sender(institution_files):
    catalog = load_catalog(institution_files(escola=institution(
        "Escola", companies=[company("Escola", {"comunicacao": "contato@colegioteste.com.br"})])))

    class ListingSes:
        def statuses(self):
            return {"contato@colegioteste.com.br": "SUCCESS"}

    class Store:
        def fleet(self):
            return {"escola": {"tutormail:migrated": "2026-01-01T00:00:00Z"}}

        def put(self, marks):
            raise AssertionError("nothing to migrate")

    rows, _ = sweep(catalog, ["escola"], services(ListingSes(), fleet_marks=partial(fleet_marks, store=Store())),
                    dns_checks=False)
    [row] = [r for r in rows if r.address == "contato@colegioteste.com.br"]
    assert row.phase == "1 verified (DMARC not checked)" and "--reveal" not in row.next_action


# --- exact output -----------------------------------------------------------------------------------

def test_env_names_are_unique_or_refused():
    def row(company):
        return AccountSettings(company, "news", mailbox="f", smtp="h", port=587, user="u", password="p",
                               verified=True, missing=None, rules=[])

    lines = env_lines([row("Escola A"), row("B")])
    assert len(lines) == len(set(lines)) == 14
    with pytest.raises(UsageError) as caught:
        env_lines([row("Escola Á"), row("Escola A")])
    assert "TUTOR_SMTP_ESCOLA_A_NEWS" in str(caught.value) and caught.value.exit_code == Exit.BAD_INPUT


def test_markdown_escaping():
    assert markdown_text("A | B <script>*x*</script> [l](u) & #1") == \
        "A \\| B \\<script\\>\\*x\\*\\</script\\> \\[l\\](u) \\& \\#1"
    assert markdown_code('"A|B" <a@b.br>') == '` "A\\|B" <a@b.br> `'
    assert markdown_code("x `y` z").startswith("`` ")


def test_handoff_markdown_keeps_columns_with_hostile_names(institution_files):
    directory = institution_files(hostil=institution("Escola | <b>Hostil</b>", companies=[
        company("Empresa | Um", {"comunicacao": {"email": "comunicacao@hostil.sistematutor.com.br",
                                                 "display_name": "Nome | com `crase`"}})]))
    catalog = load_catalog(directory)
    text = render_markdown(plan_for(catalog, "hostil"))
    assert "# Configuração de e-mail no Tutor: Escola \\| \\<b\\>Hostil\\</b\\>" in text
    assert "### Empresa: Empresa \\| Um" in text
    for line in text.splitlines():
        if line.startswith("| comunicacao"):
            assert line.replace("\\|", "").count("|") == 9  # eight cells: no column shifted


@pytest.mark.parametrize(("name", "bom", "newline"), [("escola.yml", False, "\n"), ("escola.yaml", True, "\r\n"),
                                                      ("escola.yaml", False, "\r\n")])
def test_add_company_keeps_the_files_name_bom_and_line_endings(institution_files, name, bom, newline):
    directory = institution_files(escola=institution("Escola Teste"))
    text = (directory / "escola.yaml").read_text().replace("\n", newline)
    (directory / "escola.yaml").unlink()
    (directory / name).write_bytes((codecs.BOM_UTF8 if bom else b"") + text.encode())
    path, diff = add_company_to_file(load_catalog(directory), "escola", "Escola Teste", "Colégio Novo",
                                     checks=CATALOG_CHECKS)
    assert path.name == name and sorted(p.name for p in directory.iterdir()) == sorted([name, "platform.yaml"])
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8) == bom
    body = raw.decode("utf-8-sig")
    assert "Colégio Novo" in body and "+  - name: Colégio Novo" in diff
    assert body.count("\r\n") == (body.count("\n") if newline == "\r\n" else 0)
    assert load_catalog(directory).get("escola").companies[-1].name == "Colégio Novo"


# --- record data, the secret, private files, the fleet's reads ---------------------------------------

def test_record_data_in_zone_form_and_compared():
    assert fqdn("a.example.com.br") == "a.example.com.br." and fqdn("a.example.com.br.") == "a.example.com.br."
    assert quote_txt('v=spf1 "x" \\ y') == '"v=spf1 \\"x\\" \\\\ y"'
    assert zone_rdata("CNAME", "t.dkim.amazonses.com") == "t.dkim.amazonses.com."
    assert zone_rdata("MX", "10 feedback-smtp.us-east-1.amazonses.com") == "10 feedback-smtp.us-east-1.amazonses.com."
    assert zone_rdata("TXT", "v=DMARC1; p=none") == '"v=DMARC1; p=none"'
    assert zone_rdata("TXT", '"already quoted"') == '"already quoted"'
    assert zone_rdata("A", "192.0.2.1") == "192.0.2.1"
    assert comparable("CNAME", "T.Dkim.AmazonSES.com") == "t.dkim.amazonses.com."
    assert comparable("MX", "10 Feedback.Example.com") == "10 feedback.example.com."
    assert comparable("NS", "NS1.Example.com.") == "ns1.example.com."
    assert comparable("TXT", "V=DMARC1") == '"V=DMARC1"'  # TXT keeps its case


def test_read_smtp_secret(plans):
    plan = plans["padrao"]
    client = FakeSecrets('{"access_key_id": "FAKEKEYIDFORTESTS001", "secret_access_key": "x", "key_generation": 2}')
    secret = read_smtp_secret(plan, client)
    assert client.asked == ["tutormail/padrao/smtp"]
    assert (secret.access_key_id, secret.region, secret.key_generation) == ("FAKEKEYIDFORTESTS001", "us-east-1", 2)
    assert "secret_access_key=***" in repr(secret) and "'x'" not in repr(secret)
    other = read_smtp_secret(plan, FakeSecrets('{"access_key_id": "K", "secret_access_key": "x", '
                                               '"region": "sa-east-1"}'))
    assert (other.region, other.key_generation) == ("sa-east-1", 1)


def test_write_private(tmp_path):
    target = tmp_path / "sub" / "settings.env"
    write_private(target, "SENHA=x\n")
    assert target.read_text() == "SENHA=x\n" and stat.S_IMODE(target.stat().st_mode) == 0o600
    target.chmod(0o644)
    write_private(target, "SENHA=y\n")  # replaced by a new 0600 file
    assert target.read_text() == "SENHA=y\n" and stat.S_IMODE(target.stat().st_mode) == 0o600
    with pytest.raises(ConfigurationError):
        write_private(tmp_path, "x")


def test_secret_tags_reads_every_page():
    client = FakeSecrets(pages=[
        {"SecretList": [{"Name": "tutormail/a/smtp", "Tags": [{"Key": "k", "Value": "v"}]},
                        {"Name": "tutormail/b/smtp"}]},
        {"SecretList": [{"Name": "tutormail/c/smtp",
                         "Tags": [{"Key": "x", "Value": "1"}, {"Key": "y", "Value": "2"}]}]},
    ])
    assert secret_tags(client) == {"tutormail/a/smtp": {"k": "v"}, "tutormail/b/smtp": {},
                                   "tutormail/c/smtp": {"x": "1", "y": "2"}}
    assert client.asked == [{"Filters": [{"Key": "name", "Values": ["tutormail/"]}],
                             "PaginationConfig": {"PageSize": 100}}]


def test_sweep_rows_and_code(plans, institution_files):
    catalog = load_catalog(institution_files(padrao=institution("Padrão"), escola=institution(
        "Escola", companies=[company("Escola", {"comunicacao": "contato@colegioteste.com.br"})])))

    class ListingSes:
        def statuses(self):
            return {"padrao.sistematutor.com.br": "SUCCESS", "escola.sistematutor.com.br": "SUCCESS",
                    "contato@colegioteste.com.br": "PENDING"}

    address = "comunicacao@padrao.sistematutor.com.br"
    client = FakeSecrets(pages=[{"SecretList": [{"Name": "tutormail/padrao/smtp",
                                                 "Tags": [{"Key": RELEASED + address, "Value": "t"}]}]}])
    class EmptyStore:  # a progress table nobody wrote yet: the secret's tags are migrated into it
        def __init__(self):
            self.written = {}

        def fleet(self):
            return {}

        def put(self, marks):
            self.written.update(marks)

    store = EmptyStore()
    found = services(ListingSes(), fleet_marks=partial(fleet_marks, store=store, secrets_client=client))
    rows, code = sweep(catalog, ["escola", "padrao"], found, dns_checks=False)
    assert RELEASED + address in store.written["padrao"]
    by = {(r.institution, r.account): r for r in rows}
    assert code == Exit.PENDING
    assert by[("padrao", "comunicacao")].phase == "2 settings released"
    # news sends from the same default address: the mark is the address's
    assert by[("padrao", "news")].phase == "2 settings released" and by[("padrao", "news")].scenario == 1
    link = by[("escola", "comunicacao")]
    assert (link.phase, link.scenario, link.state, link.dmarc_warning) == ("1 pending", 2, "pending", None)
    assert [r.institution for r in rows] == ["escola", "escola", "padrao", "padrao"]


@pytest.mark.parametrize(("held", "problem"), [
    (['"v=DMARC1; p=quarantine; rua=mailto:d@x.com.br"'], ""),
    (['"v=DMARC1; p=reject"'], ""),  # theirs and stronger: kept
    (['"v=DMARC1; p=none"'], "holds p=none, weaker than the file's p=quarantine"),
    (['"v=DMARC1; p=quarantine; pct=10"'], "holds p=quarantine pct=10, weaker"),
    (['"v=DMARC1; rua=mailto:d@x.com.br"'], "holds p=(none valid), weaker"),
    (['"v=DMARC1; p=reject"', '"v=DMARC1; p=quarantine"'], "2 DMARC records, so receivers apply none"),
])
def test_a_dmarc_record_weaker_than_the_file_declares_is_named(held, problem):
    from tutormail.cenario1.check import dmarc_weakened

    found = dmarc_weakened("_dmarc.x.com.br", ('"v=DMARC1; p=quarantine;"',), tuple(held))
    assert (problem in found) if problem else found == ""
    if problem:
        assert "_dmarc.x.com.br" in found


def test_policy_strength_order():
    from tutormail.cenario1.check import weaker

    assert weaker("none", "quarantine") and weaker("quarantine", "reject") and weaker(None, "none")
    assert not weaker("reject", "quarantine") and not weaker("NONE", "none") and weaker("bogus", "none")


@pytest.mark.parametrize(("held", "status"), [
    ('"v=DMARC1; rua=mailto:d@x.com.br"', "wrong"),  # weakened at the server: no valid p= (issue 20)
    ('"v=DMARC1; p=reject"', "found"),  # theirs and stronger: kept, passes
])
def test_check_domain_calls_a_weakened_dmarc_record_wrong_not_found(plans, monkeypatch, held, status):
    """The DNS part of verify and drift, the servers faked: a _dmarc record that is there but weaker
    than the file's policy is "wrong" (exit 1), not "found" because some DMARC record answered."""
    from tutormail.aws.ses import IdentityState
    from tutormail.cenario1 import check
    from tutormail.cenario1.records import records_for
    from tutormail.dnsclient.resolver import Answer, DnsEndpoints

    plan = plans["escola"]
    identity = next(i for i in plan.identities if i.name == "escolateste.com.br")
    item = records_for(plan, identity, IdentityState(identity.name, True, "SUCCESS", True,
                                                     dkim_tokens=("t1", "t2", "t3")))
    [dmarc] = [r for r in item.records if r.purpose == "dmarc"]
    wanted = item.record_sets()
    monkeypatch.setattr(check, "zone_of", lambda name, endpoints: "escolateste.com.br")
    monkeypatch.setattr(check, "authoritative_servers", lambda zone, endpoints: [("ns1.x", "192.0.2.1")])
    monkeypatch.setattr(check, "ask", lambda address, name, rtype, port=53, timeout=None: Answer(
        "ok", (held,) if (name, rtype) == (dmarc.name, dmarc.type) else tuple(wanted[(name, rtype)])))
    findings, problem = check.check_domain(item, DnsEndpoints())
    [found] = [f for f in findings if f.record == dmarc.name]
    assert problem is None and found.status == status
    assert ("weaker than the file's" in found.detail) == (status == "wrong")
    assert {f.status for f in findings if f.record != dmarc.name} == {"found"}
