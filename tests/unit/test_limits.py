"""AWS limits an institution would exceed stop `validate` and `plan` before any deploy (exit 2)."""

from __future__ import annotations

import json
import shutil

import pytest
from tutormail.plan.build import build_plan
from tutormail.plan.loader import load_catalog
from tutormail.plan.smtp_policy import (
    MANAGED_POLICIES_PER_USER,
    MANAGED_POLICY_MAX,
    document_size,
    policy_size,
    send_policies,
    send_statements,
)

from tests.conftest import INSTITUTIONS, run_cli


@pytest.fixture
def directory(tmp_path):
    shutil.copy(INSTITUTIONS / "platform.yaml", tmp_path / "platform.yaml")
    return tmp_path


def test_a_63_character_slug_is_refused_for_the_iam_user_name(directory):
    slug = "a" * 63  # a valid DNS label, but tutormail-<slug>-smtp has 78 characters
    (directory / f"{slug}.yaml").write_text(f"name: Escola\nslug: {slug}\ncompanies:\n  - name: Escola\n")
    for args in (("validate",), ("plan", slug, "--offline")):
        result = run_cli(*args, "--institutions", str(directory))
        assert result.returncode == 2, result.stdout + result.stderr
        said = result.stdout + result.stderr
        assert "IAM user name" in said and "allows 64" in said and "choose a slug of at most 49" in said


def test_the_longest_slug_that_fits_is_accepted(directory):
    slug = "a" * 49
    (directory / f"{slug}.yaml").write_text(f"name: Escola\nslug: {slug}\ncompanies:\n  - name: Escola\n")
    result = run_cli("validate", "--institutions", str(directory))
    assert result.returncode == 0, result.stderr


def _many_addresses(count: int) -> str:
    accounts = "".join(f"      conta{n}: contato{n}@escola-muitas-{n}.com.br\n" for n in range(count))
    return f"name: Escola Muitas\ncompanies:\n  - name: Escola Muitas\n    accounts:\n{accounts}"


def test_many_addresses_are_split_over_several_policies_within_the_size(directory, examples):
    """Issue 23: 60 link-verified addresses (one identity each) once made one 7,000-character policy and
    validate refused the file; IAM lets a user hold 10 managed policies of 6,144 characters."""
    (directory / "escola-muitas.yaml").write_text(_many_addresses(60))
    result = run_cli("validate", "--institutions", str(directory))
    assert result.returncode == 0, result.stdout + result.stderr
    catalog = load_catalog(directory)
    plan = build_plan(catalog.institutions["escola-muitas"], catalog.platform)
    documents = send_policies(plan)
    assert 1 < len(documents) <= MANAGED_POLICIES_PER_USER
    assert all(document_size(d) <= MANAGED_POLICY_MAX for d in documents)
    def addresses(statement):
        [condition] = statement["Condition"].values()
        return condition["ses:FromAddress"]

    allowed = [a for d in documents for s in d for a in addresses(s)]
    assert sorted(allowed) == sorted({s.address for s in plan.senders})  # each address exactly once
    for document in documents:  # each statement names only the identities of its own addresses
        [statement] = document
        named = {arn.rsplit("/", 1)[1] for arn in statement["Resource"] if ":identity/" in arn}
        assert named == {s.identity for s in plan.senders if s.address in addresses(statement)}
    # each kind keeps its case rule (module docstring): an address identity's exact spelling, a domain's any
    # case; the statements numbered from 1 in order, every ARN in the stack's partition, the set named in each
    kinds = {i.name: i.kind for i in plan.identities}
    operators = {"domain": ("SendAsDomainAddresses", "StringEqualsIgnoreCase"),
                 "email": ("SendAsVerifiedAddresses", "StringEquals")}
    statements = [statement for document in documents for [statement] in [document]]
    for number, statement in enumerate(statements, start=1):
        [kind] = {kinds[s.identity] for s in plan.senders if s.address in addresses(statement)}
        sid, operator = operators[kind]
        assert statement["Sid"] == f"{sid}{number}" and list(statement["Condition"]) == [operator]
        assert all(arn.startswith("arn:aws:ses:") for arn in statement["Resource"])
        assert statement["Resource"][-1].endswith(f":configuration-set/{plan.configuration_set}")
    assert {kinds[s.identity] for s in plan.senders} == {"domain", "email"}  # both kinds are in the split


def test_more_policies_than_a_user_may_hold_are_refused(directory):
    (directory / "escola-muitas.yaml").write_text(_many_addresses(700))
    result = run_cli("validate", "--institutions", str(directory))
    assert result.returncode == 2
    said = result.stdout + result.stderr
    assert "Managed policies per user" in said and f"at most {MANAGED_POLICY_MAX} characters" in said
    assert "Secrets Manager" not in said  # progress marks live in the table, not in the secret's tags


def test_the_examples_policies_are_well_under_the_limit(examples):
    for institution in examples.institutions.values():
        assert policy_size(build_plan(institution, examples.platform)) < MANAGED_POLICY_MAX // 2


def test_case_rules_domain_addresses_ignore_case_link_addresses_do_not(examples):
    plan = build_plan(examples.institutions["instituicao-xy"], examples.platform)
    by_sid = {s["Sid"]: s for s in send_statements(plan)}
    domain = by_sid["SendAsDomainAddresses"]["Condition"]["StringEqualsIgnoreCase"]["ses:FromAddress"]
    exact = by_sid["SendAsVerifiedAddresses"]["Condition"]["StringEquals"]["ses:FromAddress"]
    assert "comunicacao@instituicaoxy.com.br" in domain and exact == ["contato@colegioxy.com.br"]
    assert not any("colegioxy" in arn for arn in by_sid["SendAsDomainAddresses"]["Resource"])
    assert json.dumps(by_sid).count("configuration-set/tutormail-instituicao-xy") == 2


def test_limits_do_not_touch_valid_examples():
    assert load_catalog(INSTITUTIONS).institutions
