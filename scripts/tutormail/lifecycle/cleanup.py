"""After a deploy: remove what an institution's stack no longer declares.

Identities are `RetainExceptOnCreate` (infra/senders.py), and CloudFormation keeps a retained
resource also when an update removes it from the template
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html),
so a dropped company, a changed domain or a Cenário 2 address whose domain became a `dns` entry
leaves its SES identity behind; a leftover address identity even keeps settings that override
its domain's (https://docs.aws.amazon.com/ses/latest/dg/creating-identities.html).

Which leftovers are this institution's: an identity no file claims (tenants never cross), that
the deployed stack no longer declares (GetTemplate; one it still declares waits for the deploy),
whose default configuration set is the institution's `tutormail-<slug>`: every identity its stack
made names it (SES v2 GetEmailIdentity `ConfigurationSetName`:
https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_GetEmailIdentity.html). The account's
identities come from ListEmailIdentities pages; only the unclaimed ones are read one by one.

A leftover domain's records go first, while SES still knows the DKIM tokens that name them:
- at an RFC 2136 server (the `dns` entry covering the domain in the current file, or in the file as
  it was before the change, `--previous`): removed by offboarding's update, each record set only
  while it holds exactly our values (RFC 2136 section 2.4.2);
- anywhere else (Route 53, whose records the stack already took; manual; a domain the files no
  longer place): looked up on every authoritative server, and what still holds our values is
  printed for whoever runs that DNS. The identity stays until they are gone, so a later run can
  still name them.
Then the identity is deleted (SES v2 DeleteEmailIdentity:
https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_DeleteEmailIdentity.html), unless one
of its record sets changed at the server between the plan and the apply (it is then left, and
the record is for a person). `plan` only reads; `run` applies that plan unless a dry run: a
second run finds nothing left.

DKIM CNAMEs of tokens SES no longer uses, beside an identity the file still declares: in a Route 53
zone (the only DNS whose names can be listed: ListResourceRecordSets,
https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListResourceRecordSets.html), a CNAME
`<label>._domainkey.<domain>` pointing at `<label>.<SES signing zone>` whose label is not one of the
identity's tokens. Each is deleted as listed (a DELETE names the exact set, so one changed since
fails and is left): the operator may delete only CNAMEs named `*._domainkey.*` (tutormail.aws.
permissions, CONDITIONS). At RFC 2136 and manual domains such names cannot be listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tutormail.aws import client as aws
from tutormail.aws.client import ByService
from tutormail.aws.cloudformation import stack_dkim_names
from tutormail.aws.progress_marks import Progress, identity_marks
from tutormail.aws.route53 import delete_record_set
from tutormail.aws.ses import IdentityState, Ses, delete_identity
from tutormail.catalog.model import Catalog, DnsDomain, Institution
from tutormail.catalog.names import is_same_or_subdomain
from tutormail.cenario1.check import check_domain
from tutormail.cenario1.records import records_for
from tutormail.dnsclient.rdata import comparable
from tutormail.dnsclient.resolver import DnsEndpoints
from tutormail.exitcodes import Exit, TutormailError, UsageError
from tutormail.lifecycle.changes import deployed_state
from tutormail.lifecycle.offboard import claimed_identities, remove_our_records
from tutormail.plan.build import SCENARIO_DNS, Identity, InstitutionPlan, build_plan
from tutormail.plan.change import Action, Change, Kind, Outcome, Plan, Write, apply, exit_code
from tutormail.plan.loader import load_catalog
from tutormail.preflight.check import Route53Names
from tutormail.vocabulary import IdentityKind, Provider

SERVER_TROUBLE = ("unreachable", "refused", "servfail", "error")
KEPT_FOR_RECORDS = "kept while records naming its DKIM tokens remain (above)"


@dataclass
class Cleanup:
    plan: InstitutionPlan
    claimed: frozenset[str]  # every identity some file claims, this institution's included
    apply: bool
    endpoints: DnsEndpoints
    previous: Institution | None = None  # the file before the change: where removed domains' DNS was
    clients: ByService = field(default_factory=dict)  # aws.Clients of the platform's Region (a test's fakes among them)


def cleanup_job(catalog: Catalog, slug: str, apply: bool, endpoints: DnsEndpoints, previous: Path | None = None,
                clients: dict[str, Any] | None = None) -> Cleanup:
    """`previous`: the institution files before the change; an institution with no file there is new."""
    before = None
    if previous is not None and not Path(previous).is_dir():
        raise UsageError(f"--previous {previous}: not a directory (the institution files before the change)")
    if previous is not None and any((Path(previous) / f"{slug}{ext}").exists() for ext in (".yaml", ".yml")):
        before = load_catalog(Path(previous), only=[slug]).institutions[slug]
    return Cleanup(build_plan(catalog.get(slug), catalog.platform), claimed_identities(catalog), apply, endpoints,
                   before, aws.Clients(catalog.platform.region, clients))


def outcome(changes: list[Change]) -> Exit:
    """0 when nothing is left to do; 1 when a person must act (remove a record, deploy, or run
    again with --apply to do what a dry run listed)."""
    return exit_code(changes, pending=Exit.ACTION_NEEDED)


def plan(job: Cleanup) -> Plan:
    """What cleanup would do, from what SES, the stack and the DNS hold now (reads only)."""
    ses = Ses(job.plan.platform, sesv2=job.clients["sesv2"])
    deployed = deployed_state(job.clients["cloudformation"], job.plan.stack_name)
    declared = set(deployed.identities) if deployed else set()
    planned = Plan()
    for name in sorted(set(ses.statuses()) - job.claimed):
        state = ses.identity(name)
        if not state.exists or state.configuration_set != job.plan.configuration_set:
            continue  # another institution's, or not made by tutor-mail: never touched
        if name in declared:
            planned.add(Change(Kind.IDENTITY, name, Action.PERSON, f"{job.plan.stack_name} still declares it: "
                                                                  "deploy the stack, then run cleanup again"))
            continue
        records = _domain_records(job, state) if "@" not in name else Plan()
        planned.extend(records)
        if any(c.action == Action.PERSON for c in records.changes):
            planned.add(Change(Kind.IDENTITY, name, Action.KEEP, KEPT_FOR_RECORDS))
        else:
            planned.add(Change(Kind.IDENTITY, name, Action.DELETE, "no file claims it"), _delete_identity(job, name))
    planned.extend(_stale_dkim(job, ses))
    return planned


def run(job: Cleanup) -> list[Change]:
    """The plan, applied unless a dry run."""
    planned = plan(job)
    return apply(planned) if job.apply else planned.changes


def _delete_identity(job: Cleanup, name: str) -> Write:
    def write(done: list[Change]) -> Outcome | tuple[Outcome, str]:
        if any(c.of == name and c.outcome == Outcome.CHANGED for c in done):
            return Outcome.HELD, KEPT_FOR_RECORDS
        gone = delete_identity(job.clients["sesv2"], name)
        # its DMARC acceptance goes with it, also when it was gone already (issue 20)
        Progress(job.plan, job.clients["dynamodb"]).forget(identity_marks(name))
        return Outcome.DONE if gone else Outcome.GONE
    return write


def _dns_entry(job: Cleanup, domain: str) -> DnsDomain | None:
    """Where the domain's DNS is: the file before the change first (it placed the records), then now."""
    for institution in (job.previous, job.plan.institution):
        for entry in sorted(institution.dns if institution else (), key=lambda d: -len(d.domain)):
            if is_same_or_subdomain(domain, entry.domain):
                return entry
    return None


def _leftover(domain: str, entry: DnsDomain | None, state: IdentityState) -> Identity:
    exact = entry is not None and entry.domain == domain
    # Every domain identity our stacks made has a custom MAIL FROM (infra/senders.py), so SES names it.
    mail_from = state.mail_from_domain or (entry.mail_from if exact else f"mail.{domain}")
    return Identity(name=domain, kind=IdentityKind.DOMAIN, scenario=SCENARIO_DNS,
                    provider=entry.provider if entry else None, mail_from=mail_from,
                    dmarc_policy=entry.dmarc_policy if exact else "none", dns=entry)


def _domain_records(job: Cleanup, state: IdentityState) -> Plan:
    entry = _dns_entry(job, state.name)
    identity = _leftover(state.name, entry, state)
    if entry is not None and entry.provider == Provider.RFC2136:
        return remove_our_records(job.plan, identity, state, job.endpoints, job.clients["secretsmanager"])
    planned = Plan()
    for change in _still_published(job, identity, state):
        planned.add(change)
    return planned


def _still_published(job: Cleanup, identity: Identity, state: IdentityState) -> list[Change]:
    """Records we cannot write: what still holds our values on any authoritative server."""
    where = (f"its DNS is {identity.provider}" if identity.provider else "no file says where its DNS is (pass "
             "--previous with the files before the change to remove RFC 2136 records)")
    if not state.dkim_tokens:
        return [Change(Kind.RECORD, f"*._domainkey.{identity.name}", Action.KEEP,
                       "SES has no DKIM tokens for it; its records cannot be named", type="CNAME", of=identity.name)]
    findings, problem = check_domain(records_for(job.plan, identity, state), job.endpoints)
    if problem:
        return [Change(Kind.RECORD, identity.name, Action.PERSON, f"{problem}: check its records by hand",
                       of=identity.name)]
    trouble = [f for f in findings if f.status in SERVER_TROUBLE]
    if trouble:
        raise TutormailError(f"cannot check the records of {identity.name}: {trouble[0].server} "
                             f"({trouble[0].address}) {trouble[0].status} {trouble[0].detail}".rstrip(),
                             Exit.SERVICE_ERROR)
    ours = sorted({(f.record, f.type, f.expected) for f in findings
                   if f.status == "found" and set(f.expected) <= set(f.found)})
    return [Change(Kind.RECORD, name, Action.PERSON, f"still holds {' '.join(value)}; {where}: whoever runs it "
                   "must remove it", type=rtype, of=identity.name, wanted=tuple(value)) for name, rtype, value in ours]


def _stale_dkim(job: Cleanup, ses: Ses) -> Plan:
    planned = Plan()
    owned: set[str] | None = None  # read once, when a candidate is found
    for identity in job.plan.identities:
        if identity.provider != Provider.ROUTE53:
            continue
        state = ses.identity(identity.name)
        if not state.dkim_tokens:
            continue
        suffix, signing = f"._domainkey.{identity.name}", state.signing_hosted_zone or "dkim.amazonses.com"
        # only the names under _domainkey.<domain>: one call, not the whole (platform) zone
        listed = Route53Names(job.clients["route53"], identity.hosted_zone_id, under=suffix[1:])
        for (name, rtype), values in sorted(listed.sets.items()):
            label = name[:-len(suffix)]
            if (rtype != "CNAME" or not name.endswith(suffix) or "." in label or label in state.dkim_tokens
                    or values != (comparable("CNAME", f"{label}.{signing}"),)):
                continue  # not a DKIM CNAME of SES's shape (another signer's selector stays), or a live one
            owned = stack_dkim_names(job.clients["cloudformation"], job.plan.stack_name) if owned is None else owned
            change = Change(Kind.RECORD, name, Action.DELETE, "a DKIM CNAME of a token SES no longer uses",
                            type="CNAME", of=identity.name, found=values)
            if name in owned:
                planned.add(replace(change, action=Action.KEEP, reason=f"{job.plan.stack_name}'s own record (SES's "
                                    "tokens changed outside CloudFormation): the stack's next update of its records "
                                    "replaces it"))
                continue
            planned.add(change, _delete_cname(job, identity.hosted_zone_id, listed.listed[(name, rtype)]))
    return planned


def _delete_cname(job: Cleanup, zone_id: str, rrset: dict) -> Write:
    """Deletes the set exactly as listed: one changed since makes Route 53 refuse the batch, and it stays."""
    def write(done: list[Change]) -> Outcome:
        deleted = delete_record_set(job.clients["route53"], zone_id, rrset, "tutor-mail cleanup")
        return Outcome.DONE if deleted else Outcome.CHANGED
    return write
