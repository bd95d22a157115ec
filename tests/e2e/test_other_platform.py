"""The sandbox runs any platform file: another account and region, taken through the whole flow."""

from __future__ import annotations

import json

import pytest

from sandbox import launcher
from tests.conftest import INSTITUTIONS, TEST_RECIPIENT, cdk, run_cli

ACCOUNT, REGION = "210987654321", "sa-east-1"


@pytest.fixture(scope="module")
def other(tmp_path_factory):
    directory = tmp_path_factory.mktemp("other-platform")
    platform = (INSTITUTIONS / "platform.yaml").read_text()
    platform = platform.replace('account: "123456789012"', f'account: "{ACCOUNT}"')
    platform = platform.replace("region: us-east-1", f"region: {REGION}")
    assert ACCOUNT in platform and REGION in platform
    (directory / "platform.yaml").write_text(platform)
    (directory / "escola-sul.yaml").write_text("name: Escola Sul\ncompanies:\n  - name: Escola Sul\n")
    state = tmp_path_factory.mktemp("other-sandbox")
    env = {**launcher.up(state, directory), "TUTORMAIL_INSTITUTIONS": str(directory)}
    try:
        yield {"dir": directory, "env": env, "state": state}
    finally:
        launcher.down(state)


def test_bootstrap_deploy_verify_and_send_in_another_account_and_region(other):
    admin, directory = other["env"], other["dir"]
    assert launcher.bootstrap_target(directory) == f"aws://{ACCOUNT}/{REGION}"
    deploy = ("deploy", "--require-approval", "never", "--method", "direct")

    def cdk_ok(*args, env):
        result = cdk(*args, "-c", f"institutions_dir={directory}", env=env)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    cdk_ok("bootstrap", launcher.bootstrap_target(directory), env=admin)
    cdk_ok(*deploy, "TutorMail-Platform", env=admin)
    cdk_ok(*deploy, "--all", env=launcher.principal(admin, "deployer", ["tutormail-deploy"]))
    env = launcher.principal(admin, "operator", ["tutormail-operator"])

    verified = run_cli("verify", "escola-sul", "--wait", "--timeout", "30s", "--output", "json", env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    [institution] = json.loads(verified.stdout)["institutions"]
    assert {i["ses"]["status"] for i in institution["identities"]} == {"SUCCESS"}

    status, text = launcher.verify_recipient(other["state"], TEST_RECIPIENT)  # a new account is in the SES sandbox
    assert status == 200, text
    sent = run_cli("send-test", "escola-sul", "--to", TEST_RECIPIENT, "--output", "json", env=env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert json.loads(sent.stdout)["smtp_code"] == 250
    settings = json.loads(run_cli("smtp-settings", "escola-sul", "--output", "json", env=env).stdout)
    assert {row["smtp"] for row in settings["accounts"]} == {f"email-smtp.{REGION}.amazonaws.com"}
