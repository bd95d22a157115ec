"""Hostile files end in exit 2 with the file named, never a hang, a traceback or minutes of work;
ownership is checked across the whole directory whichever files are asked for."""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest
from tutormail.catalog.model import ConfigurationError, Problem
from tutormail.catalog.ownership import claims_of
from tutormail.catalog.yaml_reader import MAX_DEPTH, MAX_FILE_BYTES, FileProblem, load
from tutormail.plan import loader
from tutormail.plan.loader import check_files, load_catalog

from tests.conftest import INSTITUTIONS, REPO, cdk_context, run_cli

DEEP = "companies: " + "[" * 5000 + "]" * 5000 + "\n"


@pytest.fixture
def institutions(tmp_path):
    directory = tmp_path / "institutions"
    shutil.copytree(INSTITUTIONS, directory)
    return directory


def _bad(result):
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return result.stdout + result.stderr


def test_a_fifo_named_yaml_is_refused_not_waited_on(institutions):
    os.mkfifo(institutions / "fila.yaml")
    start = time.monotonic()
    out = _bad(run_cli("validate", "--institutions", str(institutions), env={}))
    assert "fila.yaml:0: (file): is not a regular file" in out
    assert time.monotonic() - start < 30


def test_a_file_over_the_size_limit_is_refused_before_parsing(institutions):
    (institutions / "enorme.yaml").write_text("name: X\n" + "# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    start = time.perf_counter()
    _, problems = check_files(institutions)
    assert time.perf_counter() - start < 5
    assert [(p.field, p.file.endswith("enorme.yaml")) for p in problems] == [("(file)", True)]
    assert f"larger than the limit of {MAX_FILE_BYTES} bytes" in problems[0].reason


def test_deep_nesting_is_exit_2_in_validate_status_and_cdk_synth(institutions):
    (institutions / "funda.yaml").write_text(DEEP)
    for args in (("validate",), ("status", "--all", "--offline"), ("plan", "escola-padrao", "--offline")):
        out = _bad(run_cli(*args, "--institutions", str(institutions), env={}))
        assert f"(yaml): nested deeper than {MAX_DEPTH} levels" in out
    context = {**cdk_context(), "institutions_dir": str(institutions)}
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(institutions / "out")}
    synth = subprocess.run([sys.executable, "app.py"], cwd=REPO, capture_output=True, text=True, check=False, env=env)
    assert "nested deeper than" in _bad(synth)


def test_sandbox_up_refuses_a_bad_directory_with_exit_2(institutions, tmp_path):
    (institutions / "funda.yaml").write_text(DEEP)
    result = subprocess.run([sys.executable, "-m", "sandbox", "--state", str(tmp_path / "state"), "--institutions",
                             str(institutions), "up"], cwd=REPO, capture_output=True, text=True, check=False,
                            timeout=120)
    assert "nested deeper than" in _bad(result)
    assert not (tmp_path / "state" / "pids.json").exists()


def test_alias_cycles_and_expansion_are_bounded_in_both_loaders():
    cycle = "companies: &c [*c]\n"
    with pytest.raises(FileProblem, match="cycle"):
        load(cycle, round_trip=False)
    assert load(cycle, round_trip=True)["companies"] == [None]  # ruamel's round trip breaks the cycle
    bomb = "a: &a [" + ", ".join(["x"] * 50) + "]\n" + "".join(
        f"{n}: &{n} [" + ", ".join([f"*{p}"] * 50) + "]\n" for p, n in zip("abc", "bcd", strict=True))
    for round_trip in (True, False):
        with pytest.raises(FileProblem, match="aliases are expanded"):
            load(bomb, round_trip=round_trip)


def _claimant(directory, slug, domain, valid=True):
    extra = "" if valid else "smtp_key_generation: 0\n"
    (directory / f"{slug}.yaml").write_text(
        f"name: {slug}\n{extra}dns:\n  - domain: {domain}\n    provider: manual\ncompanies: [{{name: {slug}}}]\n")


def test_validating_one_file_checks_it_against_every_file(institutions):
    _claimant(institutions, "intrusa", "sub.instituicaoxy.com.br")
    out = _bad(run_cli("validate", str(institutions / "intrusa.yaml"), env={}))
    assert ("intrusa.yaml:3: dns[0].domain: sub.instituicaoxy.com.br overlaps instituicaoxy.com.br, claimed by "
            in out) and "instituicao-xy.yaml (companies[0].accounts.atendimento, " in out and "dns[0].domain):" in out
    assert out.count("dns[0].domain: sub.instituicaoxy.com.br overlaps") == 1  # one line per file it runs into
    # the owner's file, validated alone, is refused too: the conflict belongs to both
    out = _bad(run_cli("validate", str(institutions / "instituicao-xy.yaml"), env={}))
    assert "intrusa.yaml (dns[0].domain)" in out
    with pytest.raises(ConfigurationError, match=r"intrusa\.yaml"):
        load_catalog(institutions, only=["instituicao-xy"])  # cdk synth -c institutions=instituicao-xy


def test_an_invalid_file_still_holds_what_it_claims(institutions):
    _claimant(institutions, "primeira", "escola-disputada.com.br", valid=False)
    _claimant(institutions, "segunda", "escola-disputada.com.br")
    with pytest.raises(ConfigurationError) as exc:
        load_catalog(institutions, only=["segunda"])
    assert [p.field for p in exc.value.problems] == ["dns[0].domain"]
    assert "primeira.yaml" in exc.value.problems[0].reason


def test_an_edited_copy_stands_for_its_own_file(institutions, tmp_path):
    """add-company validates the new text in another directory: it must not conflict with itself."""
    copy = tmp_path / "instituicao-xy.yaml"
    shutil.copy(institutions / "instituicao-xy.yaml", copy)
    catalog, problems = check_files(institutions, [copy])
    assert problems == [] and list(catalog.institutions) == ["instituicao-xy"]


def test_claims_are_read_from_unreadable_parts_leniently():
    doc = {"dns": [{"domain": "Exemplo.com.br", "hosted_zone_id": "ZX1"}, "bad", {"domain": 3}],
           "companies": [{"accounts": {"a": "a@b.com.br", "b": {"email": "x@y.com.br"}, "c": ["no"]}}, None]}
    claims = {(c.kind, c.value) for c in claims_of(doc, "f.yaml")}
    assert claims == {("domain", "exemplo.com.br"), ("zone", "ZX1"), ("address", "a@b.com.br"),
                      ("domain", "b.com.br"), ("address", "x@y.com.br"), ("domain", "y.com.br"),
                      ("slug", "f")}  # the file's name, as no slug is given; no name is given either
    named = claims_of({"name": ["not text"], "slug": 7, "companies": [{"name": "Сосо"}, {"name": ""}]}, "f.yaml")
    assert [(c.kind, c.field, c.value, c.text) for c in named] == [("name", "companies[0].name", "Coco", "Сосо")]


def test_catalog_level_checks_run_on_what_parsed(monkeypatch):
    seen = []

    def check(catalog):
        seen.append(sorted(catalog.institutions))
        return [Problem("limits", 0, "names", "a catalog-level problem")]

    monkeypatch.setattr(loader, "CATALOG_CHECKS", [check])
    catalog, problems = check_files(INSTITUTIONS)
    assert catalog is None and [p.reason for p in problems] == ["a catalog-level problem"]
    assert seen == [["escola-padrao", "faculdade-acao", "faculdade-delta", "instituicao-xy"]]


def test_add_company_runs_the_catalog_checks_on_the_edited_file(institutions, capsys):
    """add-company validates its result with the same catalog checks as every load (the AWS limits)."""
    from tutormail.cli.main import main

    def check(catalog):
        return [Problem(i.source, 1, "companies", "too many companies for AWS")
                for i in catalog.institutions.values() if len(i.companies) > 2]

    before = (institutions / "instituicao-xy.yaml").read_text()
    kept = list(loader.CATALOG_CHECKS)
    loader.CATALOG_CHECKS[:] = [check]  # in place: the CLI holds the list itself
    try:
        code = main(["add-company", "instituicao-xy", "--from", "Colégio XY", "--name", "Colégio Novo",
                     "--institutions", str(institutions)])
    finally:
        loader.CATALOG_CHECKS[:] = kept
    assert code == 2 and "instituicao-xy.yaml:1: companies: too many companies for AWS" in capsys.readouterr().err
    assert (institutions / "instituicao-xy.yaml").read_text() == before


def test_the_examples_have_no_conflicts():
    assert check_files(INSTITUTIONS)[1] == []


def test_add_company_refuses_another_institutions_address(institutions):
    before = (institutions / "instituicao-xy.yaml").read_text()
    out = _bad(run_cli("add-company", "instituicao-xy", "--from", "Colégio XY", "--name", "Colégio Novo",
                       "--email", "secretaria@faculdadedelta.edu.br", "--institutions", str(institutions), env={}))
    assert "instituicao-xy.yaml" in out and "faculdade-delta.yaml (companies[0].accounts.secretaria)" in out
    assert (institutions / "instituicao-xy.yaml").read_text() == before
