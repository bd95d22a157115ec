"""The field table is the one description of the files: the parser's allowed keys and the JSON
Schema come from it and agree value by value."""

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from tutormail.catalog.fields import (
    ACCOUNT_MAPPING,
    COMPANY,
    DNS_ENTRY,
    INSTITUTION,
    PLATFORM,
    Field,
    Shape,
    text_problem,
)
from tutormail.catalog.schema import field_schema, institution_schema, platform_schema, shape_schema

from tests.conftest import INSTITUTIONS

SHAPES = {"platform": PLATFORM, "institution": INSTITUTION, "company": COMPANY, "account": ACCOUNT_MAPPING}


def _checked_fields():
    for shape in (PLATFORM, INSTITUTION, COMPANY, ACCOUNT_MAPPING, DNS_ENTRY):
        for spec in (*shape.fields, *(f for extra in shape.variants.values() for f in extra)):
            if spec.pattern is not None or spec.choices:
                yield spec
    yield COMPANY.get("rules").items


CHECKED = list(_checked_fields())


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_schema_properties_are_the_parsers_allowed_keys(name):
    shape = SHAPES[name]
    schema = shape_schema(shape)
    assert set(schema["properties"]) == set(shape.allowed())
    assert schema["required"] == [f.name for f in shape.fields if f.required]
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("provider", sorted(DNS_ENTRY.variants))
def test_each_dns_provider_allows_the_same_keys_in_both(provider):
    branch = next(b["then"] for b in shape_schema(DNS_ENTRY)["allOf"]
                  if b["if"]["properties"]["provider"]["const"] == provider)
    assert set(branch["properties"]) == set(DNS_ENTRY.allowed(provider))
    assert branch["additionalProperties"] is False


# Text that probes the edges where Python's and JSON Schema's regular expressions differ:
# a trailing newline before `$`, Unicode digits for \d, case, separators.
TRICKY = st.one_of(
    st.text(max_size=24),
    st.text(alphabet="Zz019AaQ:-_./[]\n ٣５*?@", max_size=24),
    st.sampled_from(["Z0123456789ABCDEFGHIJ", "Z0123456789ABCDEFGHIJ\n", "123456789012", "12345678901\n",
                     "ns1.example.com:53", "ns1.example.com:\uff15\uff13", "[::1]:5353", "comunicacao",
                     "comunicacao\n", "us-east-1", "reject", "escola-xy", "escola-xy\n", "a", "logo.png"]),
)


@pytest.mark.parametrize("spec", CHECKED, ids=lambda f: f.name)
@settings(max_examples=150, deadline=None)
@given(value=TRICKY)
def test_table_check_and_schema_agree_on_every_value(spec: Field, value: str):
    parser_accepts = text_problem(spec, value) is None
    schema_accepts = jsonschema.Draft202012Validator(field_schema(spec)).is_valid(value)
    assert parser_accepts == schema_accepts, (spec.name, value)


@pytest.mark.parametrize("spec", [f for s in (PLATFORM, INSTITUTION) for f in s.fields if f.kind == "integer"],
                         ids=lambda f: f.name)
def test_integer_ranges_are_the_same(spec):
    schema = field_schema(spec)
    assert (schema["minimum"], schema["maximum"]) == (spec.minimum, spec.maximum)
    validator = jsonschema.Draft202012Validator(schema)
    for value in (spec.minimum - 1, spec.minimum, spec.maximum, spec.maximum + 1, True):
        in_range = not isinstance(value, bool) and spec.minimum <= value <= spec.maximum
        assert validator.is_valid(value) == in_range


def test_the_examples_fit_their_schemas():
    yaml = YAML(typ="safe")
    jsonschema.Draft202012Validator.check_schema(institution_schema())
    for path in INSTITUTIONS.glob("*.yaml"):
        schema = platform_schema() if path.name == "platform.yaml" else institution_schema()
        jsonschema.validate(yaml.load(path.read_text()), schema)


def test_a_shape_knows_its_variants():
    assert DNS_ENTRY.allowed("rfc2136")[-2:] == ("server", "tsig_key")
    assert DNS_ENTRY.allowed("unknown") == DNS_ENTRY.allowed()
    with pytest.raises(KeyError):
        DNS_ENTRY.get("server")
    assert isinstance(Shape(()).allowed(), tuple)


def test_a_nested_mapping_read_by_its_own_module_brings_its_schema():
    """How a module such as the reputation fields joins the table: one Field, one schema."""
    nested = {"type": "object", "properties": {"level": {"type": "integer"}}, "additionalProperties": False}
    shape = Shape((Field("name", "display", required=True), Field("extra", "mapping", json_schema=lambda: nested)))
    assert shape.allowed() == ("name", "extra")
    assert shape_schema(shape)["properties"]["extra"] == nested
    with pytest.raises(AssertionError):
        Field("extra", "mapping")  # a nested mapping without its schema would let the two disagree
