"""Cenário 1 check: every record on every authoritative server, asked directly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dns.exception

from tutormail.catalog.fields import DMARC_POLICIES
from tutormail.cenario1.records import DomainRecords
from tutormail.cenario1.rfc2136_changes import txt_starting
from tutormail.cenario2.dmarc import tag_map
from tutormail.dnsclient.rdata import comparable, txt_text
from tutormail.dnsclient.resolver import SYSTEM, DnsEndpoints, ask, authoritative_servers, zone_of


@dataclass(frozen=True)
class Finding:
    server: str  # name server
    address: str
    record: str
    type: str
    status: str  # found | missing | wrong | unreachable | refused | servfail | error
    expected: tuple[str, ...]
    found: tuple[str, ...] = ()
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"server": self.server, "address": self.address, "record": self.record, "type": self.type,
                "status": self.status, "expected": list(self.expected), "found": list(self.found),
                "detail": self.detail or None}


# A server that did not answer, refused, failed or answered garbage: the record was not checked there.
NOT_CHECKED = frozenset({"unreachable", "refused", "servfail", "error"})
STATUS_OF = {"ok": "found", "nxdomain": "missing", "nodata": "missing", "timeout": "unreachable",
             "unreachable": "unreachable", "refused": "refused", "servfail": "servfail", "error": "error"}


def check_domain(item: DomainRecords, endpoints: DnsEndpoints = SYSTEM) -> tuple[list[Finding], str | None]:
    """Findings per server and record, or a reason the zone's servers could not be found."""
    if not item.tokens_known:
        return [], "the identity does not exist in SES yet: deploy the stack first"
    try:
        zone = zone_of(item.identity.name, endpoints)
        servers = authoritative_servers(zone, endpoints)
    except dns.exception.DNSException as exc:
        return [], f"cannot find the authoritative servers of {item.identity.name}: {exc.__class__.__name__}"
    wanted = item.record_sets()
    dmarc = {(r.name, r.type) for r in item.records if r.purpose == "dmarc"}
    findings: list[Finding] = []
    silent: dict[str, str] = {}
    for ns, address in servers:
        for (name, rtype), values in wanted.items():
            expected = tuple(sorted(comparable(rtype, v) for v in values))
            if not address:
                findings.append(Finding(ns, "", name, rtype, "unreachable", expected, detail="no address"))
                continue
            if address in silent:  # one timeout per server is enough to know it is down
                findings.append(Finding(ns, address, name, rtype, "unreachable", expected, detail=silent[address]))
                continue
            answer = ask(address, name, rtype, port=endpoints.direct_port, timeout=endpoints.timeout)
            status = STATUS_OF[answer.outcome]
            if status == "unreachable":
                silent[address] = answer.detail
            found = tuple(sorted(comparable(rtype, v) for v in answer.values))
            if status == "found" and not set(expected) <= set(found):
                status = "wrong"
            detail = answer.detail
            if status in ("found", "wrong") and (name, rtype) in dmarc and txt_starting(found, "v=dmarc1"):
                # the domain's own DMARC policy is kept, never replaced (dns-publish); as strong as ours passes
                detail = dmarc_weakened(name, expected, found)
                status = "wrong" if detail else "found"
            findings.append(Finding(ns, address, name, rtype, status, expected, found, detail))
    return findings, None


def weaker(policy: str | None, than: str) -> bool:
    """DMARC policies from weakest to strongest: none, quarantine, reject (RFC 7489 6.3); a record
    without a valid one (None, or unknown) is weaker than any, since receivers then apply none (6.6.3)."""
    rank = {p: n for n, p in enumerate(DMARC_POLICIES)}
    return rank.get((policy or "").lower(), -1) < rank[than.lower()]


def _policy(value: str) -> tuple[str | None, int]:
    tags = tag_map(txt_text(value))
    pct = tags.get("pct", "100")
    return tags.get("p"), int(pct) if pct.isdigit() else 100


def dmarc_weakened(name: str, expected: tuple[str, ...], found: tuple[str, ...]) -> str:
    """Why the DMARC record at `name` is weaker than the one the file declares ("" when it is not):
    a weaker p=, a pct= below 100 (RFC 7489 6.6.4: only a sample gets the policy), or several
    DMARC records (6.6.3 step 5: receivers apply none)."""
    ours, _ = _policy(expected[0])
    records = txt_starting(found, "v=dmarc1")
    if len(records) > 1:
        return f"{name} holds {len(records)} DMARC records, so receivers apply none (RFC 7489 6.6.3)"
    held, pct = _policy(records[0])
    if not weaker(held, ours or "none") and (pct == 100 or ours == "none"):
        return ""
    return (f"{name} holds p={held or '(none valid)'}" + (f" pct={pct}" if pct < 100 else "") + f", weaker "
            f"than the file's p={ours}: publish the file's record again (dns-publish) or, if the weaker policy "
            "is meant, set dmarc_policy (or dmarc: keep) in the institution file")


def not_checked(findings: list[Finding], problem: str | None) -> list[str]:
    """Why some record could not be checked: the zone's servers not found, or a server that gave no
    usable answer. A check that could not run is never a check that passed (exit 4, not 0)."""
    reasons = [problem] if problem else []
    for f in findings:
        reason = f"{f.record} {f.type} not checked at {f.server} ({f.address or 'no address'}): {f.status}" + (
            f", {f.detail}" if f.detail else "")
        if f.status in NOT_CHECKED and reason not in reasons:
            reasons.append(reason)
    return reasons


# {hours}: the platform's dkim_window_hours.
SES_MEANING = {
    "SUCCESS": "SES saw the DKIM records: the domain may send (phase 2 may start)",
    "PENDING": "SES has not seen the DKIM records yet (it keeps looking for up to {hours} h)",
    "FAILED": "SES stopped looking: the records were not found within {hours} h",
    "TEMPORARY_FAILURE": "SES could not check the records for a while (DNS trouble); it retries",
    "NOT_STARTED": "DKIM verification has not started",
    "MISSING": "the identity does not exist in SES (deploy the stack)",
}
MAIL_FROM_MEANING = {
    "SUCCESS": "the MAIL FROM MX is in place: bounces go through the MAIL FROM domain (bounce.<domain> by default)",
    "PENDING": "SES has not seen the MAIL FROM MX yet; mail uses amazonses.com as MAIL FROM meanwhile",
    "FAILED": "the MAIL FROM MX is missing; SES falls back to amazonses.com (SPF then aligns with SES, not you)",
    "TEMPORARY_FAILURE": "SES could not check the MAIL FROM MX for a while; it retries",
    "NOT_STARTED": "no custom MAIL FROM configured",
}
