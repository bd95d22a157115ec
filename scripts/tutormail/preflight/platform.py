"""`tutormail preflight --platform`: before TutorMail-Platform's first deploy, what it would create
that the account already holds.

CloudFormation creates and never adopts: an IAM OIDC provider for a URL the account already has
fails EntityAlreadyExists (one provider per URL), a table or log group of the same name fails
"already exists", and the stack rolls back
(https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html,
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html,
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html).
What the stack already holds is no conflict. Run by the administrator who deploys the platform:
the operator's policy is one of the things this stack creates.
"""

from __future__ import annotations

from typing import Any

from tutormail import names
from tutormail.aws.client import ByService
from tutormail.aws.cloudformation import stack_physical_ids
from tutormail.aws.dynamodb import table_exists
from tutormail.aws.iam import oidc_provider_arns
from tutormail.aws.logs import log_group_exists
from tutormail.aws.progress_store import TABLE
from tutormail.aws.receipt_rules import active_rule_set
from tutormail.catalog.model import Platform
from tutormail.exitcodes import Exit
from tutormail.names import PLATFORM_STACK

GITHUB_PROVIDER = "oidc-provider/token.actions.githubusercontent.com"
LOG_GROUPS = (names.log_group(names.PAUSE_FUNCTION), names.EVENT_LOG_GROUP)


def _github_provider(platform: Platform, iam: Any, owned: set[str]) -> dict[str, Any] | None:
    if platform.github is None:
        return None
    found = [arn for arn in oidc_provider_arns(iam) if arn.endswith(f":{GITHUB_PROVIDER}")]
    how = platform.github.oidc_provider
    conflict = ""
    if how == "create" and found and found[0] not in owned:
        conflict = (f"GitHub's OIDC provider {found[0]} already exists and IAM holds one per URL: the deploy would "
                    "fail EntityAlreadyExists; set `github.oidc_provider: existing` in platform.yaml")
    elif how == "existing" and not found:
        conflict = ("platform.yaml says `github.oidc_provider: existing` but the account has no provider for "
                    "token.actions.githubusercontent.com: set `oidc_provider: create`")
    return {"what": "GitHub OIDC provider", "name": GITHUB_PROVIDER, "exists": bool(found), "setting": how,
            "conflict": conflict}


def _table(dynamodb: Any, owned: set[str], name: str = TABLE, what: str = "progress table") -> dict[str, Any]:
    exists = table_exists(dynamodb, name)
    conflict = (f"the table {name} exists outside {PLATFORM_STACK}: the deploy would fail \"already exists\"; "
                "export what it holds, delete it, deploy, import it back"
                if exists and name not in owned else "")
    return {"what": what, "name": name, "exists": exists, "conflict": conflict}


def _log_group(logs: Any, name: str, owned: set[str]) -> dict[str, Any]:
    exists = log_group_exists(logs, name)
    conflict = (f"the log group {name} exists outside {PLATFORM_STACK} (Lambda makes it on a first invocation): "
                "the deploy would fail \"already exists\"; delete it (its lines are lost) before deploying"
                if exists and name not in owned else "")
    return {"what": "log group", "name": name, "exists": exists, "conflict": conflict}


def _receipt_rule_set(platform: Platform, ses: Any) -> dict[str, Any]:
    """Issue 25: another application's active receipt rule set would have to give way to tutor-mail's
    (one is active per account and region); a person decides, before the first deploy."""
    state = active_rule_set(platform.region, ses)
    conflict = state.conflict if state.active not in (None, names.RECEIPT_RULE_SET) else ""
    return {"what": "active receipt rule set", "name": state.active or "(none)", "exists": state.active is not None,
            "conflict": conflict}


def check_platform(platform: Platform, clients: ByService) -> tuple[dict[str, Any], Exit]:
    """`clients`: cloudformation, iam, dynamodb, logs, ses (boto3 clients of the platform's region)."""
    owned = stack_physical_ids(clients["cloudformation"], PLATFORM_STACK)
    checks = [c for c in (_github_provider(platform, clients["iam"], owned),) if c is not None]
    checks.append(_table(clients["dynamodb"], owned))
    checks.extend(_log_group(clients["logs"], name, owned) for name in LOG_GROUPS)
    if platform.receiving is not None:
        checks.append(_receipt_rule_set(platform, clients["ses"]))
        checks.append(_table(clients["dynamodb"], owned, names.INBOUND_TABLE, "inbound table"))
        checks.append(_log_group(clients["logs"], names.log_group(names.REPLIES_FUNCTION), owned))
    conflicts = [c["conflict"] for c in checks if c["conflict"]]
    return ({"stack": PLATFORM_STACK, "checks": checks, "conflicts": conflicts},
            Exit.ACTION_NEEDED if conflicts else Exit.OK)
