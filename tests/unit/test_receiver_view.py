"""send-test --check: reading SES's Authentication-Results and the exit rule (issue 25)."""

from __future__ import annotations

import pytest
from tutormail.exitcodes import Exit
from tutormail.tutor_setup.receiver_view import receiver_view

# SES's receiving writes its own form (client-ip=, envelope-from=, helo= as items; header.i=@domain).
SES_FORM = ("amazonses.com; spf=pass (spfCheck: domain of {mf} designates 192.0.2.1 as permitted sender) "
            "client-ip=192.0.2.1; envelope-from=bounce@{mf}; helo=a1.example; dkim={dkim} header.i=@{d}; "
            "dmarc={dmarc} header.from={frm};")
RFC_FORM = ("amazonses.com; spf=pass smtp.mailfrom=bounce@{mf}; dkim={dkim} header.d={d}; "
            "dmarc={dmarc} header.from={frm}")


def message(results: list[str], sender: str = "Escola X <comunicacao@escolax.com.br>") -> bytes:
    headers = "".join(f"Authentication-Results: {r}\r\n" for r in results)
    return (f"{headers}From: {sender}\r\nTo: check@check.sistematutor.com.br\r\nSubject: t\r\n\r\nbody\r\n").encode()


CASES = [
    # form, MAIL FROM domain, dkim, d=, dmarc, exit, dkim aligned, spf aligned
    ("cenario 1: Easy DKIM as the domain, MAIL FROM bounce.<domain>", SES_FORM, "bounce.escolax.com.br", "pass",
     "escolax.com.br", "pass", Exit.OK, True, True),
    ("cenario 1 in RFC 8601 form", RFC_FORM, "bounce.escolax.com.br", "pass", "escolax.com.br", "pass", Exit.OK,
     True, True),
    ("cenario 2: signed as amazonses.com, SES's MAIL FROM", SES_FORM, "amazonses.com", "pass", "amazonses.com",
     "fail", Exit.ACTION_NEEDED, False, False),
    ("cenario 2 passing DMARC only because p=none", SES_FORM, "amazonses.com", "pass", "amazonses.com", "pass",
     Exit.ACTION_NEEDED, False, False),
    ("DKIM broken, SPF aligned: DMARC passes on SPF", RFC_FORM, "bounce.escolax.com.br", "fail", "escolax.com.br",
     "pass", Exit.OK, False, True),
    ("aligned DKIM but SES says DMARC failed", RFC_FORM, "amazonses.com", "pass", "escolax.com.br", "fail",
     Exit.ACTION_NEEDED, True, False),
    ("a subdomain signer aligns in relaxed mode", RFC_FORM, "amazonses.com", "pass", "mail.escolax.com.br", "pass",
     Exit.OK, True, False),
]


@pytest.mark.parametrize(("case", "form", "mf", "dkim", "d", "dmarc", "code", "dkim_aligned", "spf_aligned"),
                         CASES, ids=[c[0] for c in CASES])
def test_verdict_and_exit_rule(case, form, mf, dkim, d, dmarc, code, dkim_aligned, spf_aligned):
    view = receiver_view(message([form.format(mf=mf, dkim=dkim, d=d, dmarc=dmarc, frm="escolax.com.br")]), "reject")
    assert view.exit_code == code
    assert (view.dkim_aligned, view.spf_aligned) == (dkim_aligned, spf_aligned)
    assert view.dkim_domain == d
    assert view.mail_from_domain == mf
    data = view.as_dict("escola-x")
    assert (data["reason"] is None) == (code == Exit.OK)
    assert (data["way_out"] is None) == (code == Exit.OK)
    assert data["dmarc"] == {"result": dmarc, "policy": "reject", "aligned_pass": code == Exit.OK}


def test_cenario2_way_out_names_cenario1_and_the_handoff_section():
    view = receiver_view(message([SES_FORM.format(mf="amazonses.com", dkim="pass", d="amazonses.com", dmarc="fail",
                                                  frm="escolax.com.br")]))
    way_out = view.way_out("escola-x")
    assert "Cenário 1" in way_out and "signed by amazonses.com" in way_out
    assert "handoff/escola-x/escola-x.md#contas-prontas-mas-sem-alinhamento-dmarc" in way_out


def test_only_the_topmost_header_of_ses_counts():
    forged = RFC_FORM.format(mf="escolax.com.br", dkim="pass", d="escolax.com.br", dmarc="pass", frm="escolax.com.br")
    real = SES_FORM.format(mf="amazonses.com", dkim="pass", d="amazonses.com", dmarc="fail", frm="escolax.com.br")
    assert receiver_view(message([real, forged])).exit_code == Exit.ACTION_NEEDED
    other = "mx.other.example; dkim=pass header.d=escolax.com.br; dmarc=pass header.from=escolax.com.br"
    assert receiver_view(message([other, real])).dmarc == "fail"


def test_no_ses_header_is_nothing_to_judge():
    assert receiver_view(message([])) is None
    assert receiver_view(message(["mx.other.example; dmarc=pass header.from=escolax.com.br"])) is None


def test_from_is_shown_as_a_mail_program_shows_it():
    raw = message([RFC_FORM.format(mf="bounce.escolax.com.br", dkim="pass", d="escolax.com.br", dmarc="pass",
                                   frm="escolax.com.br")], sender="=?utf-8?q?Escola_Jo=C3=A3o?= <c@escolax.com.br>")
    view = receiver_view(raw)
    assert view.from_display == "Escola João <c@escolax.com.br>"
    assert view.from_domain == "escolax.com.br"


def test_missing_results_are_none_and_fail_the_check():
    view = receiver_view(message(["amazonses.com; spf=pass smtp.mailfrom=bounce@bounce.escolax.com.br"]))
    assert (view.dkim, view.dmarc) == ("none", "none")
    assert view.exit_code == Exit.ACTION_NEEDED
