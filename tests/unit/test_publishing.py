"""`dns-publish` per provider, with the DNS server's side faked: what the server holds (`compare`),
the TSIG key (`load`) and the signed update (`update`). The comparison and the update themselves
are tested against BIND in tests/dns/."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from tutormail.cenario1.publishing import PublishOptions, publish_domain, publish_institution
from tutormail.cenario1.records import DomainRecords, as_rows
from tutormail.dnsclient.resolver import DnsEndpoints
from tutormail.dnsclient.rfc2136 import PublishError
from tutormail.exitcodes import Exit
from tutormail.plan.change import Outcome

from tests.unit.fakes import FakeSes, pending, record_change

REDE = "rede.escolateste.edu.br"
ENDPOINTS = DnsEndpoints(direct_port=5353)  # the port a dns entry without one is asked on
KEY = object()  # what `load` returns is only handed on to `update`


class FakeServer:
    """The RFC 2136 server as publishing sees it: the changes it would need, and the updates sent."""

    def __init__(self, changes, refuse: PublishError | None = None):
        self.changes, self.refuse = changes, refuse
        self.compared, self.loaded, self.updates = [], [], []

    def compare(self, item, address, port):
        self.compared.append((item.identity.name, address, port))
        return self.changes

    def load(self, dns_entry, region, key_file):
        self.loaded.append((dns_entry.server, region, key_file))
        return KEY

    def update(self, domain, changes, key, address, port):
        self.updates.append((domain, changes, key, address, port))
        if self.refuse:
            raise self.refuse

    def seams(self):
        return {"compare": self.compare, "load": self.load, "update": self.update}


def rede(plan):
    identity = plan.identity(REDE)
    return DomainRecords(identity, pending(REDE), plan.records(identity, ("t1", "t2", "t3")))


ADD = record_change("t1._domainkey.rede.escolateste.edu.br", "CNAME", "add", ("t1.dkim.amazonses.com.",), ())
CHANGE = record_change("t2._domainkey.rede.escolateste.edu.br", "CNAME", "change", ("t2.dkim.amazonses.com.",),
                       ("old.",))
SAME = record_change("t3._domainkey.rede.escolateste.edu.br", "CNAME", "nothing", ("t3.dkim.amazonses.com.",),
              ("t3.dkim.amazonses.com.",))
BESIDE = record_change("_dmarc.rede.escolateste.edu.br", "TXT", "nothing", ('"v=DMARC1; p=none;"',),
                ('"v=DMARC1; p=none;"',))
CONFLICT = record_change("mail.rede.escolateste.edu.br", "MX", "conflict", ("10 feedback-smtp.x.",), ("10 mx.other.",),
                  "the name already has MX")


def test_an_update_writes_only_the_record_sets_that_change(plans):
    plan, server = plans["escola"], FakeServer([ADD, CHANGE, SAME, BESIDE])
    entry, code = publish_domain(rede(plan), plan, ENDPOINTS, PublishOptions(), **server.seams())
    assert code == Exit.OK
    assert server.compared == [(REDE, "127.0.0.1", 5353)]
    assert server.loaded == [("127.0.0.1", plan.platform.region, None)]
    assert server.updates == [(REDE, [ADD, CHANGE], KEY, "127.0.0.1", 5353)]
    assert (entry.domain, entry.provider, entry.server) == (REDE, "rfc2136", "127.0.0.1:5353")
    assert entry.result.startswith("updated: 2 record set(s)")
    assert entry.changes[0] == ADD.applied(Outcome.DONE)  # applied: all four carry the one update's outcome
    assert [(c.action, c.outcome) for c in entry.changes] == [
        ("create", "done"), ("update", "done"), ("keep", None), ("keep", None)]


def test_a_dry_run_or_nothing_to_do_sends_no_update(plans, tmp_path):
    plan = plans["escola"]
    server = FakeServer([ADD, SAME])
    entry, code = publish_domain(rede(plan), plan, ENDPOINTS, PublishOptions(dry_run=True), **server.seams())
    assert code == Exit.OK and entry.result.startswith("dry run: 1 record set(s)") and server.updates == []
    assert [c.outcome for c in entry.changes] == [None, None]  # the plan, before any apply
    assert server.loaded == []  # no key is read for a dry run
    server = FakeServer([SAME, BESIDE])
    entry, code = publish_domain(rede(plan), plan, ENDPOINTS, PublishOptions(key_file=tmp_path / "k"), **server.seams())
    assert code == Exit.OK and entry.result.startswith("nothing to do") and server.updates == []
    server = FakeServer([ADD])
    publish_domain(rede(plan), plan, ENDPOINTS, PublishOptions(key_file=tmp_path / "k"), **server.seams())
    assert server.loaded == [("127.0.0.1", plan.platform.region, tmp_path / "k")]


def test_a_conflict_writes_nothing_and_waits_for_a_person(plans, caplog):
    plan, server = plans["escola"], FakeServer([ADD, CONFLICT])
    with caplog.at_level(logging.ERROR, logger="tutormail"):
        entry, code = publish_domain(rede(plan), plan, ENDPOINTS, PublishOptions(), **server.seams())
    assert code == Exit.ACTION_NEEDED and server.updates == [] and server.loaded == []
    assert entry.result == "error: mail.rede.escolateste.edu.br MX: the name already has MX"
    assert [c.action for c in entry.changes] == ["create", "person"]  # what was found is still shown
    assert entry.changes[1].reason == "the name already has MX" and entry.changes[1].found == ("10 mx.other.",)
    assert caplog.messages == [f"{REDE}: mail.rede.escolateste.edu.br MX: the name already has MX"]
    spf = record_change("mail.rede.escolateste.edu.br", "TXT", "conflict", ('"v=spf1 include:amazonses.com ~all"',),
                 ('"v=spf1 -all"',), "another SPF record")
    entry, _ = publish_domain(rede(plan), plan, ENDPOINTS, PublishOptions(), **FakeServer([CONFLICT, spf]).seams())
    assert entry.result == ("error: mail.rede.escolateste.edu.br MX: the name already has MX; "
                            "mail.rede.escolateste.edu.br TXT: another SPF record")


def test_a_refused_update_keeps_the_servers_exit_code(plans, caplog):
    plan, server = plans["escola"], FakeServer([ADD], refuse=PublishError("update REFUSED", Exit.BAD_INPUT))
    with caplog.at_level(logging.ERROR, logger="tutormail"):
        entry, code = publish_domain(rede(plan), plan, ENDPOINTS, PublishOptions(), **server.seams())
    assert code == Exit.BAD_INPUT and entry.result == "error: update REFUSED"
    assert caplog.messages == [f"{REDE}: update REFUSED"]


def test_the_other_providers_name_their_domain(plans):
    plan = plans["escola"]
    for name, provider in (("escolateste.com.br", "route53"), ("manual.escolateste.org.br", "manual")):
        identity = plan.identity(name)
        item = DomainRecords(identity, pending(name), plan.records(identity, ("t1", "t2", "t3")))
        entry, code = publish_domain(item, plan, ENDPOINTS, PublishOptions())
        assert (entry.domain, entry.provider, code) == (name, provider, Exit.OK)
    assert entry.records == as_rows([item]) and entry.changes == []  # dns-publish writes none of them
    assert "tutormail dns-records --format zone" in entry.result


@pytest.mark.parametrize(("refuse", "code"), [(None, Exit.OK), (PublishError("timeout", Exit.SERVICE_ERROR),
                                                                 Exit.SERVICE_ERROR)])
def test_publish_institution_goes_through_every_domain(plans, refuse, code):
    plan = plans["escola"]
    ses = FakeSes({i.name: pending(i.name) for i in plan.identities})
    server = FakeServer([ADD], refuse=refuse)
    entries, worst = publish_institution(plan, ses, ENDPOINTS, PublishOptions(), **server.seams())
    assert [(e.domain, e.provider) for e in entries] == [
        (i.name, i.provider) for i in plan.identities if i.kind == "domain"]
    # the sub-domain identity's records go into its entry's zone: one UPDATE each, both naming REDE's zone
    assert [u[0] for u in server.updates] == [REDE, REDE] and worst == code


def test_the_dry_run_shows_the_changes_the_apply_then_makes(plans):
    """One object: the apply returns the very changes the dry run showed, each with its outcome."""
    plan = plans["escola"]
    dry, _ = publish_domain(rede(plan), plan, ENDPOINTS, PublishOptions(dry_run=True),
                            **FakeServer([ADD, CHANGE, SAME]).seams())
    applied, _ = publish_domain(rede(plan), plan, ENDPOINTS, PublishOptions(),
                                **FakeServer([ADD, CHANGE, SAME]).seams())
    assert [replace(c, outcome=None) for c in applied.changes] == dry.changes
    assert [c.outcome for c in applied.changes] == ["done", "done", None]
