"""The DMARC part of the preflight (issue 12): a `publish` that meets a record is a conflict naming
`dmarc: keep`; a platform subdomain inherits the platform domain's policy (RFC 7489 6.6.3 step 3),
and a policy of our own weaker than the inherited one is a conflict; alignment follows the record."""

from __future__ import annotations

import dataclasses

import dns.exception
import pytest
from tutormail.aws.ses import IdentityState
from tutormail.cenario1.records import records_for
from tutormail.cenario1.rfc2136_changes import decide
from tutormail.dnsclient.rfc2136 import PublishError
from tutormail.exitcodes import Exit
from tutormail.plan.build import build_plan
from tutormail.plan.loader import load_catalog
from tutormail.preflight.check import check_names
from tutormail.preflight.dmarc import check

from tests.conftest import INSTITUTIONS

PLATFORM_RECORD = "v=DMARC1; p=reject; rua=mailto:dmarc@sistematutor.com.br"


def plan_with(platform_dmarc: str = "inherit", **dns_changes):
    catalog = load_catalog(INSTITUTIONS, only=["instituicao-xy"])
    xy = catalog.institutions["instituicao-xy"]
    changed = dataclasses.replace(xy, platform_dmarc=platform_dmarc, dns=tuple(
        dataclasses.replace(d, **dns_changes) if d.domain == "instituicaoxy.com.br" else d for d in xy.dns))
    return build_plan(changed, catalog.platform)


def fetcher(records: dict[str, list[str]]):
    asked = []

    def fetch(name):
        asked.append(name)
        return records.get(name, [])
    fetch.asked = asked
    return fetch


def test_a_platform_subdomain_inherits_the_platform_policy_and_writes_no_record():
    plan = plan_with()
    sub = plan.identity("instituicao-xy.sistematutor.com.br")
    assert sub.dmarc == "inherit" and not [r for r in plan.records(sub) if r.purpose == "dmarc"]
    found = check(sub, fetcher({"_dmarc.sistematutor.com.br": [PLATFORM_RECORD]}))
    assert (found.mode, found.policy, found.record_name, found.publishes) == (
        "inherit", "reject", "_dmarc.sistematutor.com.br", None)
    assert not found.conflict


@pytest.mark.parametrize(("chosen", "conflict"), [("none", True), ("quarantine", True), ("reject", False)])
def test_a_platform_policy_of_our_own_is_never_weaker_than_the_inherited_one(chosen, conflict):
    sub = plan_with(platform_dmarc=chosen).identity("instituicao-xy.sistematutor.com.br")
    assert sub.dmarc == "publish" and sub.dmarc_policy == chosen
    found = check(sub, fetcher({"_dmarc.sistematutor.com.br": [PLATFORM_RECORD]}))
    assert found.publishes == f"v=DMARC1; p={chosen};"
    assert bool(found.conflict) is conflict
    if conflict:
        assert "remove platform_dmarc" in found.conflict and "6.6.3" in found.conflict


def test_without_an_inherited_policy_our_p_none_weakens_nothing():
    sub = plan_with(platform_dmarc="none").identity("instituicao-xy.sistematutor.com.br")
    assert not check(sub, fetcher({})).conflict


def test_publish_meeting_a_record_already_there_is_a_conflict_naming_keep():
    theirs = '"v=DMARC1; p=reject; rua=mailto:dmarc@instituicaoxy.com.br"'
    action, reason = decide("dmarc", (theirs,), ('"v=DMARC1; p=none;"',), ())
    assert action == "conflict" and "dmarc: keep" in reason and theirs in reason
    action, reason = decide("dmarc", (), ('"v=DMARC1; p=none;"',), ("dmarc.provedor.example.",))
    assert action == "conflict" and "dmarc: keep" in reason
    assert decide("dmarc", ('"v=DMARC1; p=none;"',), ('"v=DMARC1; p=none;"',), ()) == ("nothing", "")
    assert decide("dmarc", ('"google-site-verification=obviously-fake"',), ('"v=DMARC1; p=none;"',), ())[0] == "add"


def test_keep_writes_nothing_and_shows_the_policy_in_force_with_what_alignment_needs():
    plan = plan_with(dmarc="keep")
    own = plan.identity("instituicaoxy.com.br")
    assert not [r for r in plan.records(own) if r.purpose == "dmarc"]
    strict = "v=DMARC1; p=quarantine; aspf=s"
    found = check(own, fetcher({"_dmarc.instituicaoxy.com.br": [strict]}))
    assert (found.mode, found.record, found.policy, found.conflict) == ("keep", strict, "quarantine", "")
    assert "DMARC rests on DKIM alone" in found.alignment and "bounce.instituicaoxy.com.br" in found.alignment
    relaxed = check(own, fetcher({"_dmarc.instituicaoxy.com.br": ["v=DMARC1; p=reject"]}))
    assert "SPF aligns in relaxed mode" in relaxed.alignment
    nothing = check(own, fetcher({}))
    assert nothing.state == "none" and "dmarc: publish writes one" in nothing.note


def test_a_failed_look_up_is_unknown_never_clear_of_a_stronger_policy():
    def failing(name):
        raise dns.exception.Timeout()

    inherited = check(plan_with().identity("instituicao-xy.sistematutor.com.br"), failing)
    assert inherited.state == "unknown" and "could not look up" in inherited.note
    ours = plan_with(platform_dmarc="none").identity("instituicao-xy.sistematutor.com.br")
    with pytest.raises(PublishError, match="could not look up") as raised:
        check(ours, failing)  # whether p=none would weaken the policy in force is unknown: exit 4
    assert raised.value.exit_code == Exit.SERVICE_ERROR


def test_the_stacks_own_record_from_an_earlier_policy_is_updated_never_taken_for_theirs():
    plan = plan_with(dmarc_policy="quarantine")
    own = plan.identity("instituicaoxy.com.br")
    item = records_for(plan, own, IdentityState(own.name, exists=False))
    there = {"_dmarc.instituicaoxy.com.br": ('"v=DMARC1; p=none;"',)}  # what the deployed stack wrote

    def lookup(name, rtype):
        return (there.get(name, ()) if rtype == "TXT" else ()), "Route 53 API"

    def dmarc_action(managed):
        [found] = [c for c in check_names(item, lookup, managed) if c.purpose == "dmarc"]
        return found.action, found.reason

    assert dmarc_action(True)[0] == "change"  # our stack's record set: the deploy updates it
    action, reason = dmarc_action(False)  # nobody's stack: it may be theirs
    assert action == "conflict" and "dmarc: keep" in reason and "change it by hand" in reason


def test_txt_in_presentation_form_is_joined_as_receivers_read_it():
    from tutormail.dnsclient.rdata import txt_text

    assert txt_text('"v=DMARC1; " "p=reject"') == "v=DMARC1; p=reject"
    assert txt_text("v=DMARC1; p=none;") == "v=DMARC1; p=none;"


def test_our_values_with_another_ttl_in_route53_are_a_conflict_before_a_first_deploy():
    """CloudFormation's CREATE takes over only an identical record set, TTL included (issue 23)."""
    from tutormail.dnsclient.rdata import comparable

    plan = plan_with()
    own = plan.identity("instituicaoxy.com.br")
    item = records_for(plan, own, IdentityState(own.name, exists=False))
    [mx] = [r for r in item.records if r.purpose == "mail-from-mx"]
    ttls = {(mx.name, "MX"): mx.ttl}

    def lookup(name, rtype):
        # As Route 53 lists it, compared in normal form (preflight.check.Route53Names)
        return ((comparable("MX", mx.value),) if (name, rtype) == (mx.name, "MX") else ()), "Route 53 API"
    lookup.ttl = lambda name, rtype: ttls.get((name, rtype))

    def mx_check(managed=False):
        [found] = [c for c in check_names(item, lookup, managed) if (c.name, c.type) == (mx.name, "MX")]
        return found

    assert mx_check().action != "conflict"  # identical: the stack takes it over
    ttls[(mx.name, "MX")] = mx.ttl + 60
    found = mx_check()
    assert found.action == "conflict" and f"TTL {mx.ttl + 60}" in found.reason and f"TTL {mx.ttl}" in found.reason
    assert mx_check(managed=True).action != "conflict"  # the deployed stack's own record set: it updates it


def test_another_value_at_a_route53_name_is_a_conflict_where_a_dns_server_would_take_the_change():
    """The stack creates its Route 53 record sets (CREATE fails where one exists) and takes over only
    identical ones, so another value at one of its names fails the deploy; dns-publish (RFC 2136)
    changes the DKIM CNAME and adds beside a TXT that is not SPF instead."""
    from tutormail.dnsclient.rdata import comparable

    plan = plan_with()
    there = {("t1._domainkey.{}", "CNAME"): (comparable("CNAME", "old-token.dkim.amazonses.com"),),
             ("bounce.{}", "TXT"): (comparable("TXT", '"google-site-verification=obviously-fake"'),)}

    def actions(domain, plan=plan):
        identity = plan.identity(domain)
        item = records_for(plan, identity, IdentityState(domain, True, "PENDING", dkim_tokens=("t1", "t2", "t3")))

        def lookup(name, rtype):
            return there.get((name.replace(domain, "{}"), rtype), ()), "asked"

        return {(c.name.replace(domain, "{}"), c.type): (c.action, c.reason) for c in check_names(item, lookup)}

    route53 = actions("instituicaoxy.com.br")
    for name, rtype in there:
        action, reason = route53[(name, rtype)]
        assert action == "conflict" and "is published there and the stack would write" in reason, reason
        assert "the deploy fails (Route 53 CREATE)" in reason and there[(name, rtype)][0] in reason
    assert {a for key, (a, _) in route53.items() if key not in there} == {"add"}
    for other in (actions("uni-xy.edu.br"), actions("instituicaoxy.com.br", plan_with(provider="manual"))):
        assert other[("t1._domainkey.{}", "CNAME")] == ("change", "")
        assert other[("bounce.{}", "TXT")] == ("add", "")
