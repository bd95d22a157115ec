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
    """status --all (the whole fleet) carries the caps and names the first to bite, from the account's
    own quotas (here a fake account with 10 policies left), or from the files with --offline."""
    from tutormail.aws.account_quotas import read_account_quotas
    from tutormail.cli import status
    from tutormail.cli.main import main
    from tutormail.exitcodes import Exit
    from tutormail.plan.fleet_caps import with_account

    account = _Account()
    clients = {"iam": account, "sesv2": account, "cloudformation": account, "route53": account}
    monkeypatch.setattr(status, "account_caps", lambda catalog: with_account(
        fleet_caps(catalog), read_account_quotas(clients, catalog.platform.hosted_zone_id)))
    monkeypatch.setattr(status, "status_with_health", lambda *a, **k: ([], Exit.OK, {}))
    monkeypatch.setattr(status, "add_drift", lambda *a, **k: Exit.OK)
    monkeypatch.setattr(status, "account_view", lambda platform: ({}, ""))
    assert main(["status", "--all", "--output", "json", "--institutions", str(INSTITUTIONS)]) == 0
    caps = json.loads(capsys.readouterr().out)["caps"]
    assert first_to_bite(caps)["quota"] == "IAM: Customer managed policies per account"
    assert first_to_bite(caps)["used_in_account"] == 1490
    assert main(["status", "--all", "--institutions", str(INSTITUTIONS)]) == 0
    assert ("headroom: 10 more institution(s) before customer managed policies reach the account's quota "
            "(IAM: Customer managed policies per account: 1500)") in capsys.readouterr().out
    assert main(["status", "--all", "--offline", "--institutions", str(INSTITUTIONS)]) == 0
    assert "headroom: 1493 more institution(s) before customer managed policies reach the default" in \
        capsys.readouterr().out
    assert main(["status", "escola-padrao", "--output", "json", "--institutions", str(INSTITUTIONS)]) == 0
    assert json.loads(capsys.readouterr().out)["caps"] == []  # named institutions: no fleet to count


class _Refusing:
    """A client whose every call AWS answers AccessDenied."""

    def __getattr__(self, name):
        from botocore.exceptions import ClientError

        def refused(**_kwargs):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, name)
        return refused


class _Account:
    def get_account_summary(self):
        return {"SummaryMap": {"Policies": 1490, "PoliciesQuota": 1500, "Users": 10, "UsersQuota": 5000}}

    def describe_account_limits(self):
        return {"AccountLimits": [{"Name": "StackLimit", "Value": 4000}, {"Name": "StackOutputsLimit", "Value": 200}]}

    def list_stacks(self, **kwargs):
        return {"StackSummaries": [{}] * 3} if "NextToken" in kwargs else {"StackSummaries": [{}] * 7,
                                                                           "NextToken": "more"}

    def list_email_identities(self, **_kwargs):
        return {"EmailIdentities": [{}] * 12}

    def get_hosted_zone_limit(self, **_kwargs):
        return {"Limit": {"Type": "MAX_RRSETS_BY_ZONE", "Value": 10000}, "Count": 9000}


def test_the_account_quotas_decide_the_headroom(examples):
    from tutormail.aws.account_quotas import read_account_quotas
    from tutormail.plan.fleet_caps import with_account

    account = _Account()
    readings = read_account_quotas({"iam": account, "sesv2": account, "cloudformation": account, "route53": account},
                                   examples.platform.hosted_zone_id)
    caps = {c["cap"]: c for c in with_account(fleet_caps(examples), readings)}
    policies = caps["customer managed policies"]
    # 10 left in the account, 1 send policy per example institution: 10 more institutions, not the files' 1493
    assert (policies["used_in_account"], policies["account_quota"], policies["institutions_left"]) == (1490, 1500, 10)
    stacks = caps["CloudFormation stacks"]
    assert (stacks["account_quota"], stacks["used_in_account"]) == (4000, 10)  # ListStacks' two pages
    assert caps["SES identities"]["account_quota"] == 10000 and caps["SES identities"]["used_in_account"] == 12
    records = caps["platform zone records"]
    assert records["institutions_left"] == 1000 // records["per_institution"]
    assert first_to_bite(list(caps.values()))["cap"] == "customer managed policies"


def test_a_refused_read_falls_back_to_the_documented_default_and_the_files(examples):
    from tutormail.aws.account_quotas import read_account_quotas
    from tutormail.plan.fleet_caps import with_account

    refusing = _Refusing()
    readings = read_account_quotas({"iam": refusing, "sesv2": _Account(), "cloudformation": refusing,
                                    "route53": refusing}, examples.platform.hosted_zone_id)
    caps = {c["cap"]: c for c in with_account(fleet_caps(examples), readings)}
    policies = caps["customer managed policies"]
    assert policies["source"].startswith("refused (IAM GetAccountSummary: AccessDenied")
    assert (policies["used_in_account"], policies["account_quota"], policies["institutions_left"]) == (None, 1500, 1493)
    stacks = caps["CloudFormation stacks"]
    assert stacks["account_quota"] == 2000 and "refused" in stacks["source"]
    assert caps["SES identities"]["used_in_account"] == 12  # that read was allowed
