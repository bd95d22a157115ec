"""A receiver's checks of a message, through the sandbox DNS: DKIM (dkimpy), SPF (pyspf) and DMARC
(RFC 7489, written here), and the Authentication-Results header SES receiving writes (issue 25).

Interface (sandbox/receiving.py): `authenticate(raw, mail_from, client_ip, helo) -> Verdicts`, whose
`header(authserv_id)` is the Authentication-Results field and whose `*_verdict` are the statuses SES
puts in a receipt (`PASS`, `FAIL`, `GRAY`, `PROCESSING_FAILED`:
https://docs.aws.amazon.com/ses/latest/dg/receiving-email-notifications-contents.html).

Why these libraries: dkimpy is the maintained Python DKIM implementation (RFC 6376/8463, also ARC) and
takes a DNS function; pyspf is the reference Python SPF implementation (RFC 7208) whose DNS look-up is
a module function meant to be replaced. Both therefore ask the sandbox BIND, never the host's
resolver. `authheaders` (dkimpy + pyspf + DMARC) was not taken: it brings publicsuffix2, whose list
stopped in 2019, while publicsuffixlist is already pinned; and the DMARC step is short enough to
write against RFC 7489 here. It is written apart from tutormail's own DMARC reader on purpose: the
sandbox is the product's judge and must not share its mistakes.

The header follows SES's documented form
(https://docs.aws.amazon.com/ses/latest/dg/receiving-email-concepts.html#receiving-email-auth-and-scan):
`spf=<result> (spfCheck: ...) client-ip=...; envelope-from=...; helo=...;`, one `dkim=<result>
header.i=<d= domain>;` per signature, `dmarc=<result> header.from=<From domain>;` (RFC 8601 section
2.7.1 and RFC 7489 section 11.2 name the domain there; AWS's example shows an address).
"""

from __future__ import annotations

import email
import email.policy
import functools
from dataclasses import dataclass, field
from email.utils import getaddresses

import dkim
import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rdatatype
import spf

from .config import SandboxConfig

PASS, FAIL, GRAY, PROCESSING_FAILED = "PASS", "FAIL", "GRAY", "PROCESSING_FAILED"
_SPF_VERDICT = {"pass": PASS, "fail": FAIL, "softfail": FAIL, "neutral": GRAY, "none": GRAY,
                "temperror": PROCESSING_FAILED, "permerror": PROCESSING_FAILED}


class DnsFailure(Exception):
    pass


def _answer(name: str, rdtype: str) -> list:
    """The answer section from the sandbox BIND (authoritative for every zone, so it is the one server)."""
    host, _, port = SandboxConfig.from_env().dns_server.rpartition(":")
    query = dns.message.make_query(name, rdtype)
    try:
        response = dns.query.udp(query, host, port=int(port), timeout=2.0)
        if response.flags & dns.flags.TC:
            response = dns.query.tcp(query, host, port=int(port), timeout=2.0)
    except (dns.exception.DNSException, OSError) as exc:
        raise DnsFailure(f"{name} {rdtype}: {exc}") from exc
    return list(response.answer)


def txt(name: str) -> list[bytes]:
    """TXT strings at a name, each record's strings joined, CNAMEs followed (RFC 1034 3.6.2)."""
    for _ in range(8):
        rrsets = _answer(name, "TXT")
        found = [b"".join(rdata.strings) for rrset in rrsets if rrset.rdtype == dns.rdatatype.TXT
                 and rrset.name.to_text().rstrip(".").lower() == name.rstrip(".").lower() for rdata in rrset]
        if found:
            return found
        cnames = [rdata.target.to_text() for rrset in rrsets if rrset.rdtype == dns.rdatatype.CNAME for rdata in rrset]
        if not cnames:
            return []
        name = cnames[0]
    raise DnsFailure(f"CNAME chain too long at {name}")


def _dkim_dns(name: bytes, timeout: int = 5) -> bytes | None:
    found = txt(name.decode().rstrip("."))
    return found[0] if found else None


def _spf_lookup(name: str, qtype: str, strict: bool = True, timeout: int = 20) -> list:
    """pyspf's DNSLookup over the sandbox BIND, in the shape its own drivers return."""
    try:
        rrsets = _answer(name, qtype)
    except DnsFailure as exc:
        raise spf.TempError(f"DNS {exc}") from exc
    found = []
    for rrset in rrsets:
        owner = rrset.name.to_text().rstrip(".")
        kind = dns.rdatatype.to_text(rrset.rdtype)
        for rdata in rrset:
            if kind in ("TXT", "SPF"):
                found.append(((owner, kind), list(rdata.strings)))
            elif kind == "MX":
                found.append(((owner, kind), (rdata.preference, rdata.exchange.to_text().rstrip("."))))
            elif kind in ("A", "AAAA"):
                found.append(((owner, kind), rdata.address))
            elif kind in ("CNAME", "PTR"):
                found.append(((owner, kind), rdata.target.to_text().rstrip(".")))
    return found


@dataclass(frozen=True)
class DkimResult:
    result: str  # pass | fail | permerror | temperror
    domain: str


@dataclass(frozen=True)
class Verdicts:
    spf_result: str
    spf_comment: str
    client_ip: str
    mail_from: str
    helo: str
    dkim: tuple[DkimResult, ...]
    from_domain: str
    dmarc_result: str  # pass | fail | none | temperror | permerror
    dmarc_policy: str | None  # the policy that applies when DMARC fails (none | quarantine | reject)
    comments: tuple[str, ...] = field(default=())

    @property
    def spf_verdict(self) -> str:
        return _SPF_VERDICT.get(self.spf_result, PROCESSING_FAILED)

    @property
    def dkim_verdict(self) -> str:
        if not self.dkim:
            return GRAY
        if any(d.result == "pass" for d in self.dkim):
            return PASS
        return PROCESSING_FAILED if all(d.result == "temperror" for d in self.dkim) else FAIL

    @property
    def dmarc_verdict(self) -> str:
        return {"pass": PASS, "fail": FAIL, "none": GRAY}.get(self.dmarc_result, PROCESSING_FAILED)

    def header(self, authserv_id: str) -> str:
        lines = [f"{authserv_id};",
                 f" spf={self.spf_result} ({self.spf_comment}) client-ip={self.client_ip}; "
                 f"envelope-from={self.mail_from}; helo={self.helo};"]
        lines += [f" dkim={d.result} header.i={d.domain};" for d in self.dkim] or [" dkim=none;"]
        lines.append(f" dmarc={self.dmarc_result} header.from={self.from_domain};")
        return "\r\n".join(lines)


def check_spf(client_ip: str, mail_from: str, helo: str) -> tuple[str, str]:
    """(result, comment) for the MAIL FROM (the HELO name when it is empty, RFC 7208 2.4)."""
    spf.DNSLookup = _spf_lookup  # pyspf's documented hook; this process asks no other server
    result, explanation = spf.check2(i=client_ip, s=mail_from or f"postmaster@{helo}", h=helo)
    domain = (mail_from or helo).rpartition("@")[2]
    verb = "is permitted" if result == "pass" else "is not permitted"
    return result, f"spfCheck: {client_ip} {verb} by domain of {domain}" + (
        f": {explanation}" if result not in ("pass", "fail") and explanation else "")


def check_dkim(raw: bytes) -> tuple[DkimResult, ...]:
    """Each DKIM-Signature in order, verified on its own."""
    verifier = dkim.DKIM(raw)
    count = sum(1 for name, _ in verifier.headers if name.lower() == b"dkim-signature")
    results = []
    for index in range(count):
        try:
            ok = verifier.verify(idx=index, dnsfunc=_dkim_dns)
            outcome = "pass" if ok else "fail"
        except DnsFailure:
            outcome = "temperror"
        except dkim.DKIMException:
            ok, outcome = False, "permerror"
        domain = (verifier.domain or b"").decode(errors="replace").lower()
        results.append(DkimResult(outcome, domain or _signature_domain(verifier, index)))
    return tuple(results)


def _signature_domain(verifier: dkim.DKIM, index: int) -> str:
    value = [v for name, v in verifier.headers if name.lower() == b"dkim-signature"][index]
    tags = dict(part.strip().split(b"=", 1) for part in value.split(b";") if b"=" in part)
    return tags.get(b"d", b"").strip().decode(errors="replace").lower()


@functools.cache
def _suffixes():
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def organisational(domain: str) -> str:
    return _suffixes().privatesuffix(domain) or domain


def _aligned(domain: str, from_domain: str, mode: str) -> bool:
    """RFC 7489 3.1: strict = the same name, relaxed = the same organisational domain."""
    if mode == "s":
        return domain == from_domain
    return organisational(domain) == organisational(from_domain)


def dmarc_record(from_domain: str) -> tuple[dict[str, str] | None, bool]:
    """RFC 7489 6.6.3: the record at _dmarc.<From domain>, else at the organisational domain's
    (the second value says it came from there, so sp= applies). Exactly one v=DMARC1 record counts."""
    for name, inherited in ((from_domain, False), (organisational(from_domain), True)):
        if inherited and name == from_domain:
            break
        records = [r.decode(errors="replace") for r in txt(f"_dmarc.{name}")]
        records = [r for r in records if r.replace(" ", "").lower().startswith("v=dmarc1")]
        if len(records) == 1:
            tags = dict((k.strip().lower(), v.strip()) for k, _, v in
                        (part.partition("=") for part in records[0].split(";") if part.strip()))
            return tags, inherited
        if records:
            return None, inherited
    return None, False


def check_dmarc(from_domain: str, spf_result: str, mail_from: str, dkim_results: tuple[DkimResult, ...]
                ) -> tuple[str, str | None]:
    try:
        tags, inherited = dmarc_record(from_domain)
    except DnsFailure:
        return "temperror", None
    if tags is None:
        return "none", None
    spf_domain = mail_from.rpartition("@")[2].lower()
    aligned = (any(d.result == "pass" and _aligned(d.domain, from_domain, tags.get("adkim", "r").lower())
                   for d in dkim_results)
               or (spf_result == "pass" and _aligned(spf_domain, from_domain, tags.get("aspf", "r").lower())))
    if aligned:
        return "pass", None
    policy = tags.get("sp") if inherited and tags.get("sp") else tags.get("p", "none")
    return "fail", policy.lower()


def authenticate(raw: bytes, mail_from: str, client_ip: str, helo: str) -> Verdicts:
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    senders = getaddresses([str(v) for v in message.get_all("From", [])])
    from_domain = senders[0][1].rpartition("@")[2].lower() if senders and senders[0][1] else ""
    spf_result, spf_comment = check_spf(client_ip, mail_from, helo)
    dkim_results = check_dkim(raw)
    dmarc_result, policy = check_dmarc(from_domain, spf_result, mail_from, dkim_results) if from_domain \
        else ("permerror", None)
    return Verdicts(spf_result, spf_comment, client_ip, mail_from, helo, dkim_results, from_domain, dmarc_result,
                    policy)
