"""Phase 2's pieces: which accounts are chosen, the rows of Tutor's screen, the secret behind them
and the private file they may be written to."""

from __future__ import annotations

import errno
import os
import stat

import pytest
from botocore.exceptions import ClientError
from tutormail.aws.client import ServiceError
from tutormail.catalog.problems import ConfigurationError, Problem
from tutormail.exitcodes import UsageError
from tutormail.plan.selection import select_senders
from tutormail.tutor_setup.smtp_settings import (
    MASK,
    SMTP_PORT,
    AccountSettings,
    env_lines,
    read_smtp_secret,
    settings_rows,
    write_private,
)
from tutormail.verification.identity_check import IdentityCheck

from tests.unit.fakes import SECRET, FakeSecrets

ROW_KEYS = {"company", "account", "from", "smtp", "port", "user", "password", "ssl", "tls", "verified",
            "missing", "rules"}


def test_select_senders_by_company_and_account(plans):
    plan = plans["escola"]
    assert [(s.company, s.account) for s in select_senders(plan, "Escola Teste", "news")] == [("Escola Teste", "news")]
    assert {s.company for s in select_senders(plan, None, "comunicacao")} == {"Escola Teste", "Colégio Teste"}
    assert len(select_senders(plan, None, None)) == len(plan.senders)


@pytest.mark.parametrize(("company", "account", "accounts"), [
    ("Colégio Teste", "nenhuma", "comunicacao, news"),  # the company's own accounts, the platform's defaults too
    ("Nenhuma", None, ""),  # no such company: no account to offer
    (None, "nenhuma", "atendimento, comunicacao, news"),
])
def test_an_unknown_account_is_a_problem_listing_what_exists(plans, company, account, accounts):
    plan = plans["escola"]
    with pytest.raises(ConfigurationError) as caught:
        select_senders(plan, company, account)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.field) == (plan.institution.source, 0, "--company/--account")
    assert f"(companies: Colégio Teste, Escola Teste; accounts: {accounts})" in problem.reason
    assert caught.value.exit_code == 2


def checks_for(plan, verified: bool, missing: str = ""):
    return {i.name: IdentityCheck(i.name, i.scenario, "verified" if verified else "pending", verified, missing, "", "")
            for i in plan.identities}


def test_settings_rows_without_a_secret_mask_everything(plans):
    plan = plans["padrao"]
    senders = list(plan.senders)
    rows = settings_rows(plan, senders, checks_for(plan, True), None, reveal=True)
    assert all(set(r.as_dict()) == ROW_KEYS for r in rows)  # the JSON contract of an account
    assert {(r.user, r.password) for r in rows} == {(None, MASK)}
    waiting = settings_rows(plan, senders, checks_for(plan, False, "the link"), SECRET, reveal=True)
    assert {(r.user, r.password, r.verified, r.missing) for r in waiting} == {
        (SECRET.access_key_id, MASK, False, "the link")}
    ready = settings_rows(plan, senders, checks_for(plan, True), SECRET, reveal=True)
    assert {(r.port, r.smtp, r.missing, r.verified) for r in ready} == {
        (SMTP_PORT, plan.smtp_endpoint, None, True)}


def row(company, account, mailbox="f"):
    return AccountSettings(company, account, mailbox=mailbox, smtp="h", port=587, user="u", password="p",
                           verified=True, missing=None, rules=[])


def test_env_lines_quote_for_the_shell():
    lines = env_lines([row("Escola", "news", mailbox="\"D'Ávila\" <d@x.br>")])
    assert "TUTOR_SMTP_ESCOLA_NEWS_FROM='\"D'\\''Ávila\" <d@x.br>'" in lines


def test_env_lines_name_both_accounts_that_collide():
    with pytest.raises(UsageError) as caught:
        env_lines([row("Escola Á", "news"), row("Escola A", "news")])
    assert "company 'Escola Á' account 'news' and company 'Escola A' account 'news'" in str(caught.value)
    assert "--company/--account" in str(caught.value) and "--format json" in str(caught.value)


def test_read_smtp_secret_asks_the_platform_region(plans, monkeypatch):
    plan = plans["padrao"]
    asked = []
    client = FakeSecrets('{"access_key_id": "FAKEKEYIDFORTESTS001", "secret_access_key": "x"}')
    monkeypatch.setattr("tutormail.aws.client.client",
                        lambda service, region: asked.append((service, region)) or client)
    secret = read_smtp_secret(plan)
    assert asked == [("secretsmanager", plan.platform.region)] and secret.secret_access_key == "x"


def test_read_smtp_secret_names_the_secret_when_aws_refuses(plans):
    class Refusing:
        def get_secret_value(self, SecretId):
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetSecretValue")

    with pytest.raises(ServiceError) as caught:
        read_smtp_secret(plans["padrao"], Refusing())
    assert str(caught.value).startswith("Secrets Manager GetSecretValue tutormail/padrao/smtp: AccessDeniedException")


def test_write_private_makes_the_missing_directories(tmp_path):
    target = tmp_path / "a" / "b" / "settings.env"
    write_private(target, "SENHA=ção\n")
    assert target.read_bytes() == "SENHA=ção\n".encode() and stat.S_IMODE(target.stat().st_mode) == 0o600


def test_write_private_refuses_a_directory_naming_it(tmp_path):
    with pytest.raises(ConfigurationError) as caught:
        write_private(tmp_path, "x")
    assert caught.value.problems == [Problem(str(tmp_path), 0, "--out", "cannot write here: is a directory")]


def test_write_private_cannot_make_the_directory(tmp_path):
    (tmp_path / "file").write_text("")
    target = tmp_path / "file" / "settings.env"
    with pytest.raises(ConfigurationError) as caught:
        write_private(target, "x")
    assert caught.value.problems == [Problem(str(target), 0, "--out", "cannot write here: File exists")]


def test_write_private_renames_a_hidden_temporary_of_the_same_directory(tmp_path, monkeypatch):
    """The new file is written aside and renamed over the target (atomic only within one directory);
    when the rename fails the temporary is removed and the target is left as it was."""
    target = tmp_path / "settings.env"
    target.write_text("OLD\n")
    renames = []

    def failing_replace(source, destination):
        renames.append((source, destination))
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr("tutormail.tutor_setup.smtp_settings.os.replace", failing_replace)
    with pytest.raises(ConfigurationError) as caught:
        write_private(target, "NEW\n")
    assert caught.value.problems == [Problem(str(target), 0, "--out", "cannot write here: Permission denied")]
    [(source, destination)] = renames
    assert destination == target and os.path.dirname(source) == str(tmp_path)
    assert os.path.basename(source).startswith(".settings.env.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.env"] and target.read_text() == "OLD\n"
