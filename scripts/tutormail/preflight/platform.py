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

from dataclasses import dataclass
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


@dataclass(frozen=True)
class PlatformCheck:
    """One thing the platform stack creates: whether the account holds it already, and the conflict."""
    what: str
    name: str
    exists: bool
    conflict: str
    setting: str | None = None  # the GitHub provider's `oidc_provider` (create | existing)

    def as_dict(self) -> dict[str, Any]:
        data = {"what": self.what, "name": self.name, "exists": self.exists, "conflict": self.conflict}
        return data if self.setting is None else {**data, "setting": self.setting}


@dataclass(frozen=True)
class PlatformPreflight:
    """`preflight --platform`; `as_dict()` is its JSON (the CLI adds schema_version)."""
    checks: list[PlatformCheck]
    stack: str = PLATFORM_STACK

    @property
    def conflicts(self) -> list[str]:
        return [c.conflict for c in self.checks if c.conflict]

    @property
    def exit_code(self) -> Exit:
        return Exit.ACTION_NEEDED if self.conflicts else Exit.OK

    def as_dict(self) -> dict[str, Any]:
        return {"exit_code": int(self.exit_code), "stack": self.stack, "checks": [c.as_dict() for c in self.checks],
                "conflicts": self.conflicts}


def _github_provider(platform: Platform, iam: Any, owned: set[str]) -> PlatformCheck | None:
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
    return PlatformCheck("GitHub OIDC provider", GITHUB_PROVIDER, bool(found), conflict, setting=how)


def _table(dynamodb: Any, owned: set[str], name: str = TABLE, what: str = "progress table") -> PlatformCheck:
    exists = table_exists(dynamodb, name)
    conflict = (f"the table {name} exists outside {PLATFORM_STACK}: the deploy would fail \"already exists\"; "
                "export what it holds, delete it, deploy, import it back"
                if exists and name not in owned else "")
    return PlatformCheck(what, name, exists, conflict)


def _log_group(logs: Any, name: str, owned: set[str]) -> PlatformCheck:
    exists = log_group_exists(logs, name)
    conflict = (f"the log group {name} exists outside {PLATFORM_STACK} (Lambda makes it on a first invocation): "
                "the deploy would fail \"already exists\"; delete it (its lines are lost) before deploying"
                if exists and name not in owned else "")
    return PlatformCheck("log group", name, exists, conflict)


def _receipt_rule_set(platform: Platform, ses: Any) -> PlatformCheck:
    """Issue 25: another application's active receipt rule set would have to give way to tutor-mail's
    (one is active per account and region); a person decides, before the first deploy."""
    state = active_rule_set(platform.region, ses)
    conflict = state.conflict if state.active not in (None, names.RECEIPT_RULE_SET) else ""
    return PlatformCheck("active receipt rule set", state.active or "(none)", state.active is not None, conflict)


def check_platform(platform: Platform, clients: ByService) -> PlatformPreflight:
    """`clients`: cloudformation, iam, dynamodb, logs, ses (boto3 clients of the platform's region)."""
    owned = stack_physical_ids(clients["cloudformation"], PLATFORM_STACK)
    checks = [c for c in (_github_provider(platform, clients["iam"], owned),) if c is not None]
    checks.append(_table(clients["dynamodb"], owned))
    checks.extend(_log_group(clients["logs"], name, owned) for name in LOG_GROUPS)
    if platform.receiving is not None:
        checks.append(_receipt_rule_set(platform, clients["ses"]))
        checks.append(_table(clients["dynamodb"], owned, names.INBOUND_TABLE, "inbound table"))
        checks.append(_log_group(clients["logs"], names.log_group(names.REPLIES_FUNCTION), owned))
    return PlatformPreflight(checks)
