import base64
import hashlib
import hmac
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tutormail.cli.main import main
from tutormail.plan.build import plan_for
from tutormail.plan.loader import load_catalog
from tutormail.tutor_setup.smtp_password import smtp_password
from tutormail.tutor_setup.smtp_settings import SmtpSecret, env_lines, settings_rows
from tutormail.verification.identity_check import IdentityCheck

from tests.conftest import INSTITUTIONS

FAKE_SECRET = "tutormailFAKEsecretKEY/notREAL+000000000"  # made up for these tests: 40 characters, like a real one
# The passwords below were derived outside Python, with OpenSSL, following the documented steps
# (HMAC-SHA256 chain over 11111111, the region, ses, aws4_request, SendRawEmail; then 0x04 + the
# last digest, in base64):
#   S='tutormailFAKEsecretKEY/notREAL+000000000'; R=us-east-1
#   k=$(printf %s 11111111 | openssl dgst -sha256 -mac HMAC -macopt "key:AWS4$S" | awk '{print $NF}')
#   for m in $R ses aws4_request SendRawEmail; do
#     k=$(printf %s "$m" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$k" | awk '{print $NF}'); done
#   printf '04%s' "$k" | xxd -r -p | base64
FAKE_PASSWORD = {"us-east-1": "BKYhtipMUTzy0ms/RDdYQqibh0RAU6EXII55XJhVcPhB",
                 "sa-east-1": "BLeWfmcIZ2GAkaySiFMZh6tpmCO+A6k4RJgmMu7r2GSM"}


def reference_password(secret: str, region: str) -> str:
    """AWS's documented steps written out once more, independently of the project's function."""
    key = ("AWS4" + secret).encode()
    for message in ("11111111", region, "ses", "aws4_request", "SendRawEmail"):
        key = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.b64encode(bytes([4]) + key).decode()


@pytest.mark.parametrize("region", sorted(FAKE_PASSWORD))
def test_password_matches_the_openssl_derivation(region):
    assert smtp_password(FAKE_SECRET, region) == FAKE_PASSWORD[region]


def test_another_region_gives_another_password():
    assert smtp_password(FAKE_SECRET, "eu-west-1") == reference_password(FAKE_SECRET, "eu-west-1")
    assert smtp_password(FAKE_SECRET, "eu-west-1") != smtp_password(FAKE_SECRET, "us-east-1")


def test_smtp_password_command_reads_stdin():
    command = Path(sys.executable).parent / "tutormail"
    result = subprocess.run([str(command), "smtp-password", "--region", "us-east-1"], input=FAKE_SECRET + "\n",
                            capture_output=True, text=True, check=False)
    assert result.stdout.strip() == FAKE_PASSWORD["us-east-1"] and result.returncode == 0
    bad = subprocess.run([str(command), "smtp-password", "--region", "mars-1"], input="x", capture_output=True,
                         text=True, check=False)
    assert bad.returncode == 2 and "no SES SMTP endpoint" in bad.stderr


def test_settings_rows_mask_until_verified_and_revealed():
    plan = plan_for(load_catalog(INSTITUTIONS), "instituicao-xy")
    secret = SmtpSecret("SANDBOXFAKEKEYID0001", FAKE_SECRET, "us-east-1", 1)
    checks = {i.name: IdentityCheck(i.name, i.scenario, "verified" if i.kind == "domain" else "pending",
                                  i.kind == "domain", "", "", "") for i in plan.identities}
    rows = settings_rows(plan, list(plan.senders), checks, secret, reveal=True)
    by_key = {(r.company, r.account): r for r in rows}
    assert len(rows) == 5
    assert by_key[("Colégio XY", "comunicacao")].password == "********"  # Cenário 2 still pending
    assert by_key[("Instituição XY", "atendimento")].password == smtp_password(FAKE_SECRET, "us-east-1")
    assert by_key[("Instituição XY", "atendimento")].rules == ["requerimentos"]
    masked = settings_rows(plan, list(plan.senders), checks, secret, reveal=False)
    assert {r.password for r in masked} == {"********"}
    lines = env_lines(masked)
    assert "TUTOR_SMTP_INSTITUICAO_XY_COMUNICACAO_HOST='email-smtp.us-east-1.amazonaws.com'" in lines
    assert "TUTOR_SMTP_COLEGIO_XY_NEWS_PORT='587'" in lines


def test_handoff_is_rendered_offline_for_both_companies(tmp_path, capsys):
    assert main(["handoff", "instituicao-xy", "--offline", "--institutions", str(INSTITUTIONS), "--out",
                 str(tmp_path)]) == 0
    markdown = (tmp_path / "instituicao-xy.md").read_text()
    assert markdown.index("Empresa: Instituição XY") < markdown.index("Empresa: Colégio XY")
    assert "| requerimentos | atendimento |" in markdown
    assert "| Conta | De/Remetente | SMTP | Porta | Usuário | Senha | SSL | TLS |" in markdown  # screen order
    # the article's "Nome da Instituição" <e-mail>, one value, typed as it is shown
    assert '| comunicacao | ` "Instituição XY" <comunicacao@instituicaoxy.com.br> ` |' in markdown
    assert "=?utf-8" not in markdown
    assert "comunicacao@instituicao-xy.sistematutor.com.br (domínio do Tutor) serve apenas para envio" in markdown


@pytest.fixture
def copy(tmp_path):
    directory = tmp_path / "institutions"
    shutil.copytree(INSTITUTIONS, directory)
    return directory


def test_add_company_copies_accounts_and_rules_keeping_comments(copy, capsys):
    before = (copy / "instituicao-xy.yaml").read_text()
    code = main(["add-company", "instituicao-xy", "--from", "Instituição XY", "--name", "Faculdade XY",
                 "--email", "contato@faculdadexy.com.br", "--logo", "logos/instituicao-xy.png",
                 "--institutions", str(copy)])
    diff = capsys.readouterr().out
    assert code == 0
    after = (copy / "instituicao-xy.yaml").read_text()
    assert after.startswith(before)  # the original text, comments and order kept; the company appended
    assert "# omitted accounts use the platform default address" in after
    assert "+  - name: Faculdade XY" in diff and "+      comunicacao: contato@faculdadexy.com.br" in diff
    company = load_catalog(copy).get("instituicao-xy").company("Faculdade XY")
    assert dict(company.rules) == {"avisos": "comunicacao", "requerimentos": "atendimento"}
    assert company.account("atendimento").address.ascii == "atendimento@instituicaoxy.com.br"


def test_add_company_dry_run_and_invalid_result(copy, capsys):
    before = (copy / "instituicao-xy.yaml").read_text()
    assert main(["add-company", "instituicao-xy", "--from", "Colégio XY", "--name", "Colégio XY 2", "--dry-run",
                 "--institutions", str(copy)]) == 0
    assert "+  - name: Colégio XY 2" in capsys.readouterr().out
    assert (copy / "instituicao-xy.yaml").read_text() == before
    code = main(["add-company", "instituicao-xy", "--from", "Colégio XY", "--name", "Instituição XY",
                 "--institutions", str(copy)])
    assert code == 2 and "already the name" in capsys.readouterr().err
    assert (copy / "instituicao-xy.yaml").read_text() == before
