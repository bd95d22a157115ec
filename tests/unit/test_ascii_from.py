"""De/Remetente as the help article has it typed (catalog.names.render_mailbox: `"Nome" <address>`,
the name readable, the address in A-labels), and the From that send-test builds from its two parts as
a standard mailer does (Python's `email` package: an RFC 2047 encoded word, never inside quotes)."""

from __future__ import annotations

import re
from email.header import decode_header, make_header
from email.headerregistry import HeaderRegistry
from email.utils import parseaddr

from hypothesis import given
from hypothesis import strategies as st
from tutormail.catalog.names import Address, render_mailbox
from tutormail.plan.build import Sender
from tutormail.tutor_setup.send_test import build_message

ADDRESS = Address.parse("comunicacao@faculdadeação.com.br")
# Display names as the catalog takes them: no control or line-separator characters, not blank, no
# surrounding spaces (RFC 5322 drops those when the header is read).
names = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=120).filter(
    lambda n: n.strip() == n and n != "")
ENCODED_WORD = re.compile(rb"=\?[^?]+\?[bqBQ]\?[^?]*\?=")


def sender(name: str) -> Sender:
    return Sender("Faculdade", "comunicacao", ADDRESS.ascii, ADDRESS.display, name, render_mailbox(name, ADDRESS),
                  ADDRESS.domain, 1, False)


def spaces(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def from_line(raw: bytes) -> bytes:
    """The From header unfolded (RFC 5322 2.2.3: CRLF before white space is folding)."""
    head = re.sub(rb"\r\n(?=[ \t])", b"", raw.partition(b"\r\n\r\n")[0])
    [line] = [ln for ln in head.split(b"\r\n") if ln.startswith(b"From:")]
    return line


def test_the_articles_form_with_the_address_in_a_labels():
    assert render_mailbox("Faculdade Ação", ADDRESS) == '"Faculdade Ação" <comunicacao@xn--faculdadeao-i8a5c.com.br>'
    assert render_mailbox('Secretaria "Delta" \\ 2', Address.parse("s@x.br")) == \
        '"Secretaria \\"Delta\\" \\\\ 2" <s@x.br>'


@given(names)
def test_the_typed_value_reads_back_as_its_name_and_ascii_address(name):
    header = HeaderRegistry()("From", render_mailbox(name, ADDRESS))
    [mailbox] = header.addresses
    assert (mailbox.display_name, mailbox.addr_spec) == (name, ADDRESS.ascii)


@given(names)
def test_send_test_encodes_the_name_outside_any_quoted_string(name):
    raw = build_message(sender(name), "destino@example.com.br", "Faculdade")
    line = from_line(raw)
    assert line.isascii()
    for quoted in re.findall(rb'"(?:[^"\\]|\\.)*"', line):  # RFC 2047 section 5: no encoded word in quotes
        assert not ENCODED_WORD.search(quoted), line
    # Read back as RFC 2047 section 6.2 says (white space between two encoded words is not text; the
    # email package's newer parser keeps it). An unquoted phrase's runs of white space are folding
    # white space (RFC 5322 3.2.2): a reader keeps one space, as it does of Tutor's own mail.
    display, address = parseaddr(line.decode("ascii").partition(":")[2])
    assert (spaces(str(make_header(decode_header(display)))), address) == (spaces(name), ADDRESS.ascii)


def test_an_accented_name_becomes_an_encoded_word():
    line = from_line(build_message(sender("Faculdade Ação"), "destino@example.com.br", "Faculdade"))
    assert line == b"From: Faculdade =?utf-8?b?QcOnw6Nv?= <comunicacao@xn--faculdadeao-i8a5c.com.br>"
