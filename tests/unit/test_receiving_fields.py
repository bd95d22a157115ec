"""platform.yaml's receiving: and an institution's replies_to, as validate reports them (issue 25)."""

from __future__ import annotations

import pytest
from tutormail.plan.loader import check_files

from tests import factory


def _directory(tmp_path, receiving: str | None, institutions: dict, region: str = "us-east-1"):
    tmp_path.mkdir(parents=True, exist_ok=True)
    platform = tmp_path / "platform-source.yaml"
    text = factory.PLATFORM.read_text().replace("region: us-east-1", f"region: {region}")
    platform.write_text(text + (receiving or ""))
    return factory.write_institutions(tmp_path / "i", institutions, platform=platform)


def _problems(tmp_path, receiving, institutions=None, region="us-east-1"):
    directory = _directory(tmp_path, receiving, institutions or {"escola-a": factory.institution("Escola A")}, region)
    catalog, problems = check_files(directory)
    return catalog, [(p.field, p.reason) for p in problems]


def test_receiving_defaults_and_values(tmp_path):
    catalog, problems = _problems(tmp_path, "receiving:\n  retention_days: 5\n")
    assert problems == []
    assert catalog.platform.receiving.check_subdomain == "check"
    assert catalog.platform.receiving.retention_days == 5


def test_without_receiving_nothing_is_received(tmp_path):
    catalog, problems = _problems(tmp_path, None)
    assert problems == [] and catalog.platform.receiving is None


@pytest.mark.parametrize(("receiving", "field", "words"), [
    ("receiving:\n  check_subdomain: Check_Me\n", "receiving.check_subdomain", "DNS label"),
    ("receiving:\n  retention_days: 0\n", "receiving.retention_days", "from 1 to 30"),
    ("receiving:\n  retention_days: 365\n", "receiving.retention_days", "from 1 to 30"),
    ("receiving:\n  retention_days: true\n", "receiving.retention_days", "from 1 to 30"),
    ("receiving:\n  inbound_region: eu-west-1\n", "receiving.inbound_region", "unknown"),
    ("receiving: yes\n", "receiving", "must be a mapping"),
])
def test_bad_receiving_names_field_and_reason(tmp_path, receiving, field, words):
    _, problems = _problems(tmp_path, receiving)
    assert any(f == field and words in reason for f, reason in problems), problems


def test_a_region_that_cannot_receive_names_the_way_out(tmp_path):
    _, problems = _problems(tmp_path, "receiving: {}\n", region="sa-east-1")
    (field, reason), = problems
    assert field == "receiving"
    assert "does not receive mail in the platform's region sa-east-1" in reason
    assert "eu-west-1, us-east-1, us-west-2" in reason and "leave receiving: out" in reason
    # Without receiving:, the same region is fine: nothing is received.
    _, problems = _problems(tmp_path / "b", None, region="sa-east-1")
    assert problems == []


@pytest.mark.parametrize(("value", "words"), [
    ("not an address", "must be an e-mail address"),
    ("respostas@escola-a.sistematutor.com.br", "is on the platform domain"),
    ("x@check.sistematutor.com.br", "is on the platform domain"),
    (42, "must be an e-mail address"),
])
def test_bad_replies_to_names_file_field_and_reason(tmp_path, value, words):
    doc = {**factory.institution("Escola A"), "replies_to": value}
    _, problems = _problems(tmp_path, "receiving: {}\n", {"escola-a": doc})
    assert any(f == "replies_to" and words in reason for f, reason in problems), problems


def test_replies_to_is_read_in_ascii(tmp_path):
    doc = {**factory.institution("Escola A"), "replies_to": "secretaria@escolá.example"}
    catalog, problems = _problems(tmp_path, "receiving: {}\n", {"escola-a": doc})
    assert problems == []
    assert catalog.institutions["escola-a"].replies_to == "secretaria@xn--escol-1qa.example"


def test_the_check_subdomain_is_no_institutions_slug(tmp_path):
    _, problems = _problems(tmp_path, "receiving: {}\n", {"check": factory.institution("Check", slug="check")})
    assert [f for f, _ in problems] == ["slug"]
    assert "receiving.check_subdomain" in problems[0][1]
