import os
import re
import shutil
from pathlib import Path

import pytest
from tutormail.catalog.model import LOGO_MAX_BYTES
from tutormail.catalog.problems import ConfigurationError
from tutormail.plan.loader import check_files, load_catalog

from tests.conftest import FIXTURES, INSTITUTIONS
from tests.factory import institution, to_yaml, write_institutions

INVALID = FIXTURES / "invalid"
# Each case is checked in a directory of its own: the fixtures' platform.yaml, logos/, the valid
# institutions of peers/ (what the ownership cases try to take) and the case. A case named
# platform-*.yaml stands in for platform.yaml instead.
CORPUS = sorted(p for p in INVALID.glob("*.yaml") if p.name != "platform.yaml")


def _expectation(path: Path) -> tuple[str, str]:
    first = path.read_bytes().decode("utf-8", "replace").splitlines()[0]
    match = re.match(r"# expect: (.+?) \| ?(.*)$", first)
    assert match, f"{path.name} has no '# expect: field | reason' header"
    return match.group(1), match.group(2)


def case_directory(root: Path, case: Path) -> tuple[Path, Path]:
    """(directory, file to check) for one corpus case."""
    directory = root / case.stem
    directory.mkdir()
    shutil.copytree(INVALID / "logos", directory / "logos")
    (directory / "logos" / "big.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * LOGO_MAX_BYTES)
    (root / "elsewhere.png").write_bytes((INVALID / "logos" / "ok.png").read_bytes())
    (directory / "logos" / "outside.png").symlink_to(root / "elsewhere.png")
    os.mkfifo(directory / "logos" / "fifo.png")
    for peer in (INVALID / "peers").glob("*.yaml"):
        shutil.copy(peer, directory)
    platform = case if case.name.startswith("platform-") else INVALID / "platform.yaml"
    shutil.copy(platform, directory / "platform.yaml")
    if platform is case:
        return directory, directory / "platform.yaml"
    shutil.copy(case, directory)
    return directory, directory / case.name


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 70


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_each_bad_file_is_reported_with_file_field_line_and_reason(path, tmp_path):
    field, fragment = _expectation(path)
    directory, checked = case_directory(tmp_path, path)
    catalog, problems = check_files(directory, [checked])
    assert catalog is None
    matching = [p for p in problems if p.field == field and fragment in p.reason]
    assert matching, f"expected {field}: ...{fragment}... in {[str(p) for p in problems]}"
    assert all(p.file.endswith(checked.name) for p in problems)
    if field not in ("(file)", "(yaml)"):
        assert matching[0].line >= 1


# The ownership cases that conflict with peers/dona.yaml (the others conflict with the platform
# or break the tsig_key prefix, within one file).
CROSS_FILE = [p for p in CORPUS if p.stem.startswith(("own-domain-", "own-address-", "own-zone-same"))
              and p.stem != "own-address-platform-apex"]


@pytest.mark.parametrize("path", CROSS_FILE, ids=lambda p: p.stem)
def test_ownership_is_reported_from_both_sides(path, tmp_path):
    """Validating the whole directory names both files; validating only the peer fails too."""
    directory, checked = case_directory(tmp_path, path)
    _, problems = check_files(directory)
    peer_problems = [p for p in problems if p.file.endswith("dona.yaml")]
    assert any("dona.yaml" in p.reason for p in problems if p.file.endswith(checked.name))
    assert peer_problems and all(checked.name in p.reason for p in peer_problems)
    _, alone = check_files(directory, [directory / "dona.yaml"])
    assert alone == peer_problems


def test_cross_file_cases_are_many():
    assert len(CROSS_FILE) == 9


def test_three_problems_are_all_reported(tmp_path):
    directory, checked = case_directory(tmp_path, INVALID / "three-problems.yaml")
    _, problems = check_files(directory, [checked])
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


def test_slug_is_derived_when_absent(examples, tmp_path):
    padrao = examples.get("escola-padrao")  # its file has no slug
    assert (padrao.name, padrao.slug) == ("Escola Padrão", "escola-padrao")
    # The brief's example, with no slug written (not through write_institutions, which derives one
    # itself): accents folded, the space to "-".
    directory = write_institutions(tmp_path / "institutions", {})
    (directory / "instituicao-xy.yaml").write_text(to_yaml(institution("Instituição XY")), encoding="utf-8")
    assert "slug" not in (directory / "instituicao-xy.yaml").read_text()
    catalog = load_catalog(directory)
    [xy] = catalog.institutions.values()
    assert xy.slug == "instituicao-xy" and list(catalog.institutions) == ["instituicao-xy"]


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
