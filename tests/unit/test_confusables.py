"""Names and slugs that read as another tenant's: UTS #39 skeletons from Unicode's confusables data
(tutormail/catalog/confusables.py), checked across institution files (catalog/ownership.py)."""

from __future__ import annotations

import hashlib
import unicodedata

import pytest
from tutormail.catalog import confusables
from tutormail.plan.loader import check_files

from tests.conftest import run_cli
from tests.factory import company, institution


def test_the_data_file_is_unicodes_confusables_txt_as_pinned():
    raw = confusables.DATA.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == confusables.DATA_SHA256
    head = raw.decode("utf-8-sig").splitlines()[:10]
    assert head[0] == "# confusables.txt" and "# Version: 13.0.0" in head
    table = confusables.prototypes()
    assert len(table) == 6311  # one mapping a line, none lost by the reader
    assert table["\u0430"] == "a" and table["m"] == "rn" and table["1"] == "l" and "a" not in table


@pytest.mark.parametrize(("one", "other"), [
    ("Сосо", "Coco"),  # all Cyrillic: one script, so not "mixed", yet it reads as the Latin name
    ("Instituição ХУ", "Instituição XY"),  # Cyrillic Х and У
    ("escola1", "escolal"), ("escola modelo", "escola rnodelo"), ("modelo", "rnodelo"),
    ("Colégio", unicodedata.normalize("NFD", "Colégio")),  # the same name in another normal form
])
def test_texts_that_read_alike_have_one_skeleton(one, other):
    assert confusables.skeleton(one) == confusables.skeleton(other)


@pytest.mark.parametrize(("one", "other"), [("Coco", "Cocó"), ("Escola XY", "Escola YX"), ("dona", "dana")])
def test_texts_that_read_differently_do_not(one, other):
    assert confusables.skeleton(one) != confusables.skeleton(other)


def problems_of(institution_files, **institutions):
    directory = institution_files(**institutions)
    catalog, problems = check_files(directory)
    assert catalog is None or not problems
    return directory, problems


def test_a_name_all_in_cyrillic_that_reads_as_another_tenants_latin_name_is_refused(institution_files):
    directory, problems = problems_of(institution_files, coco=institution("Coco"),
                                      falsa=institution("Сосо", companies=[company("Escola Falsa")]))
    found = {(p.file.rsplit("/", 1)[-1], p.field) for p in problems}
    assert found == {("coco.yaml", "name"), ("coco.yaml", "companies[0].name"), ("falsa.yaml", "name")}
    [falsa] = [p for p in problems if p.file.endswith("falsa.yaml")]
    assert "'Сосо' reads as 'Coco'" in falsa.reason and "coco.yaml (companies[0].name, name)" in falsa.reason
    assert "UTS #39" in falsa.reason and falsa.line == 1
    result = run_cli("validate", "--institutions", str(directory))
    assert result.returncode == 2 and "falsa.yaml" in result.stderr + result.stdout
    assert "coco.yaml" in result.stderr + result.stdout


def test_a_company_name_and_a_slug_that_read_as_another_tenants_are_refused(institution_files):
    _, problems = problems_of(institution_files, escola1=institution("Uma"), escolal=institution("Outra"),
                              xy=institution("Instituição XY"),
                              falsa=institution("Falsa", companies=[company("Instituição ХУ")]))
    found = {(p.file.rsplit("/", 1)[-1], p.field) for p in problems}
    assert found == {("escola1.yaml", "slug"), ("escolal.yaml", "slug"), ("falsa.yaml", "companies[0].name"),
                     ("xy.yaml", "name"), ("xy.yaml", "companies[0].name")}


def test_the_same_name_in_two_files_and_names_that_only_look_related_pass(institution_files):
    _, problems = problems_of(institution_files, escola=institution("Escola São José"),
                              outra=institution("Escola São José", slug="outra"),
                              terceira=institution("Escola Sao Jose"))
    assert problems == []
