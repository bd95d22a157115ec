"""The builders of the policies, in-process (so mutation testing reaches them; tests/infra/ asserts
the synthesized template): where the SMTP user may send, and which of the operator's rows the
read-only plan role gets."""

from __future__ import annotations

import pytest
from tutormail.aws.permissions import (
    ANY,
    COMMAND_ACTIONS,
    IDENTITY,
    PROGRESS,
    SECRET,
    SMTP_USER,
    STACK,
    Grant,
    actions_by_resource,
    read_only,
)
from tutormail.plan.build import build_plan
from tutormail.plan.loader import load_catalog
from tutormail.plan.smtp_policy import document_size, policy_size, send_statements

from tests.factory import PLATFORM, company, institution, route53, write_institutions

SECRET_READS = {"secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue"}


def test_read_only_keeps_the_reads_and_never_a_secret_value():
    rows = (Grant("a", "secretsmanager:GetSecretValue", SECRET), Grant("a", "ses:GetEmailIdentity", IDENTITY),
            Grant("b", "ses:DeleteEmailIdentity", IDENTITY), Grant("b", "dynamodb:BatchWriteItem", PROGRESS),
            Grant("c", "iam:ListAccessKeys", SMTP_USER), Grant("c", "cloudformation:DescribeStacks", ANY),
            Grant("c", "secretsmanager:DescribeSecret", SECRET), Grant("d", "ses:VerifyEmailIdentity", ANY),
            Grant("d", "cloudformation:GetTemplate", STACK))
    assert read_only(rows) == (rows[1], rows[4], rows[5], rows[6], rows[8])
    # DynamoDB's Query and Scan read the progress table (the plan job's status and preflight do)
    dynamodb = (Grant("e", "dynamodb:Query", PROGRESS), Grant("e", "dynamodb:Scan", PROGRESS),
                Grant("e", "dynamodb:PutItem", PROGRESS), Grant("e", "dynamodb:DeleteItem", PROGRESS))
    assert read_only(dynamodb) == dynamodb[:2]


def test_the_plan_roles_rows_hold_no_secret_read_and_every_read_of_the_table():
    rows = read_only()
    assert not SECRET_READS & {r.action for r in rows}
    assert all(r in COMMAND_ACTIONS for r in rows)
    reads = [r for r in COMMAND_ACTIONS if r.action.split(":")[1].startswith(("Get", "List", "Describe"))]
    assert [r for r in reads if r not in rows] == [r for r in reads if r.action == "secretsmanager:GetSecretValue"]
    assert {r.resource for r in rows if r.action.startswith("secretsmanager:")} <= {SECRET, ANY}


def test_actions_by_resource_is_one_sorted_distinct_list_per_kind():
    rows = (Grant("x", "ses:b", IDENTITY), Grant("y", "ses:a", IDENTITY), Grant("z", "ses:b", IDENTITY),
            Grant("x", "dynamodb:Query", PROGRESS), Grant("x", "ses:GetAccount", ANY))
    assert actions_by_resource(rows) == {ANY: ["ses:GetAccount"], IDENTITY: ["ses:a", "ses:b"],
                                         PROGRESS: ["dynamodb:Query"]}
    assert list(actions_by_resource(rows)) == sorted([ANY, IDENTITY, PROGRESS])
    table = actions_by_resource()
    assert table["tutormail-secret"] == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    assert table[ANY] == ["cloudformation:DescribeAccountLimits", "cloudformation:DescribeStacks",
                          "cloudformation:ListStacks", "cloudwatch:GetMetricData", "iam:GetAccountSummary",
                          "secretsmanager:ListSecrets", "ses:GetAccount", "ses:ListEmailIdentities",
                          "ses:VerifyEmailIdentity"]


@pytest.fixture
def other_platform(tmp_path):
    """An institution on a platform of another account and region, with both kinds of identity."""
    platform = tmp_path / "platform.yaml"
    platform.write_text(PLATFORM.read_text().replace('"123456789012"', '"210987654321"')
                        .replace("region: us-east-1", "region: sa-east-1"))
    directory = write_institutions(tmp_path / "institutions", {"sul": institution("Sul", dns=[
        route53("sul.edu.br", "Z0000000000000000TEST")], companies=[
        company("Sul", {"comunicacao": "comunicacao@sul.edu.br", "news": "News@Mail.Sul.edu.br"}),
        company("Outra", {"comunicacao": "contato@outra.com.br"})])}, platform=platform)
    catalog = load_catalog(directory)
    return build_plan(catalog.institutions["sul"], catalog.platform)


def test_send_statements_name_the_institutions_identities_and_configuration_set_in_its_account(other_platform):
    arn = "arn:aws-us-gov:ses:sa-east-1:210987654321:"
    assert send_statements(other_platform, "aws-us-gov") == [
        {"Sid": "SendAsDomainAddresses", "Effect": "Allow", "Action": "ses:SendRawEmail",
         "Resource": [f"{arn}identity/mail.sul.edu.br", f"{arn}identity/sul.edu.br",  # the sub-domain's own
                      f"{arn}identity/sul.sistematutor.com.br", f"{arn}configuration-set/tutormail-sul"],
         "Condition": {"StringEqualsIgnoreCase": {"ses:FromAddress": [  # Outra's news: the platform default
             "comunicacao@sul.edu.br", "comunicacao@sul.sistematutor.com.br", "news@mail.sul.edu.br"]}}},
        {"Sid": "SendAsVerifiedAddresses", "Effect": "Allow", "Action": "ses:SendRawEmail",
         "Resource": [f"{arn}identity/contato@outra.com.br", f"{arn}configuration-set/tutormail-sul"],
         "Condition": {"StringEquals": {"ses:FromAddress": ["contato@outra.com.br"]}}}]
    assert all(r.startswith("arn:aws:ses:sa-east-1:210987654321:")
               for s in send_statements(other_platform) for r in s["Resource"])


def test_an_institution_on_the_platform_default_only_gets_one_statement(institution_files):
    catalog = load_catalog(institution_files(padrao=institution("Padrão")))
    plan = build_plan(catalog.institutions["padrao"], catalog.platform)
    [statement] = send_statements(plan)
    assert statement["Sid"] == "SendAsDomainAddresses"
    assert statement["Resource"] == ["arn:aws:ses:us-east-1:123456789012:identity/padrao.sistematutor.com.br",
                                     "arn:aws:ses:us-east-1:123456789012:configuration-set/tutormail-padrao"]
    assert statement["Condition"] == {"StringEqualsIgnoreCase": {"ses:FromAddress": [
        "comunicacao@padrao.sistematutor.com.br"]}}
    # IAM counts the document without white space: {"Version":"2012-10-17","Statement":[...]}
    assert document_size(send_statements(plan)) == 375
    assert policy_size(plan) == 375 + 2 * len("-us-gov")  # sized in the longest partition's ARNs
