"""`tutormail out-of-date` on the sandbox: the real CDK synthesis (in process, as tests/infra does:
the CDK CLI would take a minute per synthesis on a loaded machine) and the real `cdk deploy
--parameters` of its assembly, then a changed file and a deleted one, read back with
DescribeStacks pages."""

from __future__ import annotations

import json
import shutil

import pytest
from aws_cdk import App
from tutormail.plan.loader import load_catalog

from infra.app_builder import build_app
from tests.conftest import DEPLOY, INSTITUTIONS, cdk, cdk_context, run_cli

FILE = "name: Vai Mudar\nslug: vai-mudar\ncompanies:\n  - name: Vai Mudar\n    accounts: {}\n"
CHANGED = ("name: Vai Mudar\nslug: vai-mudar\ncompanies:\n  - name: Vai Mudar\n    accounts:\n"
           "      atendimento: atendimento@vaimudar.example.com.br\n")


@pytest.fixture
def directory(tmp_path):
    institutions = tmp_path / "institutions"
    institutions.mkdir()
    shutil.copy(INSTITUTIONS / "platform.yaml", institutions)
    return institutions


def synth(directory, out, only=None):
    app = App(outdir=str(out), context=cdk_context())
    build_app(app, load_catalog(directory, only=only))
    app.synth()


def out_of_date(env, directory, out):
    result = run_cli("out-of-date", "--cdk-out", str(out), "--output", "json",
                     env={**env, "TUTORMAIL_INSTITUTIONS": str(directory)})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    return {d["stack"]: d for d in data["deploy"]}, data


def test_changed_and_deleted_institutions_are_found(platform_deployed, directory, tmp_path):
    # The CLI runs as the operator; the deploy, as the administrator, of the stacks it names.
    env, operator = platform_deployed["env"], platform_deployed["operator_env"]
    (directory / "vai-mudar.yaml").write_text(FILE)
    synth(directory, tmp_path / "first")
    todo, data = out_of_date(operator, directory, tmp_path / "first")
    assert todo["TutorMail-vai-mudar"]["reason"] == "not deployed"
    assert data["region"] == "us-east-1" and "vai-mudar" not in data["offboard"]

    parameters = [a for entry in todo.values() for a in ("--parameters", entry["parameter"])]
    deployed = cdk(*DEPLOY, *todo, "--exclusively", "--app", str(tmp_path / "first"), *parameters, env=env)
    assert deployed.returncode == 0, deployed.stderr[-3000:]
    todo, data = out_of_date(operator, directory, tmp_path / "first")
    assert todo == {} and {"TutorMail-Platform", "TutorMail-vai-mudar"} <= set(data["up_to_date"])

    (directory / "vai-mudar.yaml").write_text(CHANGED)
    synth(directory, tmp_path / "second")
    todo, _ = out_of_date(operator, directory, tmp_path / "second")
    assert set(todo) == {"TutorMail-vai-mudar"} and todo["TutorMail-vai-mudar"]["reason"] == "template changed"

    (directory / "vai-mudar.yaml").unlink()
    synth(directory, tmp_path / "third")
    todo, data = out_of_date(operator, directory, tmp_path / "third")
    assert "vai-mudar" in data["offboard"] and "TutorMail-vai-mudar" not in todo


def test_a_partial_assembly_is_refused(platform_deployed, directory, tmp_path):
    (directory / "vai-mudar.yaml").write_text(FILE)
    (directory / "outra.yaml").write_text(FILE.replace("vai-mudar", "outra").replace("Vai Mudar", "Outra"))
    env = platform_deployed["operator_env"]
    synth(directory, tmp_path / "partial", only=["outra"])
    refused = run_cli("out-of-date", "--cdk-out", str(tmp_path / "partial"),
                      env={**env, "TUTORMAIL_INSTITUTIONS": str(directory)})
    assert refused.returncode == 2 and "lacks TutorMail-vai-mudar" in refused.stderr


def test_no_assembly_is_bad_input(tmp_path, directory):
    result = run_cli("out-of-date", "--cdk-out", str(tmp_path / "nowhere"),
                     env={"TUTORMAIL_INSTITUTIONS": str(directory)})
    assert result.returncode == 2 and "not a cloud assembly" in result.stderr


def _assembly(root, template_file: str, template_text: str | None = None):
    out = root / "cdk.out"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"artifacts": {"TutorMail-Platform": {
        "type": "aws:cloudformation:stack", "properties": {"templateFile": template_file}}}}))
    if template_text is not None:
        (out / "TutorMail-Platform.template.json").write_text(template_text)
    return out


@pytest.mark.parametrize(("template_file", "text", "said"), [
    ("TutorMail-Platform.template.json", "{not json", "cannot be read as JSON"),
    ("TutorMail-Platform.template.json", "[1, 2]", "not a JSON object"),
    ("../secret.json", None, "points outside the assembly"),
    ("/etc/hostname", None, "points outside the assembly"),
    ("link.json", None, "points outside the assembly"),
])
def test_a_corrupt_or_escaping_assembly_is_bad_input(tmp_path, directory, template_file, text, said):
    (tmp_path / "secret.json").write_text("{}")
    out = _assembly(tmp_path, template_file, text)
    (out / "link.json").symlink_to(tmp_path / "secret.json")
    result = run_cli("out-of-date", "--cdk-out", str(out), env={"TUTORMAIL_INSTITUTIONS": str(directory)})
    assert result.returncode == 2 and said in result.stderr and "Traceback" not in result.stderr
