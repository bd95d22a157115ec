"""What an edited file changes against what is deployed: identities, records, the addresses
the SMTP user may send as and its key generations, each a Change created, kept or removed.

What is deployed is read from the stack's template as CloudFormation holds it (aws/cloudformation.py):
its SES identities, their MAIL FROM domains and the `ses:FromAddress` condition of the SMTP
user's policy. Records follow their identity (a DKIM CNAME name is known only once SES made the
tokens, so DKIM records are counted by identity). An address identity left behind when its
domain becomes an identity keeps settings that override the domain's
(https://docs.aws.amazon.com/ses/latest/dg/creating-identities.html), so it is shown as removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tutormail.aws.cloudformation import original_template
from tutormail.plan.build import SCENARIO_DNS, Identity, InstitutionPlan
from tutormail.plan.change import Action, Change, Kind


@dataclass(frozen=True)
class DeployedState:
    identities: dict[str, str | None]  # name -> MAIL FROM domain (None for an address)
    from_addresses: tuple[str, ...]
    key_generations: tuple[int, ...] = ()  # the SMTP user's access keys, by Serial (infra/smtp_user.py)


def _from_addresses(resources: dict[str, Any]) -> tuple[str, ...]:
    found: set[str] = set()
    for resource in resources.values():
        if resource.get("Type") not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            continue
        for statement in resource["Properties"]["PolicyDocument"].get("Statement", []):
            # domain addresses under StringEqualsIgnoreCase, link-verified ones under StringEquals (plan/smtp_policy.py)
            for operator in ("StringEquals", "StringEqualsIgnoreCase"):
                addresses = statement.get("Condition", {}).get(operator, {}).get("ses:FromAddress", [])
                found.update([addresses] if isinstance(addresses, str) else addresses)
    return tuple(sorted(found))


def parse_template(template: dict[str, Any]) -> DeployedState:
    resources = template.get("Resources", {})
    identities = {r["Properties"]["EmailIdentity"]: (r["Properties"].get("MailFromAttributes") or {}).get(
                  "MailFromDomain") for r in resources.values() if r.get("Type") == "AWS::SES::EmailIdentity"}
    keys = tuple(sorted(int(r["Properties"]["Serial"]) for r in resources.values()
                        if r.get("Type") == "AWS::IAM::AccessKey" and "Serial" in r.get("Properties", {})))
    return DeployedState(identities, _from_addresses(resources), keys)


def deployed_state(cfn: Any, stack: str) -> DeployedState | None:
    """None when the stack does not exist."""
    template = original_template(cfn, stack)
    return None if template is None else parse_template(template)


SPLIT = (("created", Action.CREATE), ("kept", Action.KEEP), ("removed", Action.DELETE))


def _split(kind: Kind, wanted: set, found: set, of: str = "") -> list[Change]:
    parts = {"created": wanted - found, "kept": wanted & found, "removed": found - wanted}
    return [Change(kind, str(name), action, of=of) for part, action in SPLIT for name in sorted(parts[part])]


def _records(plan: InstitutionPlan, identity: Identity, action: Action) -> list[Change]:
    return [Change(Kind.RECORD, r.name, action, type=r.type, of=identity.name) for r in plan.records(identity)]


def changes(plan: InstitutionPlan, deployed: DeployedState | None) -> list[Change]:
    """What a deploy of the file would create, keep and remove (no I/O: `deployed` was read before)."""
    deployed = deployed or DeployedState({}, ())
    identities = _split(Kind.IDENTITY, {i.name for i in plan.identities}, set(deployed.identities))
    records: list[Change] = []
    for identity in plan.identities:
        records += _records(plan, identity, Action.KEEP if identity.name in deployed.identities else Action.CREATE)
    for name in (c.name for c in identities if c.action == Action.DELETE):
        mail_from = deployed.identities[name]
        if mail_from:  # a domain identity (an address has no records): its records by name
            gone = Identity(name=name, kind="domain", scenario=SCENARIO_DNS, provider=None, mail_from=mail_from)
            records += _records(plan, gone, Action.DELETE)
    order = {action: n for n, (_, action) in enumerate(SPLIT)}
    return (identities + sorted(records, key=lambda c: (order[c.action], c.name, c.type))
            + _split(Kind.FROM_ADDRESS, set(plan.from_addresses), set(deployed.from_addresses))
            + _split(Kind.SMTP_KEY, set(plan.key_generations), set(deployed.key_generations), plan.smtp_user_name))


def key_problems(plan: InstitutionPlan, deployed: DeployedState | None) -> list[str]:
    """A deploy that would delete the key Tutor holds without overlap, or need a third key. Keys are
    replaced by generation (a new logical id). The newest deployed generation is the one the secret,
    so Tutor, holds: a deploy that does not declare it any more deletes it. CloudFormation creates
    what an update adds before its clean-up deletes what it drops
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-monitor-stack.html),
    so the kept, dropped and new keys exist together, and IAM refuses a user a third access key
    (LimitExceeded; "Access keys assigned to an IAM user: 2",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html)."""
    if deployed is None or not deployed.key_generations:
        return []
    held, wanted = max(deployed.key_generations), plan.institution.smtp_key_generation
    problems = []
    if held not in plan.key_generations:
        how = "goes back" if wanted < held else "jumps" if wanted > held + 1 else "goes"
        problems.append(
            f"smtp_key_generation {how} from {held} (deployed: the key Tutor holds) to {wanted}"
            + (" without smtp_key_keep_previous" if wanted == held + 1 else "") + ": that deploy deletes "
            f"generation {held} with no overlap; rotate one generation at a time ({held + 1} with "
            "smtp_key_keep_previous: true, then update Tutor)")
    together = sorted(set(deployed.key_generations) | set(plan.key_generations))
    if len(together) > 2:
        previous = ", ".join(map(str, sorted(deployed.key_generations)))
        problems.append(
            f"that deploy needs {len(together)} access keys at once (deployed generations {previous}, new "
            f"{', '.join(str(g) for g in together if g not in deployed.key_generations)}); IAM allows two per "
            f"user, so it would roll back: first drop the previous key (smtp_key_generation: {held} without "
            "smtp_key_keep_previous, deploy, with Tutor on the new password), then rotate")
    return problems
