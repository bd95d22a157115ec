"""Cenário 2's verification link: its history, when it expires, and when a new one may be asked for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tutormail.aws.progress_marks import LINK
from tutormail.aws.ses import IdentityState
from tutormail.cenario2 import link_requests
from tutormail.cenario2.links import HISTORY_KEPT, LinkRefused, LinkState, link_state, request_link
from tutormail.clock import FixedClock, iso
from tutormail.exitcodes import Exit
from tutormail.plan.build import plan_for
from tutormail.plan.loader import load_catalog

from tests.conftest import INSTITUTIONS
from tests.unit.fakes import FakeProgress, FakeSes, no_dmarc, pending, verified

ADDRESS = "contato@colegioteste.com.br"
ADDRESS_XY = "contato@colegioxy.com.br"  # instituicao-xy's Cenário 2 address


def test_the_state_comes_from_the_last_sending_time():
    clock = FixedClock()
    first, last = clock.now() - timedelta(hours=30), clock.now() - timedelta(hours=2)
    state = link_state({LINK + ADDRESS: f"2 {iso(first)},{iso(last)}"}, ADDRESS, 24)
    assert state == LinkState(last, last + timedelta(hours=24), 2, (iso(first), iso(last)))
    assert link_state({}, ADDRESS, 24) == LinkState(None, None, 0, ())
    assert link_state({LINK + ADDRESS: ""}, ADDRESS, 24) == LinkState(None, None, 0, ())  # an empty mark: none sent


def test_a_link_is_valid_up_to_its_expiry_instant_inclusive():
    clock = FixedClock()
    state = LinkState(clock.now(), clock.now() + timedelta(hours=1), 1, (iso(clock.now()),))
    assert state.valid_at(clock.now() + timedelta(hours=1))
    assert not state.valid_at(clock.now() + timedelta(hours=1, seconds=1))
    assert not LinkState(None, None, 0, ()).valid_at(clock.now())  # never sent: nothing is valid


def test_a_new_link_is_refused_while_the_last_is_valid_unless_forced():
    clock, ses = FixedClock(), FakeSes()
    sent = clock.now() - timedelta(hours=1)
    progress = {LINK + ADDRESS: f"1 {iso(sent)}"}
    with pytest.raises(LinkRefused) as refused:
        request_link(ses, progress, ADDRESS, 24, clock)
    message = str(refused.value)
    assert iso(sent) in message and iso(sent + timedelta(hours=24)) in message and "--force" in message
    assert ses.links == []
    state, tag = request_link(ses, progress, ADDRESS, 24, clock, force=True)
    assert ses.links == [ADDRESS]
    assert state == LinkState(clock.now(), clock.now() + timedelta(hours=24), 2, (iso(sent), iso(clock.now())))
    assert tag == {LINK + ADDRESS: f"2 {iso(sent)},{iso(clock.now())}"}


def test_an_expired_or_never_sent_link_is_sent_again_without_force():
    clock, ses = FixedClock(), FakeSes()
    state, tag = request_link(ses, {}, ADDRESS, 24, clock)
    assert state == LinkState(clock.now(), clock.now() + timedelta(hours=24), 1, (iso(clock.now()),))
    clock.advance(hours=24, seconds=1)
    state, tag = request_link(ses, tag, ADDRESS, 24, clock)
    assert ses.links == [ADDRESS, ADDRESS] and state.count == 2 and state.sent_at == clock.now()


def test_the_history_keeps_the_last_sending_times_only():
    clock = FixedClock()
    times = [iso(clock.now() - timedelta(days=n)) for n in range(HISTORY_KEPT + 4, 1, -1)]
    state, tag = request_link(FakeSes(), {LINK + ADDRESS: f"{len(times)} {','.join(times)}"}, ADDRESS, 24, clock)
    assert state.history == (*times[-(HISTORY_KEPT - 1):], iso(clock.now()))
    assert len(state.history) == HISTORY_KEPT and state.count == len(times) + 1
    assert tag[LINK + ADDRESS] == f"{len(times) + 1} {','.join(state.history)}"


@pytest.mark.parametrize(("state", "result", "code"), [
    (IdentityState(ADDRESS_XY, exists=False), "not in SES: deploy TutorMail-instituicao-xy first",
     Exit.ACTION_NEEDED),
    (verified(ADDRESS_XY), "already verified: no link needed", Exit.OK)])
def test_request_link_without_a_link_mailed_shows_no_link_fields(monkeypatch, state, result, code):
    monkeypatch.setattr(link_requests, "DmarcLookups", lambda endpoints: no_dmarc())
    plan = plan_for(load_catalog(INSTITUTIONS, only=["instituicao-xy"]), "instituicao-xy")
    found = link_requests.request_links(plan, FakeSes({state.name: state}), FakeProgress(), FixedClock(), None,
                                        None, None)
    assert found.exit_code == code
    assert found.as_dict() == {"institution": "instituicao-xy", "links": [
        {"identity": ADDRESS_XY, "result": result, "sent": False}]}


def test_request_link_shows_the_link_mailed_its_expiry_and_the_recorded_count(monkeypatch):
    monkeypatch.setattr(link_requests, "DmarcLookups", lambda endpoints: no_dmarc())
    plan = plan_for(load_catalog(INSTITUTIONS, only=["instituicao-xy"]), "instituicao-xy")
    clock, earlier = FixedClock(), iso(FixedClock().now() - timedelta(days=3))
    found = link_requests.request_links(plan, FakeSes({ADDRESS_XY: pending(ADDRESS_XY)}),
                                        FakeProgress({LINK + ADDRESS_XY: f"1 {earlier}"}), clock, None, None, None)
    expires = iso(clock.now() + timedelta(hours=plan.platform.link_validity_hours))
    assert found.exit_code == Exit.PENDING
    assert found.as_dict()["links"] == [{
        "identity": ADDRESS_XY, "sent": True, "sent_at": iso(clock.now()), "expires_at": expires, "links_sent": 2,
        "dmarc_warning": None, "result": f"SES mailed a new link to {ADDRESS_XY}; it must be opened before {expires}"}]
