"""`tutormail plan-changes` against the example stacks deployed into the sandbox by the real CDK
CLI: an edited file's identities, records and sending addresses, created, kept or removed."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import INSTITUTIONS, run_cli

XY = "instituicao-xy.yaml"
CENARIO2_COMPANY = "  - name: Colégio XY\n    accounts:\n      comunicacao: contato@colegioxy.com.br"


@pytest.fixture
def directory(tmp_path):
    copy = tmp_path / "institutions"
    shutil.copytree(INSTITUTIONS, copy)
    return copy


def edit(directory, old, new):
    path = directory / XY
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def rotate(directory, generation, keep_previous=True):
    path = directory / XY
    path.write_text(path.read_text() + f"smtp_key_generation: {generation}\n"
                    + ("smtp_key_keep_previous: true\n" if keep_previous else ""))


SPLIT = {"create": "created", "keep": "kept", "delete": "removed"}
KINDS = {"identities": "identity", "records": "record", "from_addresses": "from-address", "smtp_keys": "smtp-key"}


def plan_changes(deployed, directory, slug="instituicao-xy", code=0):
    """The command's changes split, as these tests read them, into created, kept and removed by kind;
    `problems`: the reasons of what is left for a person."""
    result = run_cli("plan-changes", slug, "--output", "json",
                     env={**deployed["operator_env"], "TUTORMAIL_INSTITUTIONS": str(directory)})
    assert result.returncode == code, result.stderr
    data = json.loads(result.stdout)
    assert data["schema_version"] == 2 and data["exit_code"] == code
    found = {"deployed": data["deployed"],
             "problems": [c["reason"] for c in data["changes"] if c["action"] == "person"]}
    for what, kind in KINDS.items():
        found[what] = {word: [] for word in SPLIT.values()}
        for change in (c for c in data["changes"] if c["kind"] == kind and c["action"] in SPLIT):
            name = int(change["name"]) if kind == "smtp-key" else " ".join(filter(None, (change["name"],
                                                                                         change["type"])))
            found[what][SPLIT[change["action"]]].append(name)
    return found


def test_unchanged_file_keeps_everything(deployed, directory):
    found = plan_changes(deployed, directory)
    assert found["deployed"] is True
    for what in ("identities", "records", "from_addresses", "smtp_keys"):
        assert found[what]["created"] == [] and found[what]["removed"] == [], what
    assert "contato@colegioxy.com.br" in found["identities"]["kept"]


def test_a_cenario2_address_whose_domain_becomes_dns(deployed, directory):
    edit(directory, "  - domain: uni-xy.edu.br\n",
         "  - domain: colegioxy.com.br\n    provider: manual\n  - domain: uni-xy.edu.br\n")
    found = plan_changes(deployed, directory)
    assert found["identities"]["created"] == ["colegioxy.com.br"]
    assert found["identities"]["removed"] == ["contato@colegioxy.com.br"]  # else it keeps deciding how it sends
    assert "contato@colegioxy.com.br" in found["from_addresses"]["kept"]
    assert "_dmarc.colegioxy.com.br TXT" in found["records"]["created"]


def test_a_domain_change_removes_the_old_domain_and_its_records(deployed, directory):
    edit(directory, "uni-xy.edu.br", "uni-xy.org.br")
    found = plan_changes(deployed, directory)
    assert found["identities"]["created"] == ["uni-xy.org.br"]
    assert found["identities"]["removed"] == ["uni-xy.edu.br"]
    assert "_dmarc.uni-xy.edu.br TXT" in found["records"]["removed"]
    assert any(r.endswith("._domainkey.uni-xy.edu.br CNAME") for r in found["records"]["removed"])
    assert not any("uni-xy.edu.br" in r for r in found["records"]["kept"] + found["records"]["created"])


def test_a_company_removed_drops_its_identity_and_sending_address(deployed, directory):
    edit(directory, CENARIO2_COMPANY, "")
    found = plan_changes(deployed, directory)
    assert found["identities"]["removed"] == ["contato@colegioxy.com.br"]
    # the company's omitted `news` account used the platform default address, which nothing else uses
    assert found["from_addresses"]["removed"] == ["comunicacao@instituicao-xy.sistematutor.com.br",
                                                  "contato@colegioxy.com.br"]
    assert found["identities"]["created"] == [] and found["records"]["removed"] == []


def test_an_institution_not_deployed_creates_everything(deployed, directory):
    shutil.copy(directory / XY, directory / "nova-xy.yaml")
    (directory / XY).unlink()  # its domains move to the new file, which was never deployed
    path = directory / "nova-xy.yaml"
    path.write_text(path.read_text().replace("slug: instituicao-xy", "slug: nova-xy")
                    .replace("tutormail/instituicao-xy/tsig", "tutormail/nova-xy/tsig"))
    found = plan_changes(deployed, directory, "nova-xy")
    assert found["deployed"] is False and found["identities"]["kept"] == [] and found["identities"]["created"]
    table = run_cli("plan-changes", "nova-xy",
                    env={**deployed["operator_env"], "TUTORMAIL_INSTITUTIONS": str(directory)})
    assert "TutorMail-nova-xy is not deployed" in table.stdout
    # the same changes as a GFM table, for the pull request: one row per change of the JSON
    markdown = run_cli("plan-changes", "nova-xy", "--output", "markdown",
                       env={**deployed["operator_env"], "TUTORMAIL_INSTITUTIONS": str(directory)})
    assert markdown.returncode == 0, markdown.stderr
    rows = [line for line in markdown.stdout.splitlines() if line.startswith("| would create |")]
    data = json.loads(run_cli("plan-changes", "nova-xy", "--output", "json",
                              env={**deployed["operator_env"], "TUTORMAIL_INSTITUTIONS": str(directory)}).stdout)
    assert len(rows) == sum(c["action"] == "create" for c in data["changes"]) > 0
    assert "| would create | identity | uni-xy.edu.br |" in markdown.stdout
    assert "\\_dmarc.uni-xy.edu.br TXT" in markdown.stdout  # a name from the file, escaped


def test_a_key_rotation_one_generation_at_a_time(deployed, directory):
    # instituicao-xy's key is never rotated by other tests: generation 1 is deployed
    rotate(directory, 2)
    found = plan_changes(deployed, directory)
    assert found["smtp_keys"] == {"created": [2], "kept": [1], "removed": []} and found["problems"] == []


def test_a_key_generation_jump_deletes_the_key_tutor_holds_so_a_person_decides(deployed, directory):
    rotate(directory, 3)
    found = plan_changes(deployed, directory, code=1)
    assert found["smtp_keys"] == {"created": [2, 3], "kept": [], "removed": [1]}
    jump, third = found["problems"]
    assert "jumps from 1" in jump and "to 3" in jump and "smtp_key_keep_previous" in jump
    assert "3 access keys at once" in third


def test_a_rotation_without_keep_previous_deletes_the_key_tutor_holds_so_a_person_decides(deployed, directory):
    """README: one more generation *with* smtp_key_keep_previous; without it the deploy deletes the
    key Tutor holds before Tutor has the new one (issue 20)."""
    rotate(directory, 2, keep_previous=False)
    found = plan_changes(deployed, directory, code=1)
    assert found["smtp_keys"] == {"created": [2], "kept": [], "removed": [1]}
    [problem] = found["problems"]
    assert "from 1 (deployed: the key Tutor holds) to 2 without smtp_key_keep_previous" in problem
    assert "2 with smtp_key_keep_previous: true" in problem
