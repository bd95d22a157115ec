"""Offboarding an institution: sending off, its DNS records removed, its stack destroyed, its
retained identities deleted, and a status record of what went and when.

Order matters: sending stops before anything is taken away, so no message leaves half-signed;
the configuration set is paused first (SES v2 PutConfigurationSetSendingOptions:
https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_PutConfigurationSetSendingOptions.html),
then the SMTP user's keys are made Inactive (IAM UpdateAccessKey:
https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAccessKey.html), because a key
works for any identity the user may send as. RFC 2136 records go while SES still knows the DKIM
tokens that name them; each record set is deleted by an update whose prerequisite is that it
holds exactly our values (RFC 2136 section 2.4.2, "RRset exists (value dependent)"), so a
record the institution changed since is left in place. The stack is deleted (DeleteStack, then
waited for: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeleteStack.html);
it takes its Route 53 records, the SMTP user and the secret, but keeps the identities it marks
Retain, which are deleted last (SES v2 DeleteEmailIdentity:
https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_DeleteEmailIdentity.html).

Every step reads before it writes, so it can run again; the record (a progress mark of the
institution, JSON) says which steps are done, so a run after a failure resumes at the first step
not done. A record of something done is valid only for the deployment it was done to: it names the
stack it was made for (its StackId, new at every creation, its creation time and its TemplateHash
parameter), and a record made for another deployment than the one there now (the institution was
offboarded, then deployed again) is stale: a new offboarding is planned and run. With no stack
there now, the record stands (finished, or resumed where it stopped).

Which identities are ours is decided when the record is made, from what is deployed and from SES:
those the deployed template declares (none when the stack's creation rolled back: then nothing of
its template exists, and an identity of that name was there before, made by someone else), whose
default configuration set is the institution's `tutormail-<slug>` (the stack sets it on every
identity it makes; cleanup keeps the same rule). An identity another institution's file claims is
never touched.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dns.rcode

from tutormail.aws import client as aws
from tutormail.aws.progress_tags import OFFBOARD, Progress, identity_marks
from tutormail.aws.ses import IdentityState, Ses
from tutormail.aws.smtp_keys import access_keys
from tutormail.catalog.model import Catalog
from tutormail.cenario1.publish import load_key, plan_changes
from tutormail.cenario1.records import DomainRecords, records_for
from tutormail.clock import Clock, iso
from tutormail.dnsclient.resolver import DnsEndpoints
from tutormail.dnsclient.rfc2136 import deliver, removal, server_address
from tutormail.exitcodes import Exit, TutormailError
from tutormail.lifecycle.changes import DeployedState, deployed_state
from tutormail.plan.build import OWNER_RFC2136, Identity, InstitutionPlan, build_plan

SCHEMA_VERSION = 2  # 2: the record names the deployment it was made for
log = logging.getLogger("tutormail")
# A stack whose creation failed and rolled back holds none of its template's resources.
NOTHING_CREATED = frozenset({"ROLLBACK_IN_PROGRESS", "ROLLBACK_FAILED", "ROLLBACK_COMPLETE"})
CHANGED_WHILE_REMOVING = "changed at the server while we removed it"
STEPS = ("sending-off", "keys-off", "dns-records", "stack", "identities")
# CloudFormation deletes a stack in minutes; wait up to 30 of them, asking every 5 seconds.
STACK_WAIT = {"Delay": 5, "MaxAttempts": 360}


@dataclass
class StepResult:
    done: list[str] = field(default_factory=list)  # what this step removed or turned off
    left: list[str] = field(default_factory=list)  # what it found and did not touch, and why
    absent: list[str] = field(default_factory=list)  # already gone


@dataclass
class Offboarding:
    plan: InstitutionPlan
    claimed_elsewhere: frozenset[str]  # identities other institutions' files claim
    apply: bool
    clients: dict[str, Any]
    endpoints: DnsEndpoints = field(default_factory=DnsEndpoints)
    clock: Clock = field(default_factory=Clock)

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = aws.client(service, self.plan.platform.region)
        return self.clients[service]


def claimed_identities(catalog: Catalog, but: str | None = None) -> frozenset[str]:
    """The identities the files claim (all of them, or all but one institution's): never touched."""
    return frozenset(i.name for other in catalog.institutions.values() if other.slug != but
                     for i in build_plan(other, catalog.platform).identities)


def offboarding(catalog: Catalog, slug: str, apply: bool, endpoints: DnsEndpoints, clock: Clock,
                clients: dict[str, Any] | None = None) -> Offboarding:
    return Offboarding(build_plan(catalog.get(slug), catalog.platform), claimed_identities(catalog, but=slug), apply,
                       clients or {}, endpoints, clock)


def _absent_on_not_found(what: str, fn: Callable[..., dict], **kwargs: Any) -> dict | None:
    try:
        return aws.call(what, fn, **kwargs)
    except aws.ServiceError as exc:
        if aws.is_not_found(exc):
            return None
        raise


def sending_off(job: Offboarding, record: dict) -> StepResult:
    name, result = job.plan.configuration_set, StepResult()
    sesv2 = job.client("sesv2")
    found = _absent_on_not_found(f"SES GetConfigurationSet {name}", sesv2.get_configuration_set,
                                 ConfigurationSetName=name)
    if found is None:
        result.absent.append(f"configuration set {name}")
    elif not (found.get("SendingOptions") or {}).get("SendingEnabled", True):
        result.absent.append(f"configuration set {name}: sending already off")
    else:
        if job.apply:
            aws.call(f"SES PutConfigurationSetSendingOptions {name}", sesv2.put_configuration_set_sending_options,
                     ConfigurationSetName=name, SendingEnabled=False)
        result.done.append(f"configuration set {name}: sending off")
    return result


def keys_off(job: Offboarding, record: dict) -> StepResult:
    user, result = job.plan.smtp_user_name, StepResult()
    iam = job.client("iam")
    listed = access_keys(job.plan, iam)
    if listed is None:
        result.absent.append(f"IAM user {user}")
        return result
    for key in listed:
        label = f"access key {key['AccessKeyId']} of {user}"
        if key.get("Status") != "Active":
            result.absent.append(f"{label}: already inactive")
            continue
        if job.apply:
            aws.call(f"IAM UpdateAccessKey {user}", iam.update_access_key, UserName=user,
                     AccessKeyId=key["AccessKeyId"], Status="Inactive")
        result.done.append(f"{label}: inactive")
    return result


def _remove(change: Any, domain: str, key: Any, address: str, port: int) -> bool:
    """False if the server says the set changed since it was read (the prerequisite failed: NXRRSET)."""
    return deliver(removal(domain, change, key), domain, key, address, port,
                   accept=(dns.rcode.NOERROR, dns.rcode.NXRRSET)) == 0


def _ours(change: Any) -> str:
    """What we may remove at one name and type (publish's own decision is about adding, not this)."""
    if not change.found:
        return "absent"
    return "ours" if set(change.wanted) <= set(change.found) else "theirs"


def remove_our_records(plan: InstitutionPlan, identity: Identity, state: IdentityState, apply: bool,
                       endpoints: DnsEndpoints, secrets: Any) -> StepResult:
    """The records of one domain identity at its RFC 2136 server, each set removed only while it
    holds our values (dry run: what would go). Offboarding and cleanup share it."""
    result = StepResult()
    if not state.dkim_tokens:  # the names of its DKIM records are lost with the tokens
        result.left.append(f"{identity.name}: SES has no DKIM tokens for it; its records cannot be named")
    address, port = server_address(identity.dns, endpoints)
    ours = [r for r in records_for(plan, identity, state).records if state.dkim_tokens or r.purpose != "dkim"]
    changes = plan_changes(DomainRecords(identity, state, tuple(ours)), address, port)
    key = load_key(identity.dns, plan.platform.region, None, secrets) \
        if apply and any(_ours(c) == "ours" for c in changes) else None
    for change in changes:
        label, whose = f"{change.name} {change.type}", _ours(change)
        if whose == "absent":
            result.absent.append(label)
        elif whose == "theirs":
            result.left.append(f"{label}: holds {', '.join(change.found)}, not our values")
        elif key is None or _remove(change, identity.update_zone, key, address, port):
            result.done.append(label)
        else:
            result.left.append(f"{label}: {CHANGED_WHILE_REMOVING}")
    return result


def dns_records(job: Offboarding, record: dict) -> StepResult:
    result = StepResult()
    ses = Ses(job.plan.platform, sesv2=job.client("sesv2"))
    for identity in job.plan.identities:
        if identity.owner != OWNER_RFC2136 or identity.name not in record["identities"]:
            continue
        found = remove_our_records(job.plan, identity, ses.identity(identity.name), job.apply, job.endpoints,
                                   job.client("secretsmanager"))
        result.done += found.done
        result.left += found.left
        result.absent += found.absent
    return result


def stack(job: Offboarding, record: dict) -> StepResult:
    name, result = job.plan.stack_name, StepResult()
    cfn = job.client("cloudformation")
    described = _absent_on_not_found(f"CloudFormation DescribeStacks {name}", cfn.describe_stacks, StackName=name)
    stacks = [s for s in (described or {}).get("Stacks", []) if s["StackStatus"] != "DELETE_COMPLETE"]
    if not stacks:
        result.absent.append(f"stack {name}")
        return result
    if job.apply:
        aws.call(f"CloudFormation DeleteStack {name}", cfn.delete_stack, StackName=name)
        aws.call(f"CloudFormation wait stack-delete-complete {name}", cfn.get_waiter("stack_delete_complete").wait,
                 StackName=name, WaiterConfig=STACK_WAIT)
    result.done.append(f"stack {name} (its Route 53 records, SMTP user and secret)")
    return result


def identities(job: Offboarding, record: dict) -> StepResult:
    result = StepResult()
    sesv2 = job.client("sesv2")
    result.left += [f"identity {name}: {why}" for name, why in sorted(record.get("not_ours", {}).items())]
    gone = []
    for name in record["identities"]:
        if name in job.claimed_elsewhere:
            result.left.append(f"identity {name}: another institution's file claims it")
            continue
        gone.append(name)
        if _absent_on_not_found(f"SES GetEmailIdentity {name}", sesv2.get_email_identity,
                                EmailIdentity=name) is None:
            result.absent.append(f"identity {name}")
            continue
        if job.apply:
            aws.call(f"SES DeleteEmailIdentity {name}", sesv2.delete_email_identity, EmailIdentity=name)
        result.done.append(f"identity {name}")
    if job.apply and gone:  # also of one already gone: a run that failed after deleting it resumes here
        Progress(job.plan, job.client("dynamodb"), job.client("secretsmanager")).forget(
            [key for name in gone for key in identity_marks(name)])
    return result


STEP_FUNCTIONS: dict[str, Callable[[Offboarding, dict], StepResult]] = {
    "sending-off": sending_off, "keys-off": keys_off, "dns-records": dns_records, "stack": stack,
    "identities": identities}


def deployment(cfn: Any, stack: str) -> dict | None:
    """The deployment there now, as a record names it; None when no stack exists
    (DescribeStacks: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html)."""
    try:
        described = aws.call(f"CloudFormation DescribeStacks {stack}", cfn.describe_stacks, StackName=stack)
    except aws.ServiceError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    for found in described.get("Stacks", []):
        if found["StackStatus"] != "DELETE_COMPLETE":
            parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in found.get("Parameters", [])}
            return {"stack_id": found["StackId"], "created": iso(found["CreationTime"]),
                    "template_hash": parameters.get("TemplateHash"), "status": found["StackStatus"]}
    return None


def _same(record: dict, now: dict | None) -> bool:
    """Whether a stored record still speaks for what is deployed (the rule in the module's docstring)."""
    if now is None:
        return True
    made_for = record.get("deployment") or {}
    return all(made_for.get(k) == now[k] for k in ("stack_id", "created", "template_hash"))


def owned_identities(job: Offboarding, now: dict | None) -> tuple[list[str], dict[str, str]]:
    """The identities to delete, and the others the template names with why they are left."""
    deployed = deployed_state(job.client("cloudformation"), job.plan.stack_name) if now else None
    if now and now["status"] in NOTHING_CREATED:
        deployed = DeployedState({}, ())
    ses = Ses(job.plan.platform, sesv2=job.client("sesv2"))
    ours, others = [], {}
    for name in sorted(deployed.identities if deployed else []):
        if name in job.claimed_elsewhere:
            others[name] = "another institution's file claims it"
            continue
        found = ses.identity(name)
        if not found.exists or found.configuration_set == job.plan.configuration_set:
            ours.append(name)  # one gone already is reported so by the identities step
        else:
            others[name] = (f"its default configuration set is {found.configuration_set or 'none'}, not "
                            f"{job.plan.configuration_set}: not made by tutor-mail's stack, left")
    return ours, others


def _new_record(job: Offboarding, now: dict | None) -> dict:
    ours, others = owned_identities(job, now)
    return {"schema_version": SCHEMA_VERSION, "institution": job.plan.slug, "stack": job.plan.stack_name,
            "deployment": {k: v for k, v in (now or {}).items() if k != "status"} or None,
            "started": iso(job.clock.now()), "finished": None, "identities": ours, "not_ours": others, "steps": {}}


def stored_record(stored: str, slug: str) -> dict:
    """The record kept in the progress table, or exit 1 when it is not one this code wrote: a
    record read wrongly would skip or repeat deletions, so a person looks at it first."""
    try:
        record = json.loads(stored)
    except ValueError:
        record = None
    valid = (isinstance(record, dict) and isinstance(record.get("steps"), dict)
             and all(isinstance(entry, dict) for entry in record["steps"].values())
             and isinstance(record.get("identities"), list)
             and all(isinstance(name, str) for name in record["identities"])
             and isinstance(record.get("deployment") or {}, dict))
    if not valid:
        raise TutormailError(f"{slug}: the offboarding record ({OFFBOARD} in the progress table) is not one "
                             "tutormail wrote; look at it, delete that item, and run offboard again",
                             Exit.ACTION_NEEDED)
    return record


def run(job: Offboarding, on_step: Callable[[str, dict], None] = lambda step, entry: None) -> dict:
    """Runs (or, without apply, describes) every step not done yet; returns the record. With apply
    the record is written after each step, and names the step that failed."""
    progress = Progress(job.plan, job.client("dynamodb"), job.client("secretsmanager"))
    stored = progress.read().get(OFFBOARD)
    now = deployment(job.client("cloudformation"), job.plan.stack_name)
    record = stored_record(stored, job.plan.slug) if stored else None
    if record is not None and not _same(record, now):
        log.warning("%s: the offboarding record (started %s, finished %s) was made for another deployment than "
                    "%s there now (%s, created %s): a new offboarding", job.plan.slug, record.get("started"),
                    record.get("finished"), job.plan.stack_name, now["stack_id"], now["created"])
        record = None
    record = record or _new_record(job, now)
    for step in STEPS:
        if step in record["steps"]:
            on_step(step, {**record["steps"][step], "earlier": True})
            continue
        try:
            found = STEP_FUNCTIONS[step](job, record)
        except Exception as exc:
            if job.apply:
                record["failed"] = {"step": step, "at": iso(job.clock.now()), "error": str(exc)}
                progress.write({OFFBOARD: json.dumps(record, sort_keys=True)})
            raise
        entry = {"at": iso(job.clock.now()), "removed": found.done, "left": found.left, "already_gone": found.absent}
        on_step(step, entry)
        if job.apply:
            record["steps"][step] = entry
            record.pop("failed", None)
            if step == STEPS[-1]:
                record["finished"] = entry["at"]
            progress.write({OFFBOARD: json.dumps(record, sort_keys=True)})
    return record
