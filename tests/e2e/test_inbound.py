"""Issue 25 on the sandbox, as the product deploys it: a platform.yaml with receiving:, the real
cdk deploy of TutorMail-Platform (bucket, rule set, check rule, replies handler) and of the
institution stacks (MX, replies settings; the platform's one replies rule), `receiving-activate`, then
`send-test --check` for a Cenário 1
sender (aligned: exit 0) and a Cenário 2 sender (not aligned: exit 1), a reply forwarded to replies_to,
and the once-a-day note, never sent twice nor to an Auto-Submitted message. The sandbox's SES
receiving (sandbox/receiving.py) writes the Authentication-Results and runs the rules' actions."""

from __future__ import annotations

import json
import shutil
import smtplib
import ssl
import uuid
from pathlib import Path

import boto3
import pytest

from sandbox import launcher
from tests.conftest import DEPLOY, INSTITUTIONS, cdk, run_cli
from tests.e2e.iam_calls import CallLog

RECEIVING = "receiving:\n  check_subdomain: check\n  retention_days: 3\n"
FORWARD_TO = "secretaria@instituicaoxy.com.br"  # instituicao-xy's replies_to (its own Cenário 1 domain)
STUDENT = "aluna@instituicaoxy.com.br"  # a verified recipient: the account is in the SES sandbox
CALLS = CallLog()


@pytest.fixture(scope="module")
def inbound(tmp_path_factory):
    directory = tmp_path_factory.mktemp("inbound") / "institutions"
    shutil.copytree(INSTITUTIONS, directory)
    (directory / "platform.yaml").write_text((directory / "platform.yaml").read_text() + RECEIVING)
    xy = directory / "instituicao-xy.yaml"
    xy.write_text(xy.read_text() + f"replies_to: {FORWARD_TO}\n")
    state = tmp_path_factory.mktemp("inbound-sandbox")
    admin = {**launcher.up(state, directory), "TUTORMAIL_INSTITUTIONS": str(directory)}
    try:
        for args, env in ((("bootstrap", launcher.bootstrap_target(directory)), admin),
                          ((*DEPLOY, "TutorMail-Platform", "--exclusively"), admin)):
            result = cdk(*args, "-c", f"institutions_dir={directory}", env=env)
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        deployer = launcher.principal(admin, "deployer", ["tutormail-deploy"])
        result = cdk(*DEPLOY, "--all", "-c", f"institutions_dir={directory}", env=deployer)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        operator = {**launcher.principal(admin, "operator", ["tutormail-operator"]),
                    "TUTORMAIL_INSTITUTIONS": str(directory)}
        for address in (FORWARD_TO, STUDENT, "contato@colegioxy.com.br"):
            status, text = launcher.verify_recipient(state, address)
            assert status == 200, text
        yield {"admin": admin, "operator": operator, "state": state, "dir": directory}
    finally:
        launcher.down(state)


def test_activation_then_the_rule_set_is_the_active_one(inbound):
    done = run_cli("receiving-activate", "--apply", "--output", "json", env=inbound["admin"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["active"] == "tutormail-inbound"
    again = run_cli("receiving-activate", "--output", "json", env=inbound["admin"])
    assert again.returncode == 0 and json.loads(again.stdout)["activated"] is False


def test_cenario1_sender_passes_dmarc_aligned(inbound):
    # The account's own Route 53 domain: its stack wrote the DKIM CNAMEs, SES sees them (the gate asks).
    result = CALLS.run(inbound["operator"], "send-test", "instituicao-xy", "--check", "--wait", "60s",
                       "--output", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    check = data["check"]
    assert data["to"] == "check@check.sistematutor.com.br" and data["arrived"] is True
    assert check["dkim"] == {"result": "pass", "domain": "instituicaoxy.com.br", "aligned": True}
    assert check["dmarc"]["result"] == "pass" and check["dmarc"]["aligned_pass"] is True
    assert "instituicaoxy.com.br" in check["from"]


def test_cenario2_sender_fails_alignment_with_the_way_out(inbound):
    # The phase gate holds a Cenário 2 sender whose domain's DMARC would block it: the risk is accepted
    # (recorded) so the message goes, and the receiver's verdict is read back.
    result = CALLS.run(inbound["operator"], "send-test", "instituicao-xy", "--check", "--company", "Colégio XY",
                       "--account", "comunicacao", "--accept-dmarc-risk", "--wait", "60s", "--output", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    check = json.loads(result.stdout)["check"]
    assert check["dkim"]["aligned"] is False and check["spf"]["aligned"] is False
    assert check["dmarc"]["aligned_pass"] is False
    assert "Cenário 1" in check["way_out"] and "contas-prontas-mas-sem-alinhamento-dmarc" in check["way_out"]


def test_the_operator_table_rows_of_receiving_were_called(inbound):
    """send-test --check called nothing outside the table, and both of its receiving rows (the other
    send-test rows are checked by test_onboarding; iam:ListAccessKeys runs only after a 535)."""
    from tutormail.aws.permissions import COMMAND_ACTIONS

    missing, unused = CALLS.differences({"send-test"}, receiving=True)
    assert not missing, missing
    rows = {g.action for g in COMMAND_ACTIONS if g.receiving and g.command == "send-test"}
    assert rows == {"s3:ListBucket", "s3:GetObject"}
    assert not rows & set(unused.get("send-test", [])), unused


def _send_to_platform(inbound, slug: str, sender: str, headers: str = "") -> None:
    """An outside mailer delivering to the platform address's MX (the sandbox's inbound endpoint)."""
    host, _, port = inbound["admin"]["TUTORMAIL_INBOUND_SMTP_ENDPOINT"].rpartition(":")
    to = f"comunicacao@{slug}.sistematutor.com.br"
    message = (f"From: Aluna <{sender}>\r\nTo: {to}\r\nSubject: Pergunta {uuid.uuid4().hex[:8]}\r\n"
               f"Message-ID: <{uuid.uuid4().hex}@teste>\r\n{headers}\r\nQuando abre a matricula?\r\n").encode()
    with smtplib.SMTP(host, int(port), timeout=30) as smtp:
        smtp.starttls(context=ssl.create_default_context(cafile=str(Path(inbound["state"]) / "tls" / "ca.pem")))
        assert smtp.sendmail(sender, [to], message) == {}


def _handled(inbound) -> list[dict]:
    admin = inbound["admin"]
    logs = boto3.client("logs", endpoint_url=admin["AWS_ENDPOINT_URL"], region_name=admin["AWS_REGION"],
                        aws_access_key_id=admin["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=admin["AWS_SECRET_ACCESS_KEY"])
    events = logs.filter_log_events(logGroupName="/aws/lambda/tutormail-replies").get("events", [])
    return [json.loads(e["message"]) for e in events if e["message"].startswith("{")]


def test_a_reply_is_forwarded_to_replies_to(inbound):
    _send_to_platform(inbound, "instituicao-xy", STUDENT)
    assert {"action": "forwarded", "institution": "instituicao-xy", "to": FORWARD_TO} in _handled(inbound)


def test_the_note_goes_once_a_day_and_never_to_an_automatic_message(inbound):
    _send_to_platform(inbound, "escola-padrao", STUDENT, "Auto-Submitted: auto-replied\r\n")
    _send_to_platform(inbound, "escola-padrao", STUDENT)
    _send_to_platform(inbound, "escola-padrao", STUDENT)
    outcomes = [h for h in _handled(inbound) if h.get("institution") == "escola-padrao"]
    assert [h["action"] for h in outcomes] == ["not answered", "answered", "not answered"], outcomes
    assert "Auto-Submitted" in outcomes[0]["reason"] and outcomes[2]["reason"] == "already answered today"
    status = run_cli("status", "escola-padrao", "instituicao-xy", "--offline", "--output", "json",
                     env=inbound["operator"])
    received = {r["institution"]: r["received"] for r in json.loads(status.stdout)["rows"]}
    assert received == {"escola-padrao": 3, "instituicao-xy": 1}, status.stderr
