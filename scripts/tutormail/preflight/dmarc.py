"""The DMARC policy in force at each domain identity, what alignment needs, and whether what we would
publish there weakens it.

The policy is discovered as receivers do (RFC 7489 6.6.3, `cenario2.dmarc`): `_dmarc.<domain>`, and
where that holds none, the organisational domain's record (its `sp=`). A record of our own at a
subdomain overrides the inherited one, so `dmarc: publish` with a weaker `p=` than the inherited
policy is a conflict, as is `publish` meeting a record already there (`cenario1.rfc2136_changes.decide`).
Easy DKIM signs as the identity's domain, and the custom MAIL FROM is a subdomain of it: DKIM aligns
in either mode, SPF only in relaxed mode (RFC 7489 3.1; SES:
https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dmarc.html).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tutormail.cenario1.check import weaker
from tutormail.cenario2.dmarc import POLICIES, DmarcLookups, DmarcVerdict, tag_map
from tutormail.dnsclient.rfc2136 import PublishError
from tutormail.exitcodes import Exit
from tutormail.plan.build import Identity, InstitutionPlan, dmarc_value
from tutormail.vocabulary import IdentityKind, Readiness

RFC = "RFC 7489"


@dataclass(frozen=True)
class DmarcCheck:
    identity: str
    mode: str  # publish | keep | inherit
    record_name: str | None  # where the policy in force was found
    record: str | None
    policy: str | None  # what receivers apply today; None: no DMARC processing
    state: str  # found | none | unknown (the look-up failed)
    publishes: str | None  # the record we write (publish), else None
    alignment: str
    conflict: str = ""
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"identity": self.identity, "mode": self.mode, "record_name": self.record_name, "record": self.record,
                "policy": self.policy, "state": self.state, "publishes": self.publishes,
                "alignment": self.alignment, "conflict": self.conflict, "note": self.note}


def alignment(identity: Identity, record: str | None) -> str:
    tags = tag_map(record) if record else {}
    dkim = (f"DKIM aligns: SES signs as {identity.name} (Easy DKIM), so the CNAMEs must stay published"
            + (" (adkim=s: only From addresses at exactly that domain)" if tags.get("adkim", "r").lower() == "s"
               else ""))
    spf = (f"SPF does not align (aspf=s, and the MAIL FROM {identity.mail_from} is a subdomain): DMARC rests "
           "on DKIM alone" if tags.get("aspf", "r").lower() == "s"
           else f"SPF aligns in relaxed mode through the MAIL FROM {identity.mail_from} (its MX and SPF record)")
    return f"{dkim}; {spf}; one aligned pass is enough ({RFC} 4.2)"


def _weakens(ours: str, inherited: str | None) -> bool:
    return inherited in POLICIES and weaker(ours, inherited)


def _fix(identity: Identity, inherited: str) -> str:
    if identity.is_platform:
        return f"remove platform_dmarc (inherit) or set it to {inherited}"
    return f"set dmarc: keep on {identity.name} (the inherited policy applies) or dmarc_policy: {inherited}"


def _conflict(identity: Identity, verdict: DmarcVerdict) -> str:
    inherited = verdict.record_name not in (None, f"_dmarc.{identity.name}")
    if identity.dmarc != "publish" or not inherited or not _weakens(identity.dmarc_policy, verdict.policy):
        return ""
    return (f"_dmarc.{identity.name} with p={identity.dmarc_policy} would override the policy it inherits from "
            f"{verdict.record_name} ({verdict.policy}; {RFC} 6.6.3): a weaker policy is never published; "
            f"{_fix(identity, verdict.policy)}")


def _note(identity: Identity, verdict: DmarcVerdict) -> str:
    if verdict.state == Readiness.UNKNOWN:
        return verdict.reason
    if verdict.record is None and identity.dmarc != "publish":
        return (f"no DMARC record applies to {identity.name}: receivers apply no policy ({RFC} 6.6.3); "
                "dmarc: publish writes one")
    return verdict.note or ""


def check(identity: Identity, fetch: Callable[[str], list[str]]) -> DmarcCheck:
    """`fetch(name)`: the TXT strings at a name (an exception: the look-up failed)."""
    verdict = DmarcLookups(fetch=fetch).verdict(identity.name)
    if verdict.state == Readiness.UNKNOWN and identity.dmarc == "publish":
        # Whether our record would weaken the policy in force cannot be told: never taken as clear.
        raise PublishError(f"the DMARC policy in force at {identity.name}: {verdict.reason}", Exit.SERVICE_ERROR)
    state = "unknown" if verdict.state == Readiness.UNKNOWN else ("found" if verdict.record else "none")
    publishes = dmarc_value(identity.dmarc_policy) if identity.dmarc == "publish" else None
    return DmarcCheck(identity.name, identity.dmarc, verdict.record_name, verdict.record, verdict.policy, state,
                      publishes, alignment(identity, verdict.record), _conflict(identity, verdict),
                      _note(identity, verdict))


def checks(plan: InstitutionPlan, fetch_for: Callable[[Identity], Callable[[str], list[str]]]) -> list[DmarcCheck]:
    return [check(identity, fetch_for(identity)) for identity in plan.identities
            if identity.kind == IdentityKind.DOMAIN]
