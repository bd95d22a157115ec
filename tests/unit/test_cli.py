import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML
from tutormail.cli.main import main
from tutormail.exitcodes import MEANING, Exit, markdown_table

from tests.conftest import FIXTURES, INSTITUTIONS, REPO

TUTORMAIL = Path(sys.executable).parent / "tutormail"


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_examples_exit_0(capsys):
    code, out, _ = run(["validate", *map(str, INSTITUTIONS.glob("*.yaml"))], capsys)
    assert code == 0
    assert "4 institution(s) valid" in out


def test_validate_three_problems_through_the_installed_command(tmp_path):
    shutil.copy(FIXTURES / "invalid" / "platform.yaml", tmp_path)
    bad = tmp_path / "three-problems.yaml"
    shutil.copy(FIXTURES / "invalid" / "three-problems.yaml", bad)
    result = subprocess.run([str(TUTORMAIL), "validate", str(bad)], capture_output=True, text=True,
                            cwd=tmp_path, check=False)
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert lines == [
        "three-problems.yaml:3: slug: must be a DNS label: a-z, 0-9 and '-', 1-63 characters, no '-' at "
        "either end",
        "three-problems.yaml:7: companies[0].accounts.comunicacao: 'not-an-address': An email address must "
        "have an @-sign.",  # email-validator's words
        "three-problems.yaml:9: companies[0].rules.avisos: points at account 'atendimento', which this "
        "company does not have (accounts: comunicacao, news)",
    ]
    assert "Traceback" not in result.stderr


def test_validate_json(capsys, tmp_path):
    shutil.copy(FIXTURES / "invalid" / "platform.yaml", tmp_path)
    shutil.copy(FIXTURES / "invalid" / "unknown-field.yaml", tmp_path)
    code, out, _ = run(["validate", "--output", "json", str(tmp_path / "unknown-field.yaml")], capsys)
    data = json.loads(out)
    assert code == 2
    assert data["schema_version"] == 1 and data["valid"] is False
    assert data["problems"][0]["field"] == "nmae" and data["problems"][0]["line"] == 2


def test_plan_json(capsys):
    code, out, err = run(["plan", "instituicao-xy", "--output", "json", "--offline",
                          "--institutions", str(INSTITUTIONS)], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["schema_version"] == 1
    assert [i["name"] for i in data["identities"]] == [
        "instituicao-xy.sistematutor.com.br", "instituicaoxy.com.br", "uni-xy.edu.br",
        "contato@colegioxy.com.br"]
    assert {i["name"]: i["scenario"] for i in data["identities"]}["contato@colegioxy.com.br"] == 2
    assert data["smtp_user"] == {
        "name": "tutormail-instituicao-xy-smtp", "secret": "tutormail/instituicao-xy/smtp",
        "key_generations": [1],
        "from_addresses": ["atendimento@instituicaoxy.com.br", "comunicacao@instituicao-xy.sistematutor.com.br",
                           "comunicacao@instituicaoxy.com.br", "contato@colegioxy.com.br"]}
    first = data["companies"][0]
    assert first["rules"] == {"avisos": "comunicacao", "requerimentos": "atendimento"}
    assert {a["account"]: a["mailbox"] for a in first["accounts"]}["atendimento"] == \
        '"Atendimento XY" <atendimento@instituicaoxy.com.br>'
    dkim = [r for r in data["records"] if r["purpose"] == "dkim"]
    assert len(dkim) == 9  # three per domain identity
    assert {r["published_by"] for r in data["records"] if r["identity"] == "uni-xy.edu.br"} == {"rfc2136"}


def test_plan_table_shows_every_section(capsys):
    code, out, _ = run(["plan", "faculdade-delta", "--offline", "--institutions", str(INSTITUTIONS)], capsys)
    assert code == 0
    for heading in ("Identities (SES)", "DNS records", "SMTP user", "Company Faculdade Delta: accounts",
                    "Company Faculdade Delta: rules"):
        assert heading in out
    assert '"Secretaria \\"Delta\\"" <secretaria@faculdadedelta.edu.br>' in out


def test_plan_unknown_slug_is_bad_input(capsys):
    code, out, err = run(["plan", "nope", "--institutions", str(INSTITUTIONS)], capsys)
    assert code == 2 and out == ""
    assert "no file for institution 'nope'" in err


def test_schema_accepts_the_examples_and_rejects_a_bad_shape(capsys):
    _, out, _ = run(["schema"], capsys)
    schema = json.loads(out)
    yaml = YAML(typ="safe")
    for path in INSTITUTIONS.glob("*.yaml"):
        if path.name != "platform.yaml":
            jsonschema.validate(yaml.load(path.read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "X", "companies": [{"name": "A", "colour": "red"}]}, schema)


def test_readme_exit_code_table_is_the_one_made_from_the_enum():
    lines = (REPO / "README.md").read_text().splitlines()
    start = lines.index("| exit | name | meaning |")
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    assert "\n".join(lines[start:end]) == markdown_table()


def test_help_lists_every_exit_code_with_its_meaning(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert set(MEANING) == set(Exit)
    for code in Exit:
        assert f"{int(code)} {MEANING[code]}" in text


def test_readme_starts_with_the_two_commands():
    head = (REPO / "README.md").read_text().split("\n## ")[0]
    assert "make demo" in head and "make test" in head


class Captured:
    """A use case replaced by one that records what the command handed it."""

    def __init__(self, result):
        self.calls, self.result = [], result

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        return self.result


@pytest.fixture
def offline_account(monkeypatch):
    monkeypatch.setattr("tutormail.cli.verify.account_view", lambda platform: ({"region": platform.region}, None))


@pytest.mark.parametrize(("given", "expected", "seconds"), [
    ([], (False, 5, False), 600),  # the defaults: no resend, 5 links, no wait, 10 minutes
    (["--auto-resend", "--max-resends", "2", "--wait", "--timeout", "90s"], (True, 2, True), 90),
    (["--max-resends", "0", "--timeout", "2h"], (False, 0, False), 7200),
])
def test_verify_hands_its_options_to_the_use_case(capsys, monkeypatch, offline_account, given, expected, seconds):
    import time

    verify = Captured(([], 0))
    monkeypatch.setattr("tutormail.cli.verify.verify_and_drift", verify)
    before = time.monotonic()
    code, _, err = run(["verify", "escola-padrao", "instituicao-xy", *given, "--output", "json"], capsys)
    assert code == 0, err
    assert [args[0].slug for args, _ in verify.calls] == ["escola-padrao", "instituicao-xy"]
    for args, _ in verify.calls:
        options, deadline = args[2], args[3]
        assert (options.auto_resend, options.max_resends, options.wait) == expected
        assert before + seconds <= deadline <= time.monotonic() + seconds


def test_send_test_hands_the_account_recipient_endpoint_and_attempts_to_phase_3(capsys, monkeypatch):
    from tutormail.exitcodes import Exit
    from tutormail.tutor_setup.gate import Gate, Hold

    shut = Gate({}, {}, held={"contato@colegioxy.com.br": Hold(Exit.ACTION_NEEDED, "blocked", "shut", "another")},
                code=Exit.ACTION_NEEDED)
    phase_test = Captured(type("Outcome", (), {"sender": None, "result": None, "gate": shut})())
    monkeypatch.setattr("tutormail.cli.send_test.phase_test", phase_test)
    code, _, err = run(["send-test", "instituicao-xy", "--company", "Colégio XY", "--account", "comunicacao",
                        "--to", "pessoa@exemplo.com.br", "--endpoint", "127.0.0.1:2587", "--attempts", "3",
                        "--accept-dmarc-risk"], capsys)
    assert code == 1, err  # the gate's code
    [(args, _)] = phase_test.calls
    assert args[0].slug == "instituicao-xy" and args[1:5] == ("Colégio XY", "comunicacao", "pessoa@exemplo.com.br",
                                                             ("127.0.0.1", 2587))
    assert args[6] == 3 and args[8] is True  # attempts, then the services, then --accept-dmarc-risk


def test_dns_records_output_json_prints_the_records_as_json(capsys, monkeypatch):
    """--output json is the data convention for every command: dns-records printed its zone file for it."""
    monkeypatch.setattr("tutormail.cli.dns_records.domain_records", lambda plan, ses, domain: [])
    for spelling in (["--output", "json"], ["--format", "json"], ["--output", "json", "--format", "json"]):
        code, out, err = run(["dns-records", "instituicao-xy", *spelling, "--institutions", str(INSTITUTIONS)],
                             capsys)
        assert code == 0, err
        assert json.loads(out) == {"schema_version": 1, "institution": "instituicao-xy", "records": []}


@pytest.fixture
def no_status_reads(monkeypatch):
    monkeypatch.setattr("tutormail.cli.status.status_with_health", lambda *a, **k: ([], Exit.OK, {}))
    monkeypatch.setattr("tutormail.cli.status.add_drift", lambda *a, **k: Exit.OK)
    monkeypatch.setattr("tutormail.cli.status.account_view", lambda platform: ({}, ""))


def test_status_writes_the_page_to_out_and_every_slug_is_a_slug(capsys, no_status_reads, tmp_path):
    page = tmp_path / "fleet.html"
    code, out, err = run(["status", "instituicao-xy", "escola-padrao", "--offline", "--format", "html",
                          "--out", str(page), "--institutions", str(INSTITUTIONS)], capsys)
    assert code == 0, err
    assert out == f"{page.resolve()}\n" and "<html" in page.read_text(encoding="utf-8")


def test_status_old_page_spelling_still_works_and_names_the_new_one(capsys, caplog, no_status_reads, tmp_path):
    page = tmp_path / "fleet.html"
    code, out, err = run(["status", "--all", "--offline", "--output", "html", str(page),
                          "--institutions", str(INSTITUTIONS)], capsys)
    assert code == 0, err
    assert out == f"{page.resolve()}\n" and "<html" in page.read_text(encoding="utf-8")
    assert "--format html --out FILE" in caplog.text
