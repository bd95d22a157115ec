"""Cenário 1 check: every record on every authoritative server, asked directly."""

from __future__ import annotations

from dataclasses import dataclass

import dns.exception

from tutormail.cenario1.publish import txt_starting
from tutormail.cenario1.records import DomainRecords
from tutormail.dnsclient.rdata import comparable
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
            answer = ask(address, name, rtype, port=endpoints.direct_port)
            status = STATUS_OF[answer.outcome]
            if status == "unreachable":
                silent[address] = answer.detail
            found = tuple(sorted(comparable(rtype, v) for v in answer.values))
            if status == "found" and not set(expected) <= set(found):
                status = "wrong"
            if status == "wrong" and (name, rtype) in dmarc and txt_starting(found, "v=dmarc1"):
                status = "found"  # the domain's own DMARC policy: kept, never replaced (dns-publish)
            findings.append(Finding(ns, address, name, rtype, status, expected, found, answer.detail))
    return findings, None


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
