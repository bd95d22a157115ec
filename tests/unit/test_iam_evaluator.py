"""The sandbox's IAM decisions come from the kept evaluator (@cloud-copilot/iam-simulate), driven here
directly through the long-lived helper the emulator uses."""

from __future__ import annotations

import pytest

from sandbox.iam.evaluator import Evaluator

ACCOUNT = "210987654321"
USER = f"arn:aws:iam::{ACCOUNT}:user/tutormail-escola-smtp"
IDENTITY = f"arn:aws:ses:sa-east-1:{ACCOUNT}:identity/escola.edu.br"


@pytest.fixture(scope="module")
def evaluator():
    return Evaluator()


def _send(evaluator, policies, from_address, resource=IDENTITY):
    return evaluator.decide(action="ses:SendRawEmail", principal=USER, resource=resource, account=ACCOUNT,
                            policies=policies, context={"ses:FromAddress": from_address})["decision"]


def _allow(operator, values, resource=IDENTITY):
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ses:SendRawEmail",
            "Resource": resource, "Condition": {operator: {"ses:FromAddress": values}}}]}


def test_string_equals_is_case_sensitive(evaluator):
    policy = _allow("StringEquals", ["comunicacao@escola.edu.br"])
    assert _send(evaluator, [policy], "comunicacao@escola.edu.br") == "Allowed"
    assert _send(evaluator, [policy], "Comunicacao@escola.edu.br") == "ImplicitlyDenied"


def test_string_equals_ignore_case(evaluator):
    policy = _allow("StringEqualsIgnoreCase", ["comunicacao@escola.edu.br"])
    assert _send(evaluator, [policy], "Comunicacao@Escola.edu.br") == "Allowed"
    assert _send(evaluator, [policy], "outro@escola.edu.br") == "ImplicitlyDenied"


def test_string_like_and_for_any_value(evaluator):
    assert _send(evaluator, [_allow("StringLike", ["*@escola.edu.br"])], "x@escola.edu.br") == "Allowed"
    assert _send(evaluator, [_allow("StringLike", ["*@escola.edu.br"])], "x@outra.edu.br") == "ImplicitlyDenied"
    assert _send(evaluator, [_allow("ForAnyValue:StringEquals", ["a@escola.edu.br"])], "a@escola.edu.br") == "Allowed"


def test_resource_arns_and_explicit_deny(evaluator):
    policy = _allow("StringEquals", ["a@escola.edu.br"])
    other = f"arn:aws:ses:sa-east-1:{ACCOUNT}:identity/outra.edu.br"
    assert _send(evaluator, [policy], "a@escola.edu.br", resource=other) == "ImplicitlyDenied"
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "ses:*", "Resource": "*"}]}
    assert _send(evaluator, [policy, deny], "a@escola.edu.br") == "ExplicitlyDenied"


def test_trust_policy_of_a_role(evaluator):
    role = f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-deploy-role-{ACCOUNT}-sa-east-1"
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                      "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}
    assume = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                       "Resource": role}]}
    decide = evaluator.decide
    assert decide(action="sts:AssumeRole", principal=USER, resource=role, account=ACCOUNT, policies=[assume],
                  resource_policy=trust)["decision"] == "Allowed"
    # the account trusts its principals only through their own policies
    assert decide(action="sts:AssumeRole", principal=USER, resource=role, account=ACCOUNT, policies=[],
                  resource_policy=trust)["decision"] == "ImplicitlyDenied"


def test_an_action_without_resource_level_permissions_needs_a_star(evaluator):
    """SES v1 VerifyEmailIdentity has no resource type: granted on identity/* it is refused."""
    def verify(resource):
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ses:VerifyEmailIdentity",
                                                           "Resource": resource}]}
        return evaluator.decide(action="ses:VerifyEmailIdentity", principal=USER, resource=IDENTITY,
                                account=ACCOUNT, policies=[policy])["decision"]

    assert verify("*") == "Allowed"
    assert verify(f"arn:aws:ses:sa-east-1:{ACCOUNT}:identity/*") == "ImplicitlyDenied"
