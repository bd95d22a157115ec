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


def ses_arn(plan: InstitutionPlan, resource: str, partition: str = "aws") -> str:
    return f"arn:{partition}:ses:{plan.platform.region}:{plan.platform.account}:{resource}"


def send_statements(plan: InstitutionPlan, partition: str = "aws") -> list[dict[str, Any]]:
    """One statement per kind of identity: each allows sending only as its addresses, only on its
    identities and the institution's configuration set."""
    configuration_set = ses_arn(plan, f"configuration-set/{plan.configuration_set}", partition)
    kinds = {i.name: i.kind for i in plan.identities}
    statements = []
    for kind, sid, operator in (("domain", "SendAsDomainAddresses", "StringEqualsIgnoreCase"),
                                ("email", "SendAsVerifiedAddresses", "StringEquals")):
        senders = [s for s in plan.senders if kinds[s.identity] == kind]
        if not senders:
            continue
        identities = sorted({s.identity for s in senders})
        statements.append({
            "Sid": sid, "Effect": "Allow", "Action": SEND_ACTION,
            "Resource": [*(ses_arn(plan, f"identity/{name}", partition) for name in identities), configuration_set],
            "Condition": {operator: {"ses:FromAddress": sorted({s.address for s in senders})}},
        })
    return statements


def policy_size(plan: InstitutionPlan) -> int:
    """Characters IAM counts for the policy (it does not count white space)."""
    document = {"Version": "2012-10-17", "Statement": send_statements(plan)}
    return len(json.dumps(document, separators=(",", ":")))
