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
from dataclasses import dataclass, field, replace
from typing import Any

import dns.rcode

from tutormail.aws import client as aws
from tutormail.aws.client import ByService
from tutormail.aws.cloudformation import delete_stack, deployment, live_stack
from tutormail.aws.progress_marks import OFFBOARD, Progress, identity_marks
from tutormail.aws.sending import sending_enabled, set_sending
from tutormail.aws.ses import IdentityState, Ses, delete_identity
from tutormail.aws.smtp_keys import access_keys, deactivate_key
from tutormail.catalog.model import Catalog
from tutormail.cenario1.records import DomainRecords, records_for
from tutormail.cenario1.rfc2136_changes import load_key, plan_changes
from tutormail.clock import Clock, iso
from tutormail.dnsclient.resolver import DnsEndpoints
from tutormail.dnsclient.rfc2136 import TsigKey, deliver, removal, server_address
from tutormail.exitcodes import Exit, TutormailError
from tutormail.lifecycle.changes import DeployedState, deployed_state
from tutormail.plan.build import Identity, InstitutionPlan, build_plan
from tutormail.plan.change import Action, Change, Kind, Outcome, Plan, Write, apply, exit_code
from tutormail.vocabulary import Publisher

SCHEMA_VERSION = 2  # 2: the record names the deployment it was made for
log = logging.getLogger("tutormail")
# A stack whose creation failed and rolled back holds none of its template's resources.
NOTHING_CREATED = frozenset({"ROLLBACK_IN_PROGRESS", "ROLLBACK_FAILED", "ROLLBACK_COMPLETE"})
CHANGED_WHILE_REMOVING = "changed at the server while we removed it"
STEPS = ("sending-off", "keys-off", "dns-records", "stack", "identities")
# The reason of a change that finds its work already done starts with this (the record's "already_gone").
ALREADY = "already"


@dataclass
class Offboarding:
    plan: InstitutionPlan
    claimed_elsewhere: frozenset[str]  # identities other institutions' files claim
    apply: bool
    clients: ByService  # aws.Clients of the platform's Region (a test's fakes among them)
    endpoints: DnsEndpoints = field(default_factory=DnsEndpoints)
    clock: Clock = field(default_factory=Clock)


def claimed_identities(catalog: Catalog, but: str | None = None) -> frozenset[str]:
    """The identities the files claim (all of them, or all but one institution's): never touched."""
    return frozenset(i.name for other in catalog.institutions.values() if other.slug != but
                     for i in build_plan(other, catalog.platform).identities)


def offboarding(catalog: Catalog, slug: str, apply: bool, endpoints: DnsEndpoints, clock: Clock,
                clients: dict[str, Any] | None = None) -> Offboarding:
    return Offboarding(build_plan(catalog.get(slug), catalog.platform), claimed_identities(catalog, but=slug), apply,
                       aws.Clients(catalog.platform.region, clients), endpoints, clock)


def _then_done(call: Callable[..., Any], *args: Any) -> Write:
    """A write that makes one call and is done (a failure raises)."""
    def write(done: list[Change]) -> Outcome:
        call(*args)
        return Outcome.DONE
    return write


def plan_sending_off(job: Offboarding, record: dict) -> Plan:
    name, planned = job.plan.configuration_set, Plan()
    sesv2 = job.clients["sesv2"]
    enabled = sending_enabled(sesv2, name)
    if enabled is None:
        planned.add(Change(Kind.CONFIGURATION_SET, name, Action.KEEP, f"{ALREADY} gone"))
        return planned
    if not enabled:
        planned.add(Change(Kind.CONFIGURATION_SET, name, Action.KEEP, f"sending {ALREADY} off"))
        return planned
    planned.add(Change(Kind.CONFIGURATION_SET, name, Action.UPDATE, "sending off"),
                _then_done(set_sending, sesv2, name, False))
    return planned


def plan_keys_off(job: Offboarding, record: dict) -> Plan:
    user, planned = job.plan.smtp_user_name, Plan()
    iam = job.clients["iam"]
    listed = access_keys(job.plan, iam)
    if listed is None:
        planned.add(Change(Kind.ACCESS_KEY, user, Action.KEEP, f"{ALREADY} gone: no IAM user {user}"))
        return planned
    for key in listed:
        key_id = key["AccessKeyId"]
        if key.get("Status") != "Active":
            planned.add(Change(Kind.ACCESS_KEY, key_id, Action.KEEP, f"{ALREADY} inactive", of=user))
            continue
        planned.add(Change(Kind.ACCESS_KEY, key_id, Action.UPDATE, "inactive", of=user),
                    _then_done(deactivate_key, iam, user, key_id))
    return planned


def _remove(change: Change, domain: str, key: TsigKey, address: str, port: int) -> bool:
    """False if the server says the set changed since it was read (the prerequisite failed: NXRRSET)."""
    return deliver(removal(domain, change, key), domain, key, address, port,
                   accept=(dns.rcode.NOERROR, dns.rcode.NXRRSET)) == 0


def _ours(change: Change) -> str:
    """What we may remove at one name and type (publish's own decision is about adding, not this)."""
    if not change.found:
        return "absent"
    return "ours" if set(change.wanted) <= set(change.found) else "theirs"


def remove_our_records(plan: InstitutionPlan, identity: Identity, state: IdentityState, endpoints: DnsEndpoints,
                       secrets: Any) -> Plan:
    """The records of one domain identity at its RFC 2136 server, each set to be removed only while it
    holds our values (reads only; the TSIG key is read by the first removal). Offboarding and cleanup
    share it."""
    planned = Plan()
    if not state.dkim_tokens:  # the names of its DKIM records are lost with the tokens
        planned.add(Change(Kind.RECORD, f"*._domainkey.{identity.name}", Action.KEEP, "SES has no DKIM tokens for "
                           "it; its records cannot be named", type="CNAME", of=identity.name))
    address, port = server_address(identity.dns, endpoints)
    ours = [r for r in records_for(plan, identity, state).records if state.dkim_tokens or r.purpose != "dkim"]
    keys: list[TsigKey] = []

    def key() -> TsigKey:
        keys[:] = keys or [load_key(identity.dns, plan.platform.region, None, secrets)]
        return keys[0]

    for found in plan_changes(DomainRecords(identity, state, tuple(ours)), address, port):
        whose = _ours(found)
        if whose == "absent":
            planned.add(replace(found, action=Action.KEEP, reason=f"{ALREADY} gone"))
        elif whose == "theirs":
            planned.add(replace(found, action=Action.KEEP, reason=f"holds {', '.join(found.found)}, not our values"))
        else:
            planned.add(replace(found, action=Action.DELETE, reason=""), lambda done, found=found: (
                Outcome.DONE if _remove(found, identity.update_zone, key(), address, port)
                else (Outcome.CHANGED, CHANGED_WHILE_REMOVING)))
    return planned


def plan_dns_records(job: Offboarding, record: dict) -> Plan:
    planned = Plan()
    ses = Ses(job.plan.platform, sesv2=job.clients["sesv2"])
    for identity in job.plan.identities:
        if identity.owner != Publisher.RFC2136 or identity.name not in record["identities"]:
            continue
        planned.extend(remove_our_records(job.plan, identity, ses.identity(identity.name), job.endpoints,
                                          job.clients["secretsmanager"]))
    return planned


def plan_stack(job: Offboarding, record: dict) -> Plan:
    name, planned = job.plan.stack_name, Plan()
    cfn = job.clients["cloudformation"]
    if live_stack(cfn, name) is None:
        planned.add(Change(Kind.STACK, name, Action.KEEP, f"{ALREADY} gone"))
        return planned
    planned.add(Change(Kind.STACK, name, Action.DELETE, "with its Route 53 records, SMTP user and secret"),
                _then_done(delete_stack, cfn, name))
    return planned


def _forget(job: Offboarding, name: str) -> None:
    Progress(job.plan, job.clients["dynamodb"], job.clients["secretsmanager"]).forget(identity_marks(name))


def plan_identities(job: Offboarding, record: dict) -> Plan:
    """Its identities, and the marks given for them: those go also for one already gone (a run that
    failed after deleting it resumes here)."""
    planned = Plan()
    ses = Ses(job.plan.platform, sesv2=job.clients["sesv2"])
    for name, why in sorted(record.get("not_ours", {}).items()):
        planned.add(Change(Kind.IDENTITY, name, Action.KEEP, why))
    for name in record["identities"]:
        if name in job.claimed_elsewhere:
            planned.add(Change(Kind.IDENTITY, name, Action.KEEP, "another institution's file claims it"))
            continue
        if not ses.identity(name).exists:
            planned.add(Change(Kind.IDENTITY, name, Action.KEEP, f"{ALREADY} gone"))
            planned.add(Change(Kind.MARK, name, Action.DELETE, "the marks given for it (a DMARC risk accepted)"),
                        _then_done(_forget, job, name))
            continue
        planned.add(Change(Kind.IDENTITY, name, Action.DELETE), _delete_identity(job, name))
    return planned


def _delete_identity(job: Offboarding, name: str) -> Write:
    def write(done: list[Change]) -> Outcome:
        deleted = delete_identity(job.clients["sesv2"], name)
        _forget(job, name)
        return Outcome.DONE if deleted else Outcome.GONE
    return write


STEP_PLANS: dict[str, Callable[[Offboarding, dict], Plan]] = {
    "sending-off": plan_sending_off, "keys-off": plan_keys_off, "dns-records": plan_dns_records,
    "stack": plan_stack, "identities": plan_identities}


def run_step(job: Offboarding, step: str, record: dict) -> list[Change]:
    """One step: its plan, applied unless a dry run."""
    planned = STEP_PLANS[step](job, record)
    return apply(planned) if job.apply else planned.changes


def _listed(change: Change) -> str:
    return f"{change.label}: {change.reason}" if change.reason else change.label


def step_entry(changes: list[Change], at: str) -> dict[str, Any]:
    """A step as the record keeps it: its changes, and in words what it removed (a dry run: would
    remove), left, or found already gone."""
    entry: dict[str, Any] = {"at": at, "removed": [], "left": [], "already_gone": [],
                             "changes": [c.as_dict() for c in changes]}
    for change in changes:
        if change.writes and change.outcome in (None, Outcome.DONE):
            entry["removed"].append(_listed(change))
        elif change.outcome == Outcome.GONE or (change.action == Action.KEEP and change.reason.startswith(ALREADY)):
            entry["already_gone"].append(change.label)
        else:
            entry["left"].append(_listed(change))
    return entry


def _same(record: dict, now: dict | None) -> bool:
    """Whether a stored record still speaks for what is deployed (the rule in the module's docstring)."""
    if now is None:
        return True
    made_for = record.get("deployment") or {}
    return all(made_for.get(k) == now[k] for k in ("stack_id", "created", "template_hash"))


def owned_identities(job: Offboarding, now: dict | None) -> tuple[list[str], dict[str, str]]:
    """The identities to delete, and the others the template names with why they are left."""
    deployed = deployed_state(job.clients["cloudformation"], job.plan.stack_name) if now else None
    if now and now["status"] in NOTHING_CREATED:
        deployed = DeployedState({}, ())
    ses = Ses(job.plan.platform, sesv2=job.clients["sesv2"])
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
    progress = Progress(job.plan, job.clients["dynamodb"], job.clients["secretsmanager"])
    stored = progress.read().get(OFFBOARD)
    now = deployment(job.clients["cloudformation"], job.plan.stack_name)
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
            changes = run_step(job, step, record)
        except Exception as exc:
            if job.apply:
                record["failed"] = {"step": step, "at": iso(job.clock.now()), "error": str(exc)}
                progress.write({OFFBOARD: json.dumps(record, sort_keys=True)})
            raise
        entry = step_entry(changes, iso(job.clock.now()))
        on_step(step, entry)
        if job.apply:
            record["steps"][step] = entry
            record.pop("failed", None)
            if step == STEPS[-1]:
                record["finished"] = entry["at"]
            progress.write({OFFBOARD: json.dumps(record, sort_keys=True)})
    return record


def outcome(entries: list[dict]) -> Exit:
    """1 when a step left something for a person (also one done in an earlier run: it is still
    there); a dry run's planned removals are 0, as a dry run is asked for; else 0."""
    return exit_code(Change.from_dict(c) for entry in entries for c in entry.get("changes", []))
