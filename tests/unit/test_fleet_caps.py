"""Issue 23: `validate` states the account's quotas the fleet grows into, counted from the files."""

from __future__ import annotations

import json
import shutil

from tutormail.plan.fleet_caps import first_to_bite, fleet_caps
from tutormail.plan.loader import load_catalog

from tests.conftest import INSTITUTIONS, run_cli


def test_the_examples_caps_and_the_first_to_bite(examples):
    caps = {c["cap"]: c for c in fleet_caps(examples)}
    # 4 institutions: 4 send policies + the platform's 3 (operator, deploy, plan); 4 users; 4 + 2 stacks
    assert caps["customer managed policies"]["used"] == 7 and caps["customer managed policies"]["default"] == 1500
    assert caps["customer managed policies"]["institutions_left"] == 1493
    assert caps["IAM users"]["used"] == 4 and caps["CloudFormation stacks"]["used"] == 6
    assert caps["SES identities"]["used"] == 9  # the examples' identities
    assert first_to_bite(list(caps.values()))["quota"] == "IAM: Customer managed policies per account"


def test_an_institution_with_many_addresses_uses_more_of_the_policy_cap(tmp_path):
    shutil.copy(INSTITUTIONS / "platform.yaml", tmp_path / "platform.yaml")
    accounts = "".join(f"      conta{n}: contato{n}@escola-muitas-{n}.com.br\n" for n in range(60))
    (tmp_path / "escola-muitas.yaml").write_text(
        f"name: Escola Muitas\ncompanies:\n  - name: Escola Muitas\n    accounts:\n{accounts}")
    caps = {c["cap"]: c for c in fleet_caps(load_catalog(tmp_path))}
    policies = caps["customer managed policies"]
    assert policies["per_institution"] > 1
    assert policies["institutions_left"] == (1500 - policies["used"]) // policies["per_institution"]
    assert caps["SES identities"]["per_institution"] == 61  # 60 addresses and the platform default


def test_validate_reports_them_with_the_quota_to_raise():
    result = run_cli("validate", "--output", "json", "--institutions", str(INSTITUTIONS))
    assert result.returncode == 0, result.stderr
    caps = json.loads(result.stdout)["caps"]
    assert {c["quota"] for c in caps} == {"IAM: Customer managed policies per account", "IAM: Users per account",
                                          "SES: Identities per Region", "CloudFormation: Stack count",
                                          "Route 53: Records per hosted zone"}
    table = run_cli("validate", "--institutions", str(INSTITUTIONS))
    assert "institutions left" in table.stdout and "Route 53: Records per hosted zone" in table.stdout


def test_status_all_shows_the_headroom(monkeypatch, capsys):
    """status --all (the whole fleet) carries the caps and names the first to bite; AWS is faked away."""
    from tutormail.cli import commands
    from tutormail.cli.main import main
    from tutormail.exitcodes import Exit

    monkeypatch.setattr(commands, "status_with_health", lambda *a, **k: ([], Exit.OK, {}))
    monkeypatch.setattr(commands, "add_drift", lambda *a, **k: Exit.OK)
    monkeypatch.setattr(commands, "account_view", lambda platform: ({}, ""))
    assert main(["status", "--all", "--output", "json", "--institutions", str(INSTITUTIONS)]) == 0
    caps = json.loads(capsys.readouterr().out)["caps"]
    assert first_to_bite(caps)["quota"] == "IAM: Customer managed policies per account"
    assert main(["status", "--all", "--institutions", str(INSTITUTIONS)]) == 0
    assert "headroom: 1493 more institution(s) before customer managed policies" in capsys.readouterr().out
    assert main(["status", "escola-padrao", "--output", "json", "--institutions", str(INSTITUTIONS)]) == 0
    assert json.loads(capsys.readouterr().out)["caps"] == []  # named institutions: no fleet to count
