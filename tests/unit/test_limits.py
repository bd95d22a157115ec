"""AWS limits an institution would exceed stop `validate` and `plan` before any deploy (exit 2)."""

from __future__ import annotations

import json
import shutil

import pytest
from tutormail.catalog.model import load_catalog
from tutormail.plan.build import build_plan
from tutormail.plan.limits import MANAGED_POLICY_MAX
from tutormail.plan.smtp_policy import policy_size, send_statements

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


def test_too_many_addresses_for_the_policy_are_refused(directory):
    (directory / "escola-muitas.yaml").write_text(_many_addresses(60))
    result = run_cli("validate", "--institutions", str(directory))
    assert result.returncode == 2
    said = result.stdout + result.stderr
    assert f"IAM allows {MANAGED_POLICY_MAX}" in said
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
