"""The onboarding flow end to end on the sandbox: real `cdk deploy`, real BIND, real SMTP.

The tests run in file order and share one deployed sandbox, as an operator's day would.
"""

from __future__ import annotations

import json
import os
import shutil
import smtplib
import stat
import time

import boto3
import pytest
from tutormail.aws.progress_store import ProgressStore
from tutormail.tutor_setup.smtp_password import smtp_password

from sandbox import launcher
from tests.conftest import INSTITUTIONS, TEST_RECIPIENT, cdk, run_cli, smtp_login
from tests.e2e.iam_calls import CallLog

CALLS = CallLog()  # command -> IAM actions its principal was decided on


def cli(env, *args):
    return CALLS.run(env, *args)  # secrets in outputs: tests/e2e/test_secret_scan.py runs its own commands


def as_json(result):
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


def identities(result):
    """The identities of the one institution a `verify --output json` was asked about."""
    [institution] = as_json(result)["institutions"]
    return institution["identities"]


def secret_of(slug):
    client = boto3.client("secretsmanager")
    return json.loads(client.get_secret_value(SecretId=f"tutormail/{slug}/smtp")["SecretString"])


@pytest.fixture(scope="module")
def env(deployed):
    """What the CLI runs as: the operator principal (tutormail-operator), never the administrator."""
    return deployed["operator_env"]


@pytest.fixture(autouse=True)
def _aws_env(deployed, monkeypatch):
    # In-process boto3 (the tests' own look behind the product's back) runs as the administrator.
    for key, value in deployed["env"].items():
        monkeypatch.setenv(key, value)


def test_cenario1_publish_then_verify_on_every_authoritative_server(env):
    before = cli(env, "verify", "faculdade-delta", "--output", "json")
    assert before.returncode == 3, before.stderr
    domain = next(i for i in identities(before) if i["identity"] == "faculdadedelta.edu.br")
    assert domain["state"] == "pending" and {f["status"] for f in domain["dns"]["findings"]} == {"missing"}

    first = cli(env, "dns-publish", "faculdade-delta", "--output", "json")
    assert first.returncode == 0, first.stderr
    assert "updated: 6 record set(s)" in json.dumps(as_json(first))
    again = cli(env, "dns-publish", "faculdade-delta", "--output", "json")
    assert "nothing to do" in json.dumps(as_json(again)) and again.returncode == 0

    after = cli(env, "verify", "faculdade-delta", "--wait", "--timeout", "30s", "--output", "json")
    assert after.returncode == 0, after.stdout + after.stderr
    for _ in range(20):  # the secondary takes the change by NOTIFY and zone transfer: bounded wait
        if "missing" not in after.stdout:
            break
        time.sleep(0.5)
        after = cli(env, "verify", "faculdade-delta", "--output", "json")
    for identity in identities(after):
        findings = identity["dns"]["findings"]
        assert {f["server"].split(".")[0] for f in findings} == {"ns1", "ns2"}
        assert {f["status"] for f in findings} == {"found"}, findings
        assert identity["ses"]["status"] == "SUCCESS"


def test_records_in_zone_format_name_the_real_tokens(env):
    result = cli(env, "dns-records", "faculdade-delta", "--format", "zone", "--domain", "faculdadedelta.edu.br")
    tokens = boto3.client("sesv2").get_email_identity(EmailIdentity="faculdadedelta.edu.br")["DkimAttributes"]["Tokens"]
    for token in tokens:
        assert f"{token}._domainkey.faculdadedelta.edu.br. 1800 IN CNAME {token}.dkim.amazonses.com." in result.stdout


def test_cenario2_link_expires_then_a_new_one_verifies(env, deployed):
    assert cli(env, "dns-publish", "instituicao-xy").returncode == 0
    pending = cli(env, "verify", "instituicao-xy", "--output", "json")
    assert pending.returncode == 3
    link = next(i for i in identities(pending) if i["identity"] == "contato@colegioxy.com.br")
    assert link["state"] == "pending" and link["actor"] == "institution"

    # phase 2 is gated per account: the pending sender is not to configure yet, the others are ready
    settings = run_cli("smtp-settings", "instituicao-xy", "--output", "json", env=env)
    assert settings.returncode == 3, settings.stderr
    rows = as_json(settings)["accounts"]
    assert len(rows) == 4 and {r["password"] for r in rows} == {"********"} and all(r["verified"] for r in rows)
    [held] = as_json(settings)["not_ready"]
    assert (held["company"], held["account"], held["state"]) == ("Colégio XY", "comunicacao", "pending")
    partly = run_cli("smtp-settings", "instituicao-xy", "--reveal", env=env)
    assert partly.returncode == 3 and "contato@colegioxy.com.br: not verified for sending" in partly.stderr
    released, _, rest = partly.stdout.partition("not to configure yet")
    assert "Senha" in released and "contato@colegioxy.com.br" not in released and "********" not in released
    assert "contato@colegioxy.com.br" in rest and "pending" in rest

    sent = cli(env, "request-link", "instituicao-xy", "--output", "json")
    assert sent.returncode == 3 and as_json(sent)["links"][0]["sent"] is True
    assert "p=reject" in sent.stderr  # DMARC pre-flight of colegioxy.com.br
    status = cli(env, "status", "instituicao-xy", "--output", "json")
    assert status.returncode == 3
    waiting = next(r for r in as_json(status)["rows"] if r["address"] == "contato@colegioxy.com.br")
    assert waiting["phase"] == "1 pending" and waiting["actor"] == "institution" and waiting["link_expires_at"]
    assert "p=reject" in waiting["dmarc_warning"]
    twice = cli(env, "request-link", "instituicao-xy", "--output", "json")
    assert as_json(twice)["links"][0]["sent"] is False and "use --force" in as_json(twice)["links"][0]["result"]

    launcher.advance_clock(deployed["state"], 25)
    expired = cli(env, "verify", "instituicao-xy", "--output", "json")
    assert expired.returncode == 1
    link = next(i for i in identities(expired) if i["identity"] == "contato@colegioxy.com.br")
    assert link["state"] == "expired" and "request a new link" in link["next_action"]
    status, _ = launcher.open_link(deployed["state"], "contato@colegioxy.com.br")
    assert status == 410  # the old link no longer works

    renewed = cli(env, "verify", "instituicao-xy", "--auto-resend", "--output", "json")
    assert renewed.returncode == 3, renewed.stderr
    assert _phase_tags("instituicao-xy")["tutormail:link:contato@colegioxy.com.br"].startswith("2 ")
    status, _ = launcher.open_link(deployed["state"], "contato@colegioxy.com.br")
    assert status == 200
    done = cli(env, "verify", "instituicao-xy", "--output", "json")
    assert done.returncode == 1, done.stdout  # verified, yet blocked by DMARC: never called ready
    link = next(i for i in identities(done) if i["identity"] == "contato@colegioxy.com.br")
    assert link["state"] == "verified" and link["deliverability"]["state"] == "blocked"
    assert link["deliverability"]["record"] == "v=DMARC1; p=reject; rua=mailto:dmarc@colegioxy.com.br"


def test_dmarc_gate_refuses_a_blocked_sender_until_the_risk_is_accepted(env, deployed):
    status = cli(env, "status", "instituicao-xy", "--output", "json")
    assert status.returncode == 1, status.stdout + status.stderr
    row = next(r for r in as_json(status)["rows"] if r["address"] == "contato@colegioxy.com.br")
    assert row["phase"] == "1 blocked by DMARC" and row["actor"] == "institution"
    assert row["deliverability"]["record_name"] == "_dmarc.colegioxy.com.br"
    assert "Cenário 1" in row["next_action"] and "--accept-dmarc-risk" in row["next_action"]
    table = cli(env, "status", "instituicao-xy")
    assert "1 blocked by DMARC" in table.stdout and "p=reject" in table.stderr

    # one company's blocked address holds back only itself (issue 21)
    partly = cli(env, "smtp-settings", "instituicao-xy", "--reveal", "--output", "json")
    assert partly.returncode == 1
    assert "contato@colegioxy.com.br: blocked by DMARC: _dmarc.colegioxy.com.br publishes" in partly.stderr
    released = as_json(partly)["accounts"]
    assert len(released) == 4 and "********" not in {r["password"] for r in released}
    [held] = as_json(partly)["not_ready"]
    assert (held["address"], held["state"]) == ("contato@colegioxy.com.br", "blocked")
    assert "Cenário 1" in held["way_out"]
    assert "tutormail:dmarc-risk:contato@colegioxy.com.br" not in _phase_tags("instituicao-xy")
    assert "tutormail:released:contato@colegioxy.com.br" not in _phase_tags("instituicao-xy")
    ready = cli(env, "smtp-settings", "instituicao-xy", "--company", "Instituição XY", "--output", "json")
    assert ready.returncode == 0 and as_json(ready)["not_ready"] == []
    mails = len(list((deployed["state"] / "mailbox").glob("*.eml")))
    test = ("send-test", "instituicao-xy", "--company", "Colégio XY", "--to", "teste@exemplo.com.br")
    blocked = cli(env, *test)
    assert blocked.returncode == 1 and "way out: move colegioxy.com.br to Cenário 1" in blocked.stderr
    assert len(list((deployed["state"] / "mailbox").glob("*.eml"))) == mails  # nothing was sent

    accepted = cli(env, *test, "--accept-dmarc-risk", "--output", "json")
    assert accepted.returncode == 0 and as_json(accepted)["smtp_code"] == 250, accepted.stderr
    assert "DMARC risk accepted by arn:aws:" in accepted.stderr
    tags = _phase_tags("instituicao-xy")
    when, policy, who = tags["tutormail:dmarc-risk:contato@colegioxy.com.br"].split(" ")
    assert time.strptime(when, "%Y-%m-%dT%H:%M:%SZ") and policy == "reject" and who.startswith("arn:aws:")
    row = next(r for r in as_json(cli(env, "status", "instituicao-xy", "--output", "json"))["rows"]
               if r["address"] == "contato@colegioxy.com.br")
    assert row["phase"] == "3 tested" and row["deliverability"]["state"] == "accepted"
    assert row["deliverability"]["accepted_by"] == who and row["deliverability"]["accepted_at"] == when
    again = cli(env, *test)  # the recorded acceptance stands for the policy it accepted
    assert again.returncode == 0 and "risk accepted by" in again.stderr
    assert cli(env, "verify", "instituicao-xy").returncode == 0


def test_settings_released_once_verified_and_written_0600(env, tmp_path):
    out = tmp_path / "settings.json"
    result = cli(env, "smtp-settings", "instituicao-xy", "--company", "Instituição XY", "--account", "comunicacao",
                 "--reveal", "--format", "json", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and result.stdout == ""
    [row] = json.loads(out.read_text())["accounts"]
    secret = secret_of("instituicao-xy")
    assert row["password"] == smtp_password(secret["secret_access_key"], secret["region"])
    assert row["user"] == secret["access_key_id"] and row["port"] == 587 and row["ssl"] == "Não"
    assert row["from"] == '"Instituição XY" <comunicacao@instituicaoxy.com.br>' and "from_label" not in row


def test_send_test_for_every_account_of_every_company(env, deployed):
    for slug in ("escola-padrao", "faculdade-acao", "faculdade-delta", "instituicao-xy"):
        plan = as_json(cli(env, "plan", slug, "--offline", "--output", "json"))
        for company in plan["companies"]:
            for account in company["accounts"]:
                result = cli(env, "send-test", slug, "--company", company["name"], "--account", account["account"],
                             "--to", TEST_RECIPIENT, "--output", "json")
                data = as_json(result)
                assert result.returncode == 0 and data["smtp_code"] == 250, result.stdout + result.stderr
                assert data["message_id"]
    mails = list((deployed["state"] / "mailbox").glob("*.eml"))
    assert len(mails) >= 10
    assert "tutormail:phase3:comunicacao@instituicaoxy.com.br" in _phase_tags("instituicao-xy")
    status = cli(env, "status", "--all", "--output", "json")
    assert status.returncode == 0, status.stdout + status.stderr
    rows = as_json(status)["rows"]
    assert len(rows) == 12 and {r["phase"] for r in rows} == {"3 tested"}
    assert {r["next_action"] for r in rows} == {"none"}
    drift = cli(env, "status", "--all", "--drift", "--output", "json")  # as the operator: records, DKIM, key ages
    assert drift.returncode == 0 and {tuple(r["drift"]) for r in as_json(drift)["rows"]} == {()}, drift.stdout


def test_one_institutions_credentials_cannot_send_as_another(env):
    escola = secret_of("escola-padrao")
    with smtp_login(env, escola["access_key_id"], smtp_password(escola["secret_access_key"], escola["region"])) as smtp:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            smtp.sendmail("comunicacao@instituicaoxy.com.br", ["x@exemplo.com.br"],
                          b"From: comunicacao@instituicaoxy.com.br\r\nSubject: t\r\n\r\nt\r\n")
    assert refused.value.smtp_code == 554 and b"not authorized" in refused.value.smtp_error


def _phase_tags(slug):
    """The institution's progress marks, as the progress table holds them."""
    return ProgressStore("us-east-1").institution(slug)


def test_a_sender_refused_at_the_end_of_data_is_never_reported_as_sent(env):
    """SES refuses a From the user may not use with a 554 after DATA: send-test must say so (exit 1) and
    record no phase 3. escola-padrao's platform address is verified by the deploy alone; its secret is
    given faculdade-delta's key, whose policy allows only faculdade-delta's addresses."""
    client = boto3.client("secretsmanager")
    mine = client.get_secret_value(SecretId="tutormail/escola-padrao/smtp")["SecretString"]
    other = client.get_secret_value(SecretId="tutormail/faculdade-delta/smtp")["SecretString"]
    before = _phase_tags("escola-padrao")
    client.put_secret_value(SecretId="tutormail/escola-padrao/smtp", SecretString=other)
    try:
        result = cli(env, "send-test", "escola-padrao", "--to", "x@exemplo.com.br", "--output", "json")
    finally:
        client.put_secret_value(SecretId="tutormail/escola-padrao/smtp", SecretString=mine)
    data = as_json(result)
    assert result.returncode == 1, result.stdout + result.stderr
    assert data["accepted"] is False and data["smtp_code"] == 554 and "not authorized" in data["server_reply"]
    assert "may not send as this From address" in result.stderr
    after = _phase_tags("escola-padrao")
    assert {k: v for k, v in after.items() if ":phase3:" in k} == {k: v for k, v in before.items() if ":phase3:" in k}


def test_settings_are_marked_released_only_once_written(env, tmp_path):
    before = _phase_tags("escola-padrao")
    directory = tmp_path / "a-directory"
    directory.mkdir()
    result = cli(env, "smtp-settings", "escola-padrao", "--reveal", "--out", str(directory))
    assert result.returncode == 2 and "--out" in result.stderr and "Traceback" not in result.stderr
    assert _phase_tags("escola-padrao") == before
    # an existing file (here world-readable) is replaced by a new 0600 file, never written into;
    # a symlink at the path is replaced, its target left alone
    existing, target = tmp_path / "existing.env", tmp_path / "target.txt"
    existing.write_text("old\n")
    existing.chmod(0o666)
    target.write_text("not yours\n")
    link = tmp_path / "link.env"
    link.symlink_to(target)
    for path in (existing, link):
        inode = os.lstat(path).st_ino
        result = run_cli("smtp-settings", "escola-padrao", "--reveal", "--format", "env", "--out", str(path), env=env)
        assert result.returncode == 0, result.stderr
        info = os.lstat(path)
        assert stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == os.getuid()
        assert info.st_ino != inode and "PASSWORD=" in path.read_text()
    assert target.read_text() == "not yours\n"
    assert any(":released:" in k for k in _phase_tags("escola-padrao"))


def test_wrong_credentials_get_the_535_explanation_and_exit_4(env):
    client = boto3.client("secretsmanager")
    real = client.get_secret_value(SecretId="tutormail/escola-padrao/smtp")["SecretString"]
    wrong = {**json.loads(real), "secret_access_key": "obviously-wrong-secret-for-the-test"}
    client.put_secret_value(SecretId="tutormail/escola-padrao/smtp", SecretString=json.dumps(wrong))
    try:
        result = cli(env, "send-test", "escola-padrao", "--to", "x@exemplo.com.br", "--attempts", "1")
    finally:
        client.put_secret_value(SecretId="tutormail/escola-padrao/smtp", SecretString=real)
    assert result.returncode == 4
    assert "535" in result.stderr and "another region" in result.stderr
    bad_to = cli(env, "send-test", "escola-padrao", "--to", "not an address")
    assert bad_to.returncode == 2 and "--to" in bad_to.stderr and "Traceback" not in bad_to.stderr


def test_an_inactive_key_is_exit_1_not_a_service_error(env):
    """The sandbox refuses an Inactive key at AUTH (535), as SES does; IAM says it is Inactive, and
    nothing but a person undoes that, so send-test asks a person to act instead of to run again."""
    key_id = json.loads(boto3.client("secretsmanager").get_secret_value(
        SecretId="tutormail/escola-padrao/smtp")["SecretString"])["access_key_id"]
    iam = boto3.client("iam")
    iam.update_access_key(UserName="tutormail-escola-padrao-smtp", AccessKeyId=key_id, Status="Inactive")
    try:
        result = cli(env, "send-test", "escola-padrao", "--to", "x@exemplo.com.br", "--attempts", "1")
    finally:
        iam.update_access_key(UserName="tutormail-escola-padrao-smtp", AccessKeyId=key_id, Status="Active")
    assert result.returncode == 1, result.stderr
    assert "535" in result.stderr and "Inactive in IAM" in result.stderr


def test_key_rotation_keeps_the_old_key_until_the_next_deploy(env, deployed, tmp_path):
    deployer = deployed["deploy_env"]
    directory = tmp_path / "institutions"
    shutil.copytree(INSTITUTIONS, directory)
    old = secret_of("escola-padrao")

    def deploy(extra):
        path = directory / "escola-padrao.yaml"
        path.write_text((INSTITUTIONS / "escola-padrao.yaml").read_text() + extra)
        result = cdk("deploy", "TutorMail-escola-padrao", "--exclusively", "--require-approval", "never",
                     "--method", "direct", "-c", f"institutions_dir={directory}", env=deployer)
        assert result.returncode == 0, result.stderr[-3000:]

    deploy("smtp_key_generation: 2\nsmtp_key_keep_previous: true\n")
    new = secret_of("escola-padrao")
    assert new["access_key_id"] != old["access_key_id"] and new["key_generation"] == "2"
    for key in (old, new):
        smtp_login(env, key["access_key_id"], smtp_password(key["secret_access_key"], key["region"])).quit()

    deploy("smtp_key_generation: 2\n")
    smtp_login(env, new["access_key_id"], smtp_password(new["secret_access_key"], new["region"])).quit()
    with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        smtp_login(env, old["access_key_id"], smtp_password(old["secret_access_key"], old["region"]))
    assert refused.value.smtp_code == 535


def test_handoff_for_two_companies_without_the_password(env, tmp_path):
    result = cli(env, "handoff", "instituicao-xy", "--out", str(tmp_path))
    assert result.returncode == 0
    markdown = (tmp_path / "instituicao-xy.md").read_text()
    page = (tmp_path / "instituicao-xy.html").read_text()
    for text in ("Empresa: Instituição XY", "Empresa: Colégio XY", "Módulo Administrativo > Contas de E-mail",
                 "não tem caixa", "continua aberto", "solicitar ao suporte"):
        assert text in markdown
    assert '<html lang="pt-BR">' in page
    assert "&quot;Instituição XY&quot; &lt;comunicacao@instituicaoxy.com.br&gt;" in page
    # the blocked account's DMARC risk was accepted above (send-test --accept-dmarc-risk): the handoff
    # offers it as the readiness does, with who accepted it and when (issue 20); one not accepted is
    # left out of the fill-in tables (issue 21: tests/unit/test_dmarc_gate.py, test_pipeline_cores.py)
    assert "&quot;Colégio XY&quot; &lt;contato@colegioxy.com.br&gt;" in page
    accepted = markdown.partition("## Contas liberadas com o risco DMARC aceito")[2]
    assert "Empresa Colégio XY, conta comunicacao (contato@colegioxy.com.br)" in accepted
    assert "Risco aceito por arn:aws:" in accepted and "(política aceita: reject)" in accepted
    assert "Contas liberadas com o risco DMARC aceito" in page
    assert "Contas que ainda não devem ser configuradas" not in markdown
    assert "comunicacao@instituicao-xy.sistematutor.com.br" in markdown and markdown.count(
        "Empresa Instituição XY, conta") == 0  # Cenário 1 accounts are not affected
    secret = secret_of("instituicao-xy")
    for text in (markdown, page):
        assert secret["secret_access_key"] not in text
        assert smtp_password(secret["secret_access_key"], secret["region"]) not in text


def test_rerunning_every_step_changes_nothing(env, deployed):
    redeploy = cdk("deploy", "--all", "--require-approval", "never", "--method", "direct", env=deployed["deploy_env"])
    assert redeploy.returncode == 0, redeploy.stderr[-2000:]
    again = as_json(cli(env, "dns-publish", "faculdade-delta", "instituicao-xy", "--output", "json"))
    assert [i["institution"] for i in again["institutions"]] == ["faculdade-delta", "instituicao-xy"]
    assert not any(d["result"].startswith("updated") for i in again["institutions"] for d in i["domains"])
    link = as_json(cli(env, "request-link", "instituicao-xy", "--output", "json"))
    assert link["links"][0]["sent"] is False and "already verified" in link["links"][0]["result"]
    assert cli(env, "verify", "instituicao-xy").returncode == 0
    batch = cli(env, "verify", "escola-padrao", "faculdade-delta", "instituicao-xy", "--output", "json")
    assert batch.returncode == 0
    assert [i["institution"] for i in as_json(batch)["institutions"]] == ["escola-padrao", "faculdade-delta",
                                                                           "instituicao-xy"]


def test_preflight_and_lifecycle_commands_read_the_deployed_stacks_as_the_operator(env, tmp_path):
    from aws_cdk import App
    from tutormail.plan.loader import load_catalog

    from infra.app_builder import build_app
    from tests.conftest import cdk_context

    catalog = load_catalog(INSTITUTIONS)
    before = cli(env, "preflight", "--all", "--output", "json")
    # The operator may read all it looks at (DNS outside the sandbox's zones is preflight's own matter).
    assert "not authorized" not in before.stdout + before.stderr, before.stdout[-3000:]
    assert "error" not in as_json(before)["account"]
    assert {r["institution"] for r in as_json(before)["institutions"]} == set(catalog.institutions)
    # Online, plan runs the preflight: a deployed and published institution is clear (re-running is safe).
    planned = cli(env, "plan", "instituicao-xy", "--output", "json")
    assert planned.returncode == 0, planned.stdout[-3000:] + planned.stderr
    assert as_json(planned)["preflight"]["institutions"][0]["conflicts"] == []
    changes = cli(env, "plan-changes", "instituicao-xy", "--output", "json")
    assert changes.returncode == 0, changes.stderr
    assert as_json(changes)["deployed"] is True
    app = App(outdir=str(tmp_path / "cdk.out"), context=cdk_context())
    build_app(app, catalog)
    app.synth()
    found = cli(env, "out-of-date", "--cdk-out", str(tmp_path / "cdk.out"), "--output", "json")
    assert found.returncode == 0, found.stderr
    stacks = {d["stack"]: d["reason"] for d in as_json(found)["deploy"]}
    assert set(stacks) | set(as_json(found)["up_to_date"]) == {
        "TutorMail-Platform", *(f"TutorMail-{slug}" for slug in catalog.institutions)}
    assert "not deployed" not in stacks.values()


def test_the_operator_table_is_exactly_what_the_commands_called(env):
    """Every AWS action a command called as the operator is in its rows of the table, and every row
    was called by its command (the run above drives each onboarding command the table names), but
    the rows of the one-time migration of progress marks, which only an institution's first read
    calls (they are asserted in tests/lifecycle/test_progress_store.py). offboard is checked the same
    way by tests/lifecycle/test_offboard.py, cleanup by tests/lifecycle/test_cleanup.py,
    reputation/pause/resume by tests/e2e/test_reputation.py."""
    from tutormail.aws.permissions import COMMAND_ACTIONS

    others = {"offboard", "cleanup", "reputation", "pause", "resume"}
    missing, unused = CALLS.differences({g.command for g in COMMAND_ACTIONS} - others)
    assert not missing, f"called but not in tutormail.aws.permissions: {missing}"
    assert not unused, f"granted but never called by the command: {unused}"
