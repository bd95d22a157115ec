"""The From that SES accepts (plan.build.ascii_mailbox): 7-bit ASCII, and it reads back as written."""

from __future__ import annotations

from email.header import decode_header, make_header
from email.utils import parseaddr

from hypothesis import given
from hypothesis import strategies as st
from tutormail.plan.build import ENCODED_WORD_MAX, ascii_mailbox

ADDRESS = "comunicacao@xn--faculdadeao-i8a5c.com.br"
# Display names as the catalog takes them: no control or line-separator characters, not blank, no
# surrounding spaces (RFC 5322 drops those when the header is read).
names = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=120).filter(
    lambda n: n.strip() == n and n != "")


@given(names)
def test_every_name_gives_an_ascii_mailbox_that_reads_back(name):
    mailbox = ascii_mailbox(name, ADDRESS)
    assert mailbox.isascii() and "\n" not in mailbox
    display, address = parseaddr(mailbox)
    assert address == ADDRESS
    assert str(make_header(decode_header(display))) == name or display == name


@given(names.filter(lambda n: not n.isascii()))
def test_encoded_words_stay_within_rfc_2047s_length(name):
    words = ascii_mailbox(name, ADDRESS).rsplit(" <", 1)[0].split(" ")
    assert all(len(word) <= ENCODED_WORD_MAX for word in words)


def test_examples():
    assert ascii_mailbox("Faculdade Ação", ADDRESS) == f"=?utf-8?q?Faculdade_A=C3=A7=C3=A3o?= <{ADDRESS}>"
    assert ascii_mailbox('Secretaria "Delta"', "s@x.br") == '"Secretaria \\"Delta\\"" <s@x.br>'
