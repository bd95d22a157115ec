import re
import shutil
from pathlib import Path

import pytest
from tutormail.catalog.model import LOGO_MAX_BYTES, check_files, load_catalog
from tutormail.catalog.problems import ConfigurationError

from tests.conftest import FIXTURES, INSTITUTIONS

INVALID = FIXTURES / "invalid"
CORPUS = sorted(p for p in INVALID.glob("*.yaml") if p.name != "platform.yaml")


def _expectation(path: Path) -> tuple[str, str]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = re.match(r"# expect: (.+?) \| ?(.*)$", first)
    assert match, f"{path.name} has no '# expect: field | reason' header"
    return match.group(1), match.group(2)


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("invalid")
    shutil.copytree(INVALID, directory, dirs_exist_ok=True)
    (directory / "logos" / "big.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * LOGO_MAX_BYTES)
    return directory


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 25


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_each_bad_file_is_reported_with_field_line_and_reason(path, corpus_dir):
    field, fragment = _expectation(path)
    catalog, problems = check_files(corpus_dir, [corpus_dir / path.name])
    assert catalog is None
    matching = [p for p in problems if p.field == field and fragment in p.reason]
    assert matching, f"expected {field}: ...{fragment}... in {[str(p) for p in problems]}"
    assert all(p.file.endswith(path.name) for p in problems)
    assert matching[0].line >= 1


def test_three_problems_are_all_reported(corpus_dir):
    _, problems = check_files(corpus_dir, [corpus_dir / "three-problems.yaml"])
    assert [(p.line, p.field) for p in problems] == [
        (3, "slug"), (7, "companies[0].accounts.comunicacao"), (9, "companies[0].rules.avisos")]


def test_examples_load():
    catalog = load_catalog(INSTITUTIONS)
    assert sorted(catalog.institutions) == ["escola-padrao", "faculdade-acao", "faculdade-delta", "instituicao-xy"]
    xy = catalog.get("instituicao-xy")
    assert [c.name for c in xy.companies] == ["Instituição XY", "Colégio XY"]
    colegio = xy.company("Colégio XY")
    assert colegio.account("news").is_platform_default
    assert colegio.account("news").address.ascii == "comunicacao@instituicao-xy.sistematutor.com.br"
    assert dict(xy.company("Instituição XY").rules) == {"avisos": "comunicacao", "requerimentos": "atendimento"}


def test_slug_is_derived_when_absent(examples):
    assert examples.get("escola-padrao").name == "Escola Padrão"


def test_missing_platform_file_is_a_problem(tmp_path):
    shutil.copy(INSTITUTIONS / "escola-padrao.yaml", tmp_path)
    with pytest.raises(ConfigurationError) as exc:
        load_catalog(tmp_path)
    assert any("platform file is missing" in p.reason for p in exc.value.problems)


@pytest.mark.parametrize(("field", "value", "fragment"), [
    ("region", "sa-west-9", "has no SES SMTP endpoint; use one of: af-south-1"),
    ("account", "12345", "12-digit"),
    ("hosted_zone_id", "zone", "hosted zone id"),
])
def test_platform_file_problems(tmp_path, field, value, fragment):
    text = (INSTITUTIONS / "platform.yaml").read_text()
    text = re.sub(rf"^{field}: .*$", f'{field}: "{value}"', text, flags=re.M)
    (tmp_path / "platform.yaml").write_text(text)
    _, problems = check_files(tmp_path, [])
    assert any(p.field == field and fragment in p.reason for p in problems), problems


def test_unquoted_account_number_is_rejected(tmp_path):
    text = (INSTITUTIONS / "platform.yaml").read_text().replace('"123456789012"', "123456789012")
    (tmp_path / "platform.yaml").write_text(text)
    _, problems = check_files(tmp_path, [])
    assert [p.field for p in problems] == ["account"]


def test_only_limits_parsing_and_reports_unknown_slug():
    assert list(load_catalog(INSTITUTIONS, only=["escola-padrao"]).institutions) == ["escola-padrao"]
    with pytest.raises(ConfigurationError, match="no file for institution 'nope'"):
        load_catalog(INSTITUTIONS, only=["nope"])
