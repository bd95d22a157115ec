"""Shared paths and helpers for the tests."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# No test may ask the machine's resolver (off loopback): a look-up a test forgot to point at its own
# BIND goes to the discard port of 127.0.0.1 and fails at once. Tests that need DNS set their own.
os.environ.setdefault("TUTORMAIL_RESOLVER", "127.0.0.1:9")
INSTITUTIONS = REPO / "institutions"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def cdk_context() -> dict:
    """The context the CDK CLI passes from cdk.json, so in-process apps synthesize the same."""
    return json.loads((REPO / "cdk.json").read_text())["context"]


@pytest.fixture
def examples():
    from tutormail.catalog.model import load_catalog

    return load_catalog(INSTITUTIONS)


# --- the sandbox, for tests that talk to AWS, DNS and SMTP over loopback ----------------------------

@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """The sandbox of `make demo` with the example institutions: a missing part fails, never skips."""
    from sandbox import launcher

    state = tmp_path_factory.mktemp("sandbox")
    exports = launcher.up(state, INSTITUTIONS)
    try:
        yield {"state": state, "env": exports}
    finally:
        launcher.down(state)


@pytest.fixture
def sandbox_env(sandbox, monkeypatch):
    """The sandbox's variables in this test's environment (in-process boto3 and subprocesses)."""
    for key, value in sandbox["env"].items():
        monkeypatch.setenv(key, value)
    return sandbox["env"]


def run_cli(*args: str, env: dict | None = None, cwd: Path = REPO):
    """The installed `tutormail` command, as CI runs it."""
    import os
    import subprocess
    import sys

    command = Path(sys.executable).parent / "tutormail"
    return subprocess.run([str(command), *args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True,
                          text=True, timeout=180, check=False)


def cdk(*args: str, env: dict, cwd: Path = REPO):
    import os
    import subprocess

    return subprocess.run([str(REPO / "node_modules" / ".bin" / "cdk"), *args, "--no-notices"], cwd=cwd,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=240, check=False)


# --method direct: moto's change sets do not survive a second deploy of a stack (sandbox/moto_ext).
DEPLOY = ("deploy", "--require-approval", "never", "--method", "direct")


@pytest.fixture(scope="session")
def platform_deployed(sandbox):
    """TutorMail-Platform (operator policy, progress table) deployed by the real CDK CLI."""
    env = sandbox["env"]
    for args in (("bootstrap", "aws://123456789012/us-east-1"), (*DEPLOY, "TutorMail-Platform", "--exclusively")):
        result = cdk(*args, env=env)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return sandbox


@pytest.fixture(scope="session")
def deployed(platform_deployed):
    """Every example stack deployed by the real CDK CLI into the sandbox."""
    result = cdk(*DEPLOY, "--all", env=platform_deployed["env"])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return platform_deployed
