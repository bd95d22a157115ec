"""The readiness rules of verification/deliverability.py on verdicts made by hand (DNS is tested on BIND in
tests/cenario2/test_dmarc_policy.py)."""

from __future__ import annotations

import pytest
from tutormail.aws.progress_marks import DMARC_RISK
from tutormail.cenario2.dmarc import DmarcVerdict, judge
from tutormail.exitcodes import Exit
from tutormail.plan.build import plan_for
from tutormail.plan.loader import load_catalog
from tutormail.tutor_setup.handoff import render_markdown
from tutormail.verification.deliverability import Acceptance, deliverability, readiness_code
from tutormail.verification.identity_check import IdentityCheck

from tests.conftest import INSTITUTIONS
from tests.factory import company, institution

ADDRESS = "contato@colegioxy.com.br"


@pytest.fixture(scope="module")
def plan():
    return plan_for(load_catalog(INSTITUTIONS), "instituicao-xy")


def verdicts(record: str) -> dict[str, DmarcVerdict]:
    return {"colegioxy.com.br": judge("colegioxy.com.br", [record])}


def test_blocked_until_accepted_and_a_stricter_policy_needs_a_new_acceptance(plan):
    quarantine = verdicts("v=DMARC1; p=quarantine")
    blocked = deliverability(plan, ADDRESS, 2, quarantine, {})
    assert blocked.state == "blocked" and blocked.exit_code == Exit.ACTION_NEEDED
    assert "--accept-dmarc-risk" in blocked.way_out and "comunicacao@instituicao-xy.sistematutor.com.br" in \
        blocked.way_out
    mark = {DMARC_RISK + ADDRESS: Acceptance("2026-01-05T12:00:00Z", "quarantine", "arn:aws:iam::1:user/ana").as_mark()}
    accepted = deliverability(plan, ADDRESS, 2, quarantine, mark)
    assert accepted.state == "accepted" and accepted.exit_code == Exit.OK
    assert accepted.as_dict()["accepted_by"] == "arn:aws:iam::1:user/ana"
    assert deliverability(plan, ADDRESS, 2, verdicts("v=DMARC1; p=reject"), mark).state == "blocked"


def test_cenario1_is_aligned_and_offline_is_never_ready(plan):
    assert deliverability(plan, "instituicaoxy.com.br", 1, None, {}).state == "ready"
    assert deliverability(plan, ADDRESS, 2, None, {}).state == "unchecked"


def test_a_pending_sender_keeps_its_code_a_verified_one_gets_the_dmarc_one(plan):
    blocked = deliverability(plan, ADDRESS, 2, verdicts("v=DMARC1; p=reject"), {})
    pending = IdentityCheck(ADDRESS, 2, "pending", False, "link", "open it", "institution")
    verified = IdentityCheck(ADDRESS, 2, "verified", True, "", "", "platform team")
    assert readiness_code(pending, blocked) == Exit.PENDING
    assert readiness_code(verified, blocked) == Exit.ACTION_NEEDED
    unknown = deliverability(plan, ADDRESS, 2, {"colegioxy.com.br": DmarcVerdict("colegioxy.com.br", "unknown")}, {})
    assert readiness_code(verified, unknown) == Exit.SERVICE_ERROR


def test_acceptance_tag_keeps_to_what_secrets_manager_allows():
    tag = Acceptance("2026-01-05T12:00:00Z", "reject", "arn:aws:sts::1:assumed-role/ci/run,42#x" + "y" * 300).as_mark()
    assert len(tag) <= 256 and "," not in tag and "#" not in tag
    assert Acceptance.parse(tag).policy == "reject"


def test_handoff_explains_each_blocked_account_with_both_ways_out(plan):
    text = render_markdown(plan, verdicts("v=DMARC1; p=quarantine"))
    assert "Empresa Colégio XY, conta comunicacao (contato@colegioxy.com.br)" in text
    assert "caixa de spam" in text and "três registros CNAME" in text and "Usar outro endereço" in text
    assert "não devem ser configuradas" not in render_markdown(plan, verdicts("v=DMARC1; p=none"))


def test_a_blocked_account_is_left_out_of_the_fill_in_table_and_listed_in_its_own_section(plan):
    """Issue 21: an account not to configure yet is not in the table people copy from."""
    text = render_markdown(plan, verdicts("v=DMARC1; p=reject"))
    tables, _, section = text.partition("## Contas que ainda não devem ser configuradas")
    assert section and "contato@colegioxy.com.br" in section
    assert "contato@colegioxy.com.br" not in tables
    assert "| news | ` \"Colégio XY\" <comunicacao@instituicao-xy.sistematutor.com.br> ` |" in tables
    unreadable = render_markdown(plan, verdicts("v=DMARC1; p=reject; pct=\u00b2"))
    assert "não pode ser lido" in unreadable and "contato@colegioxy.com.br" not in unreadable.partition(
        "## Contas que ainda")[0]
    ready = render_markdown(plan, verdicts("v=DMARC1; p=none"))
    assert "| comunicacao | ` \"Colégio XY\" <contato@colegioxy.com.br> ` |" in ready


def test_a_cenario2_sender_at_p_none_is_ready_not_aligned_and_the_handoff_says_what_it_means(plan):
    none = verdicts("v=DMARC1; p=none")
    ready = deliverability(plan, ADDRESS, 2, none, {})
    assert (ready.state, ready.summary, ready.aligned) == ("ready", "ready, not aligned", False)
    assert "5,000 messages a day" in ready.alignment and "Cenário 1" in ready.alignment
    assert ready.as_dict()["aligned"] is False and ready.exit_code == Exit.OK
    aligned = deliverability(plan, "instituicaoxy.com.br", 1, none, {})
    assert (aligned.summary, aligned.aligned, aligned.alignment) == ("ok", True, None)
    text = render_markdown(plan, none)
    section = text.partition("## Contas prontas, mas sem alinhamento DMARC")[2]
    assert "contato@colegioxy.com.br" in section and "5.000 mensagens por dia" in section
    assert "Gmail e o Yahoo" in section and "três registros CNAME" in section
    assert "sem alinhamento" not in render_markdown(plan, verdicts("v=DMARC1; p=reject"))


def test_a_news_account_at_a_cenario2_address_is_told_it_is_the_bulk_one(institution_files):
    directory = institution_files(noticias=institution("Escola Noticias", companies=[company(
        "Escola", {"comunicacao": "contato@colegionews.com.br", "news": "contato@colegionews.com.br"})]))
    plan = plan_for(load_catalog(directory), "noticias")
    text = render_markdown(plan, {"colegionews.com.br": judge("colegionews.com.br", [])})
    section = text.partition("## Contas prontas, mas sem alinhamento DMARC")[2]
    assert "conta news (contato@colegionews.com.br)" in section and "Esta é uma conta News" in section


def test_the_handoff_shows_a_recorded_acceptance_as_the_readiness_does(plan):
    """A blocked account whose risk was accepted for the policy there now is released by the gate and
    called "accepted" by verify and status: the handoff offers it in the fill-in table and says who
    accepted it and when; an acceptance of a weaker policy than the one published now does not count
    (issue 20)."""
    reject = verdicts("v=DMARC1; p=reject")
    recorded = {DMARC_RISK + ADDRESS: Acceptance("2026-01-05T12:00:00Z", "reject", "arn:aws:iam::1:user/ana").as_mark()}
    assert deliverability(plan, ADDRESS, 2, reject, recorded).state == "accepted"
    text = render_markdown(plan, reject, recorded)
    tables, _, section = text.partition("## Contas liberadas com o risco DMARC aceito")
    assert "| comunicacao | ` \"Colégio XY\" <contato@colegioxy.com.br> ` |" in tables
    assert "Contas que ainda não devem ser configuradas" not in text
    assert "Empresa Colégio XY, conta comunicacao (contato@colegioxy.com.br)" in section
    assert "Risco aceito por arn:aws:iam::1:user/ana em 2026-01-05T12:00:00Z (política aceita: reject)" in section
    stale = {DMARC_RISK + ADDRESS: Acceptance("2026-01-05T12:00:00Z", "quarantine",
                                              "arn:aws:iam::1:user/ana").as_mark()}
    held = render_markdown(plan, reject, stale)
    assert "contato@colegioxy.com.br" in held.partition("## Contas que ainda não devem ser configuradas")[2]
    assert "risco DMARC aceito" not in held
