"""The SMTP user's send policy, as IAM and SES will evaluate it; the stack and the limits check
both build it here.

Case: SES's condition key `ses:FromAddress` carries the From address as the message writes it,
and `StringEquals` compares case-sensitively
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String).
- Addresses under a domain identity (Cenário 1, the platform default): SES verifies the domain, and
  domain names are case-insensitive (RFC 4343), so any case of those addresses is the institution's
  own; `StringEqualsIgnoreCase` lets Tutor send `Comunicacao@` or `comunicacao@` alike.
- Address identities (Cenário 2): SES verified exactly that address, so `StringEquals` on the
  address as the file writes it (domain part in A-labels, lower case): only that spelling sends.
https://docs.aws.amazon.com/ses/latest/dg/control-user-access.html
"""

from __future__ import annotations

import json
from typing import Any

from tutormail.plan.build import InstitutionPlan

SEND_ACTION = "ses:SendRawEmail"


# A customer managed policy holds 6,144 characters, white space not counted, and a user may have 10
# managed policies attached by default (a quota that can be raised to 20):
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
MANAGED_POLICY_MAX = 6144
MANAGED_POLICIES_PER_USER = 10
SIZING_PARTITION = "aws-us-gov"  # the longest partition name
KINDS = (("domain", "SendAsDomainAddresses", "StringEqualsIgnoreCase"),
         ("email", "SendAsVerifiedAddresses", "StringEquals"))


def ses_arn(plan: InstitutionPlan, resource: str, partition: str = "aws") -> str:
    return f"arn:{partition}:ses:{plan.platform.region}:{plan.platform.account}:{resource}"


def _statement(plan: InstitutionPlan, sid: str, operator: str, senders: list, partition: str) -> dict[str, Any]:
    configuration_set = ses_arn(plan, f"configuration-set/{plan.configuration_set}", partition)
    identities = sorted({s.identity for s in senders})
    return {"Sid": sid, "Effect": "Allow", "Action": SEND_ACTION,
            "Resource": [*(ses_arn(plan, f"identity/{name}", partition) for name in identities), configuration_set],
            "Condition": {operator: {"ses:FromAddress": sorted({s.address for s in senders})}}}


def document_size(statements: list[dict[str, Any]]) -> int:
    """Characters IAM counts for a policy document (it does not count white space)."""
    return len(json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":")))


def send_statements(plan: InstitutionPlan, partition: str = "aws") -> list[dict[str, Any]]:
    """One statement per kind of identity: each allows sending only as its addresses, only on its
    identities and the institution's configuration set."""
    kinds = {i.name: i.kind for i in plan.identities}
    statements = []
    for kind, sid, operator in KINDS:
        senders = [s for s in plan.senders if kinds[s.identity] == kind]
        if senders:
            statements.append(_statement(plan, sid, operator, senders, partition))
    return statements


def _groups(plan: InstitutionPlan) -> list[tuple[str, str, list]]:
    """(sid, operator, senders) of each statement, one per document; sized with the longest partition
    name, so the split is the same whatever partition the stack's ARNs resolve to."""
    kinds = {i.name: i.kind for i in plan.identities}
    groups: list[tuple[str, str, list]] = []
    for kind, sid, operator in KINDS:
        chunk: list = []
        for sender in sorted((s for s in plan.senders if kinds[s.identity] == kind), key=lambda s: s.address):
            trial = [_statement(plan, sid, operator, [*chunk, sender], SIZING_PARTITION)]
            if chunk and document_size(trial) > MANAGED_POLICY_MAX:
                groups.append((sid, operator, chunk))
                chunk = []
            chunk.append(sender)
        if chunk:
            groups.append((sid, operator, chunk))
    return groups


def send_policies(plan: InstitutionPlan, partition: str = "aws") -> list[list[dict[str, Any]]]:
    """The send statements as managed policy documents of at most MANAGED_POLICY_MAX characters each:
    one document while they fit (the same statements as send_statements), else each kind's addresses
    packed in order into as few documents as fit, each statement naming only its addresses' identities.
    The user holds them all, so it may send as exactly the same addresses."""
    if document_size(send_statements(plan, SIZING_PARTITION)) <= MANAGED_POLICY_MAX:
        return [send_statements(plan, partition)]
    return [[_statement(plan, f"{sid}{number}", operator, senders, partition)]
            for number, (sid, operator, senders) in enumerate(_groups(plan), start=1)]


def policy_size(plan: InstitutionPlan) -> int:
    """The largest send policy document's size (what MANAGED_POLICY_MAX bounds)."""
    return max(document_size(d) for d in send_policies(plan, SIZING_PARTITION))
