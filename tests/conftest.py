"""Shared paths and helpers for the tests."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dns.resolver
import pytest
from hypothesis import settings

# `make test` (and so CI) draws the same examples every run, so a red run is the code's doing and
# can be repeated; HYPOTHESIS_PROFILE=explore (`make explore`) draws new ones to find new bugs.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

REPO = Path(__file__).resolve().parents[1]
# No test may ask the machine's resolver (off loopback): a look-up a test forgot to point at its own
# BIND goes to the discard port of 127.0.0.1 and fails at once. Tests that need DNS set their own.
os.environ.setdefault("TUTORMAIL_RESOLVER", "127.0.0.1:9")
# CDK validates every template it synthesizes against CloudFormation's schemas and rules (about half
# of a synthesis's CPU; docs/TESTING.md). The other tests' syntheses make their templates with the
# same code: tests/infra/test_cdk_cli.py synthesizes with it on (and fails on any finding) and the
# rest skip it. `make demo`, CI and every deploy outside the tests validate as usual.
os.environ.setdefault("CDK_VALIDATION", "false")


def _loopback_only(resolver, _filename="/etc/resolv.conf"):
    # The same for in-process code: the library's "system resolver" (runtime settings without
    # TUTORMAIL_RESOLVER) reads no resolv.conf in tests and asks the discard port.
    resolver.nameservers, resolver.port = ["127.0.0.1"], 9


dns.resolver.Resolver.read_resolv_conf = _loopback_only


# The order the xdist workers take the files in (`make test` passes --no-loadscope-reorder, so xdist
# keeps it): the longest first, so that none starts last and the many short files even the workers
# out at the end. xdist's own order, files with most tests first, left the long end-to-end files of
# one to three tests for last. The list is the slowest files of the last measured run
# (docs/TESTING.md), longest first; other files follow by directory.
SLOW_FILES = ("tests/e2e/test_onboarding.py", "tests/e2e/test_cfn_fidelity.py", "tests/e2e/test_secret_scan.py",
              "tests/e2e/test_pipeline.py", "tests/e2e/test_other_platform.py", "tests/e2e/test_ses_fidelity.py",
              "tests/e2e/test_platform_first_deploy.py", "tests/lifecycle/test_drift.py",
              "tests/lifecycle/test_cleanup.py", "tests/e2e/test_option_properties.py", "tests/unit/test_aws_errors.py")
DIRECTORIES = ("tests/e2e/", "tests/lifecycle/", "tests/infra/", "tests/dns/", "tests/cenario2/", "tests/unit/")


def _file_rank(item) -> tuple[int, int]:
    path = item.nodeid.split("::", 1)[0]
    if path in SLOW_FILES:
        return 0, SLOW_FILES.index(path)
    return 1, next((i for i, d in enumerate(DIRECTORIES) if path.startswith(d)), len(DIRECTORIES))


def pytest_collection_modifyitems(items):
    items.sort(key=_file_rank)  # stable: a file's tests stay together and in their order


@pytest.fixture(autouse=True)
def _fresh_default_boto3_session():
    """`boto3.client()` keeps one default session, and it keeps the credentials it first found: a
    test file that started its own sandbox would leave its keys there for the next file on the same
    xdist worker, whose calls then fail InvalidClientTokenId. Each test reads its own environment."""
    import boto3

    boto3.DEFAULT_SESSION = None
    yield
    boto3.DEFAULT_SESSION = None


INSTITUTIONS = REPO / "institutions"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The sandbox's SES account starts in the SES sandbox, like a new account: mail goes only to verified
# recipients, so the `deployed` fixture verifies this one as an operator would.
TEST_RECIPIENT = "teste@exemplo.com.br"
# An institution's own Route 53 zone, there before its file is: a strict DMARC policy and a CNAME at the
# default MAIL FROM name (tests/e2e/test_existing_zone.py, issue 12). In the sandbox DNS from the start;
# the test writes the same records through the Route 53 API, which the sandbox does not mirror.
EXISTING_ZONE_ID, EXISTING_ZONE = "Z0ESCOLAESTRITA00001", "escolaestrita.com.br"
EXISTING_RECORDS = (("_dmarc", 300, "TXT", '"v=DMARC1; p=reject; rua=mailto:dmarc@escolaestrita.com.br"'),
                    ("bounce", 300, "CNAME", "webmail.provedor.example."))


def cdk_context() -> dict:
    """The context the CDK CLI passes from cdk.json, so in-process apps synthesize the same."""
    return json.loads((REPO / "cdk.json").read_text())["context"]


@pytest.fixture
def examples():
    from tutormail.plan.loader import load_catalog

    return load_catalog(INSTITUTIONS)


# --- the sandbox, for tests that talk to AWS, DNS and SMTP over loopback ----------------------------

@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """The sandbox of `make demo` with the example institutions: a missing part fails, never skips."""
    from sandbox import launcher
    from sandbox.bind import Zone

    state = tmp_path_factory.mktemp("sandbox")
    exports = launcher.up(state, INSTITUTIONS, {EXISTING_ZONE_ID: Zone(EXISTING_ZONE, records=list(EXISTING_RECORDS))})
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


# Each pytest-xdist worker synthesizes into its own cloud assembly: two deploys writing one cdk.out
# at once would read each other's half-written templates.
CDK_OUT = REPO / "build" / f"cdk.out-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


def cdk(*args: str, env: dict, cwd: Path = REPO, output: Path = CDK_OUT):
    """The pinned CDK CLI. A `deploy` or `bootstrap` of the project's app reads the cloud assembly of
    its files and context (`assembly_of`) with `--app`."""
    import subprocess

    if args[0] in ("deploy", "bootstrap") and "--app" not in args and cwd == REPO:
        app = assembly_of(args, env)
        if app is not None:
            args, output = (*args, "--app", str(app)), app
    return subprocess.run([str(REPO / "node_modules" / ".bin" / "cdk"), *args, "--output", str(output),
                           "--no-notices"], cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=240, check=False)


# The tests deploy the same files again and again (each worker's bootstrap, platform and stacks; a
# retry after a failed deploy; a file's own sandbox): a synthesis is most of a deploy's time in the
# sandbox, and the same files and context make the same templates (tests/infra/test_cdk_cli.py pins
# it). So each distinct set is synthesized once per run, by the real CDK CLI (the app and cdk-nag, as
# every deploy would), into build/cdk-assemblies/<its digest>, and its deploys read that assembly; a
# cloud assembly holds everything a deploy needs (https://docs.aws.amazon.com/cdk/v2/guide/ref-cli-cmd-synth.html).
# The xdist workers of one run share its directory (a lock keeps one from reading what another is
# writing); a run never reads another run's, made by other code.
ASSEMBLIES = REPO / "build" / "cdk-assemblies" / os.environ.get("PYTEST_XDIST_TESTRUNUID", f"pid{os.getpid()}")


def pytest_sessionstart(session):
    """Earlier runs' assemblies go (a run older than a day is not running); `make clean` removes all."""
    import shutil
    import time

    for run in ASSEMBLIES.parent.glob("*") if ASSEMBLIES.parent.is_dir() else ():
        if run != ASSEMBLIES and run.stat().st_mtime < time.time() - 86400:
            shutil.rmtree(run, ignore_errors=True)


def assembly_of(args: tuple[str, ...], env: dict) -> Path | None:
    """The assembly of the institution files and `-c` context that `args` name; None when they do not
    synthesize (the caller then runs its command as it was: the test sees the CDK CLI's own failure)."""
    import fcntl
    import hashlib
    import subprocess

    context = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg in ("-c", "--context")]
    named = dict(item.split("=", 1) for item in context)
    directory = (REPO / named.get("institutions_dir", "institutions")).resolve()
    digest = hashlib.sha256(json.dumps([str(directory), sorted(context)]).encode())
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(f"\0{path.relative_to(directory)}\0".encode() + path.read_bytes())
    target = ASSEMBLIES / digest.hexdigest()[:32]
    ASSEMBLIES.mkdir(parents=True, exist_ok=True)
    with open(target.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "manifest.json").exists():
            flags = [part for item in context for part in ("-c", item)]
            result = subprocess.run([str(REPO / "node_modules" / ".bin" / "cdk"), "synth", "--quiet", *flags,
                                     "--output", str(target), "--no-notices"], cwd=REPO,
                                    env={**os.environ, **env}, capture_output=True, text=True, timeout=240,
                                    check=False)
            if result.returncode != 0:
                return None
    return target


# --method direct: moto's change sets do not survive a second deploy of a stack (sandbox/moto_ext).
DEPLOY = ("deploy", "--require-approval", "never", "--method", "direct")


@pytest.fixture(scope="session")
def platform_deployed(sandbox):
    """TutorMail-Platform (its principals' policies, the progress table) deployed by the real CDK
    CLI as in a real account: the administrator bootstraps CDK and deploys it once. The CLI runs as
    the operator principal (`operator_env`); `env` is the administrator's (for tests that look
    behind the product's back)."""
    from sandbox import launcher

    admin = sandbox["env"]
    for args in (("bootstrap", launcher.bootstrap_target(INSTITUTIONS)),
                 (*DEPLOY, "TutorMail-Platform", "--exclusively")):
        result = cdk(*args, env=admin)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    status, text = launcher.verify_recipient(sandbox["state"], TEST_RECIPIENT)
    assert status == 200, text
    return {**sandbox, "operator_env": launcher.principal(admin, "operator", ["tutormail-operator"])}


@pytest.fixture(scope="session")
def deployed(platform_deployed):
    """Every example stack deployed by the deploy principal (`deploy_env`), after the platform."""
    from sandbox import launcher

    deployer = launcher.principal(platform_deployed["env"], "deployer", ["tutormail-deploy"])
    result = cdk(*DEPLOY, "--all", env=deployer)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return {**platform_deployed, "deploy_env": deployer}


@pytest.fixture
def institution_files(tmp_path):
    """write(slug=doc, ...) -> a directory with the platform file and those institutions
    (docs from tests.factory)."""
    from tests.factory import write_institutions

    return lambda **institutions: write_institutions(tmp_path / "institutions", institutions)


def smtp_login(env: dict, access_key_id: str, password: str):
    """An SMTP session with the sandbox's SES stand-in: STARTTLS checked against its CA, then AUTH."""
    import smtplib
    import ssl

    host, port = env["TUTORMAIL_SMTP_ENDPOINT"].rsplit(":", 1)
    smtp = smtplib.SMTP(host, int(port), timeout=10)
    smtp.starttls(context=ssl.create_default_context(cafile=env["TUTORMAIL_SMTP_CA_BUNDLE"]))
    smtp.login(access_key_id, password)
    return smtp
