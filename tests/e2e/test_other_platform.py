"""The sandbox runs any platform file: another account and region, taken through the whole flow."""

from __future__ import annotations

import json
import smtplib

import boto3
import pytest
from tutormail.tutor_setup.smtp_password import smtp_password

from sandbox import launcher
from tests.conftest import INSTITUTIONS, TEST_RECIPIENT, cdk, run_cli, smtp_login

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

    # The password Tutor is given logs in at this region's endpoint (SES derives it with the region:
    # https://docs.aws.amazon.com/ses/latest/dg/smtp-credentials.html), and sends as the institution.
    revealed = run_cli("smtp-settings", "escola-sul", "--reveal", "--output", "json", env=env)
    assert revealed.returncode == 0, revealed.stderr
    [row] = {(r["user"], r["password"]): r for r in json.loads(revealed.stdout)["accounts"]}.values()
    assert row["password"] != "********"
    with smtp_login(env, row["user"], row["password"]) as session:
        assert session.sendmail(row["from"], [TEST_RECIPIENT],
                                f"From: {row['from']}\r\nSubject: senha\r\n\r\nteste\r\n".encode()) == {}
    with pytest.raises(smtplib.SMTPAuthenticationError) as refused:  # the same key's password for us-east-1
        smtp_login(env, row["user"], smtp_password(secret_key(admin, row["user"]), "us-east-1"))
    assert refused.value.smtp_code == 535


def secret_key(admin, access_key_id):
    """The secret half of the SMTP key, as the stack stored it (read as the administrator)."""
    client = boto3.session.Session(aws_access_key_id=admin["AWS_ACCESS_KEY_ID"], region_name=REGION,
                                   aws_secret_access_key=admin["AWS_SECRET_ACCESS_KEY"]).client(
        "secretsmanager", endpoint_url=admin["AWS_ENDPOINT_URL"])
    secret = json.loads(client.get_secret_value(SecretId="tutormail/escola-sul/smtp")["SecretString"])
    assert secret["access_key_id"] == access_key_id
    return secret["secret_access_key"]
