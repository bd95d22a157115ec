"""The app through the pinned CDK CLI, as DevOps and CI run it: offline, no credentials."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, INSTITUTIONS, REPO

CDK = REPO / "node_modules" / ".bin" / "cdk"
# Patterns of secret material that must never reach a synthesized file.
SECRET_PATTERNS = {
    "access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "inline secret value": re.compile(r'"secret_access_key\\?"\s*:\s*\\?"[^"\\{]'),
}


CDK_LOGICAL_ID = re.compile(r"[A-Za-z][0-9A-F]{8}$")
SECRET_KEY_SHAPE = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")


def secret_keys_in(text: str) -> list[str]:
    """40-character tokens shaped like an AWS secret access key: mixed case with digits.

    CDK logical ids (words ending in an 8-hex-digit hash) have the same length and alphabet.
    """
    return [m for m in SECRET_KEY_SHAPE.findall(text)
            if any(c.isdigit() for c in m) and any(c.isupper() for c in m) and any(c.islower() for c in m)
            and not CDK_LOGICAL_ID.search(m)]


def cdk_synth(outdir: Path, *extra: str, validation: bool = True) -> subprocess.CompletedProcess:
    # CDK's own template validation on, as `cdk synth` and `cdk deploy` run it everywhere but in the
    # other tests (tests/conftest.py turns it off there). It only warns (its findings fail synthesis
    # with the flag @aws-cdk/core:validateAgainstDefaultRules, which cdk.json leaves off).
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "CDK_VALIDATION"}
    if not validation:
        env["CDK_VALIDATION"] = "false"
    # Any AWS call would go to a closed port and fail: synthesis must not need one.
    env.update(AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, CDK_DISABLE_VERSION_CHECK="1")
    return subprocess.run([str(CDK), "synth", "--quiet", "--no-notices", "--output", str(outdir), *extra],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def assembly(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("cdk.out")
    result = cdk_synth(outdir)
    assert result.returncode == 0, result.stderr
    # The one synthesis of the tests that CDK validates: a finding is a warning naming the plugin.
    assert "(CloudFormation Validate)" not in result.stdout + result.stderr, result.stderr
    return outdir


def test_full_synthesis_offline_without_credentials(assembly):
    templates = sorted(p.name for p in assembly.glob("*.template.json"))
    assert templates == ["TutorMail-Platform.template.json", "TutorMail-escola-padrao.template.json",
                         "TutorMail-faculdade-acao.template.json", "TutorMail-faculdade-delta.template.json",
                         "TutorMail-instituicao-xy.template.json"]


def test_the_same_files_synthesize_the_same_assembly(assembly, tmp_path):
    """What lets the other tests synthesize a set of files once and deploy that assembly each time
    (`assembly_of` in tests/conftest.py), with CDK's validation off as they run it: every file a deploy
    reads, byte for byte. Only the validation's own report differs."""
    result = cdk_synth(tmp_path, validation=False)
    assert result.returncode == 0, result.stderr

    def files(directory):
        return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*"))
                if p.is_file() and p.name != "validation-report.json"}

    first, again = files(assembly), files(tmp_path)
    assert len(first) > 8 and first.keys() == again.keys()
    assert [name for name in first if first[name] != again[name]] == []


def test_cfn_lint_finds_nothing(assembly):
    cfn_lint = shutil.which("cfn-lint")
    assert cfn_lint, "cfn-lint is part of requirements-dev.txt"
    result = subprocess.run([cfn_lint, *map(str, assembly.glob("*.template.json"))], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_synthesized_file_holds_secret_material(assembly):
    files = [p for p in assembly.rglob("*") if p.is_file()]
    assert len(files) > 8
    for path in files:
        text = path.read_text(errors="replace")
        for what, pattern in SECRET_PATTERNS.items():
            match = pattern.search(text)
            assert not match, f"{what} in {path.name}: {match.group(0)[:12]}..."
        assert not secret_keys_in(text), f"secret access key shape in {path.name}"


def test_secret_patterns_do_catch_a_leak():
    fake = '{"secret_access_key":"' + "Fake0" * 8 + '"}'
    assert secret_keys_in(fake)
    assert SECRET_PATTERNS["inline secret value"].search(fake)
    assert SECRET_PATTERNS["access key id"].search("AKIA" + "FAKEFAKEFAKEFAKE")


def test_targeted_synthesis_builds_only_the_named_institution(tmp_path):
    result = cdk_synth(tmp_path, "-c", "institutions=faculdade-delta")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.glob("*.template.json")) == [
        "TutorMail-Platform.template.json", "TutorMail-faculdade-delta.template.json"]


def test_invalid_directory_stops_synthesis_with_file_line_field(tmp_path):
    bad = tmp_path / "institutions"
    bad.mkdir()
    shutil.copy(INSTITUTIONS / "platform.yaml", bad)
    shutil.copy(FIXTURES / "invalid" / "three-problems.yaml", bad)
    result = cdk_synth(tmp_path / "out", "-c", f"institutions_dir={bad}")
    assert result.returncode != 0
    assert "three-problems.yaml:3: slug: must be a DNS label" in result.stderr
    assert "nothing synthesized" in result.stderr
    assert not list((tmp_path / "out").glob("*.template.json"))
