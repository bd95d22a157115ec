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
    ("a@b", "at least two labels"), ("a b@c.com", "spaces"), ("a..b@c.com", "dot-atom"),
    ("@c.com", "empty"), ("a@c.123", "numeric"), ("a@@c.com", "exactly one"),
])
def test_bad_addresses(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        Address.parse(text)


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
