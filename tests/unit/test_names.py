from email.headerregistry import HeaderRegistry

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tutormail.catalog.names import Address, check_display_name, derive_slug, is_dns_label, render_mailbox


@pytest.mark.parametrize(("name", "slug"), [
    ("Instituição XY", "instituicao-xy"),
    ("Universidade São João d'Arc", "universidade-sao-joao-darc"),
    ("Colégio  Nossa Senhora – Unidade 2", "colegio-nossa-senhora-unidade-2"),
    ("Escola D\u2019Ávila", "escola-davila"),
    ("Straße & Søn", "strasse-son"),
    ("  --Faculdade--  ", "faculdade"),
])
def test_derive_slug_examples(name, slug):
    assert derive_slug(name) == slug


@given(st.text(max_size=80))
def test_derived_slug_is_a_dns_label_or_empty_or_too_long(name):
    slug = derive_slug(name)
    assert slug == "" or len(slug) > 63 or is_dns_label(slug)
    assert derive_slug(slug) == slug  # idempotent


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60))
def test_rendered_mailbox_parses_back_to_the_same_name(name):
    if check_display_name(name) is not None:
        return
    address = Address.parse("comunicacao@instituicao.com.br")
    header = HeaderRegistry()("From", render_mailbox(name, address))
    assert not header.defects, header.defects
    [parsed] = header.addresses
    assert parsed.display_name == name
    assert parsed.addr_spec == "comunicacao@instituicao.com.br"


@pytest.mark.parametrize("name", ['Escola "Modelo"', "Back\\slash", "D'Ávila", "日本語の学校", "a, b; c <d>"])
def test_tricky_names_render_as_quoted_strings(name):
    rendered = render_mailbox(name, Address.parse("x@escola.com.br"))
    assert rendered.startswith('"') and rendered.endswith('" <x@escola.com.br>')
    assert HeaderRegistry()("From", rendered).addresses[0].display_name == name


def test_internationalized_domain_is_shown_in_unicode_and_used_as_a_labels():
    address = Address.parse("contato@escolação.com.br")
    assert address.domain == "xn--escolao-2wa9a.com.br"
    assert address.ascii == "contato@xn--escolao-2wa9a.com.br"
    assert address.display == "contato@escolação.com.br"


def test_domain_is_lower_cased():
    assert Address.parse("Contato@Escola.COM.BR").ascii == "Contato@escola.com.br"


@pytest.mark.parametrize(("text", "fragment"), [
    ("a@b", "should have a period"), ("a b@c.com", "invalid characters"), ("a..b@c.com", "two periods"),
    ("@c.com", "something before the @-sign"), ("a@c.123", "not within a valid top-level domain"),
    ("a@@c.com", "invalid characters"), ('"a b"@c.com.br', "Quoting"), ("a@[127.0.0.1]", "bracketed IP"),
    ("ação@c.com.br", "must be ASCII"), ("a" * 65 + "@c.com.br", "longer than 64"),
])
def test_bad_addresses(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        Address.parse(text)


# RFC 6761 and IANA's special-use domain registry: no mail can reach them, so no identity is deployed
# to wait for a link that never arrives (email-validator's list); a top-level label that is none.
@pytest.mark.parametrize("domain", ["escola.invalid", "escola.localhost", "escola.local", "escola.test",
                                    "1.0.0.127.in-addr.arpa", "escola.arpa", "exemplo.onion", "escola.tld-2"])
def test_special_use_domains_are_refused(domain):
    with pytest.raises(ValueError, match=r"special-use or reserved|not within a valid top-level domain"):
        Address.parse(f"contato@{domain}")


@pytest.mark.parametrize(("domain", "suffix"), [
    ("com.br", True), ("edu.br", True), ("br", True), ("com", True), ("co.uk", True),
    ("sistematutor.com.br", False), ("escola.edu.br", False), ("example.com", False),
])
def test_public_suffixes(domain, suffix):
    from tutormail.catalog.public_suffixes import is_public_suffix

    assert is_public_suffix(domain) is suffix


@pytest.mark.parametrize(("name", "fragment"), [
    ("Escola\u2028XY", "line separator"), ("Escola\u2029XY", "paragraph separator"),
    ("Escola \u202eYX", "bidirectional control"), ("Escola \u061cXY", "bidirectional control"),
    ("Escola\u200dXY", "invisible format"), ("Escola \ue000", "private-use"), ("Escola\x7f", "control character"),
])
def test_display_names_refuse_what_would_break_or_disguise_a_header(name, fragment):
    assert fragment in check_display_name(name)


def test_wildcards_in_a_local_part_are_named():
    from tutormail.catalog.names import wildcard_problem

    assert wildcard_problem("contato") is None
    assert "'*' and '?'" in wildcard_problem("a*b?")
