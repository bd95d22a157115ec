"""The AWS actions each `tutormail` command calls: the one table the operator policy is built from.

Each row names the command, the IAM action (as IAM spells it, not the API's name) and the kind of
resource it acts on. `infra/platform_stack.py` groups the rows into the `tutormail-operator`
managed policy; tests/e2e/test_iam.py fails when the end-to-end run calls an action missing from
this table, and when the table grants an action no command calls. A new command adds its rows here.

Resource kinds (what IAM can scope; https://docs.aws.amazon.com/service-authorization/latest/reference/):
- IDENTITY: SES identities of the account and region (`identity/*`: identities are named by the
  institutions' own domains and addresses, which no prefix covers);
- SECRET: the tutormail secrets (`tutormail/*`: SMTP keys `tutormail/<slug>/smtp` and the TSIG keys
  the files name);
- ANY: actions IAM does not scope to a resource (ListSecrets, ListEmailIdentities, GetAccount, and
  SES v1's VerifyEmailIdentity: scoped to `identity/*` it is refused;
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonses.html).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

IDENTITY, SECRET, ANY = "ses-identity", "tutormail-secret", "*"


@dataclass(frozen=True)
class Grant:
    command: str
    action: str
    resource: str


# Reads of progress marks (DescribeSecret) and writes (TagResource) go through aws/progress_tags.py.
COMMAND_ACTIONS: tuple[Grant, ...] = (
    Grant("dns-records", "ses:GetEmailIdentity", IDENTITY),
    Grant("dns-publish", "ses:GetEmailIdentity", IDENTITY),
    Grant("dns-publish", "secretsmanager:GetSecretValue", SECRET),  # the TSIG key the file names
    Grant("verify", "ses:GetEmailIdentity", IDENTITY),
    Grant("verify", "secretsmanager:DescribeSecret", SECRET),
    Grant("verify", "secretsmanager:TagResource", SECRET),  # --auto-resend records the new link
    Grant("verify", "ses:VerifyEmailIdentity", ANY),  # --auto-resend
    Grant("request-link", "ses:GetEmailIdentity", IDENTITY),
    Grant("request-link", "ses:VerifyEmailIdentity", ANY),
    Grant("request-link", "secretsmanager:DescribeSecret", SECRET),
    Grant("request-link", "secretsmanager:TagResource", SECRET),
    Grant("status", "ses:ListEmailIdentities", ANY),
    Grant("status", "secretsmanager:ListSecrets", ANY),
    Grant("smtp-settings", "ses:GetEmailIdentity", IDENTITY),
    Grant("smtp-settings", "secretsmanager:GetSecretValue", SECRET),
    Grant("smtp-settings", "secretsmanager:DescribeSecret", SECRET),
    Grant("smtp-settings", "secretsmanager:TagResource", SECRET),  # the "released" mark
    Grant("send-test", "ses:GetEmailIdentity", IDENTITY),
    Grant("send-test", "secretsmanager:GetSecretValue", SECRET),
    Grant("send-test", "secretsmanager:DescribeSecret", SECRET),
    Grant("send-test", "secretsmanager:TagResource", SECRET),  # the phase-3 mark
)


def actions_by_resource(rows: tuple[Grant, ...] = COMMAND_ACTIONS) -> dict[str, list[str]]:
    """Sorted, distinct actions per resource kind: one policy statement each."""
    grouped: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        grouped[row.resource].add(row.action)
    return {kind: sorted(actions) for kind, actions in sorted(grouped.items())}


def read_only(rows: tuple[Grant, ...] = COMMAND_ACTIONS) -> tuple[Grant, ...]:
    """The rows that only read (the CI plan job's role)."""
    return tuple(row for row in rows if row.action.split(":", 1)[1].startswith(("Get", "List", "Describe")))
