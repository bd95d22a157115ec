"""Cenário 1 over RFC 2136: one TSIG-signed update that sets exactly the records we own."""

from __future__ import annotations

import base64
import json
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dns.exception
import dns.name
import dns.query
import dns.rcode
import dns.resolver
import dns.tsig
import dns.tsigkeyring
import dns.update

from tutormail.aws.secrets import secret_value
from tutormail.catalog.fields import DMARC_POLICIES
from tutormail.catalog.model import DnsDomain
from tutormail.cenario1.records import DomainRecords
from tutormail.dnsclient.rdata import comparable
from tutormail.dnsclient.resolver import DnsEndpoints, ask, resolver
from tutormail.exitcodes import Exit, TutormailError
from tutormail.plan.build import RECORD_TTL, dmarc_value


class PublishError(TutormailError):
    """One domain could not be published; the exit code says whose move it is (2 key or server
    configuration, 4 the server failed)."""


@dataclass(frozen=True)
class TsigKey:
    name: str
    algorithm: str
    secret: str

    def __repr__(self) -> str:
        return f"TsigKey(name={self.name!r}, algorithm={self.algorithm!r}, secret=***)"


# The HMAC algorithms of RFC 8945 section 6 that dnspython signs with (hmac-md5 by its legacy name).
TSIG_ALGORITHMS = ("hmac-md5.sig-alg.reg.int", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384",
                   "hmac-sha512")


def _key_problem(source: str, reason: str) -> PublishError:
    return PublishError(f"{source} does not hold a usable TSIG key: {reason} (expected JSON "
                        "{name, algorithm, secret} or name:algorithm:secret)", Exit.BAD_INPUT)


def parse_key(text: str, source: str) -> TsigKey:
    """JSON {name, algorithm, secret} (the secret's form) or name:algorithm:secret, checked before any use
    so that a bad key is a clear input error, not a failure deep inside the update."""
    text = text.strip()
    try:
        if text.startswith("{"):
            data = json.loads(text)
            fields = (data["name"], data.get("algorithm", "hmac-sha256"), data["secret"])
        else:
            fields = tuple(text.split(":", 2))
            if len(fields) != 3:
                raise _key_problem(source, "not three fields")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise _key_problem(source, "not JSON with name and secret, nor three fields") from None
    if not all(isinstance(field, str) and field for field in fields):
        raise _key_problem(source, "name, algorithm and secret must be non-empty strings")
    name, algorithm, secret = fields
    try:
        dns.name.from_text(name)
    except dns.exception.DNSException:
        raise _key_problem(source, f"{name!r} is not a DNS name") from None
    if algorithm.lower().rstrip(".") not in TSIG_ALGORITHMS:
        raise _key_problem(source, f"unknown algorithm {algorithm!r} (one of {', '.join(TSIG_ALGORITHMS)})")
    try:
        if not base64.b64decode(secret, validate=True):
            raise ValueError
    except ValueError:
        raise _key_problem(source, "the secret is not base64") from None
    return TsigKey(name, algorithm.lower().rstrip("."), secret)


def load_key(dns_entry: DnsDomain, region: str, key_file: Path | None, client: Any = None) -> TsigKey:
    if key_file is not None:
        try:
            return parse_key(key_file.read_text(encoding="utf-8"), str(key_file))
        except OSError as exc:
            raise PublishError(f"cannot read the TSIG key file {key_file}: {exc.strerror}", Exit.BAD_INPUT) from None
        except UnicodeDecodeError:
            raise _key_problem(str(key_file), "binary content") from None
    value = secret_value(dns_entry.tsig_key, region, client)
    if "SecretString" not in value:
        raise _key_problem(f"the secret {dns_entry.tsig_key}", "binary secret")
    return parse_key(value["SecretString"], f"the secret {dns_entry.tsig_key}")


@dataclass(frozen=True)
class Change:
    name: str
    type: str
    action: str  # add | change | nothing | conflict (a person decides)
    wanted: tuple[str, ...]
    found: tuple[str, ...]
    reason: str = ""

    @property
    def writes(self) -> bool:
        return self.action in ("add", "change")


def server_address(dns_entry: DnsDomain, endpoints: DnsEndpoints) -> tuple[str, int]:
    host = dns_entry.server
    port = endpoints.direct_port if dns_entry.port == 53 else dns_entry.port
    try:
        socket.inet_aton(host)
        return host, port
    except OSError:
        pass
    try:
        return resolver(endpoints).resolve(host, "A")[0].to_text(), port
    except dns.exception.DNSException as exc:
        raise PublishError(f"cannot resolve the DNS server {host}: {exc.__class__.__name__}", 4) from exc


def _normal(rtype: str, values) -> tuple[str, ...]:
    return tuple(sorted(comparable(rtype, v) for v in values))


def txt_starting(values: tuple[str, ...], tag: str) -> list[str]:
    return [v for v in values if v.strip('"').lower().startswith(tag)]


KEEP_DMARC = "set `dmarc: keep` on this domain in the institution file (the record stays as it is, byte for byte)"


def _dmarc_decision(found: tuple[str, ...]) -> tuple[str, str]:
    """`dmarc: publish` where a DMARC policy is already published. RFC 7489 6.6.3: with two DMARC records no
    policy applies, and replacing it could weaken it: a person decides, and the file then says so."""
    existing = txt_starting(found, "v=dmarc1")
    if not existing:
        return "add", ""
    ours = existing[0].strip('"') in {dmarc_value(policy) for policy in DMARC_POLICIES}
    return "conflict", (f"a DMARC policy is already published: {existing[0]}; {KEEP_DMARC}" + (
        "; it has the form tutor-mail writes: if it is ours from an earlier dmarc_policy, change it by hand "
        "(a DMARC record is never replaced)" if ours else ""))


def decide(purpose: str, found: tuple[str, ...], want: tuple[str, ...], cname: tuple[str, ...]) -> tuple[str, str]:
    """What to do at one (name, type) we own, never overwriting what someone else published there."""
    if purpose == "dmarc" and cname:
        return "conflict", f"the name is a CNAME to {cname[0]} (a DMARC policy kept elsewhere): {KEEP_DMARC}"
    if purpose != "dkim" and cname:
        return "conflict", f"the name is a CNAME to {cname[0]}: choose another mail_from or remove the CNAME"
    if found == want:
        return "nothing", ""
    if purpose == "dmarc":
        return _dmarc_decision(found)
    if purpose == "mail-from-spf":
        if set(want) <= set(found):
            return "nothing", ""
        other = txt_starting(found, "v=spf1")  # RFC 7208 3.2: two SPF records are a permanent error
        return ("conflict", f"another SPF record is published there: {other[0]}") if other else ("add", "")
    if purpose == "mail-from-mx":
        # SES requires exactly one MX at the MAIL FROM domain, which must not receive mail
        # (https://docs.aws.amazon.com/ses/latest/dg/mail-from.html).
        return ("conflict", f"the name already has MX {', '.join(found)}: it receives mail, choose another "
                            "mail_from") if found else ("add", "")
    return ("change" if found else "add"), ""


def _ask_ok(address: str, port: int, name: str, rtype: str) -> tuple[str, ...]:
    answer = ask(address, name, rtype, port=port)
    if answer.outcome in ("timeout", "unreachable"):
        raise PublishError(f"the DNS server {address}:{port} did not answer ({answer.detail})", 4)
    if answer.outcome in ("refused", "servfail", "error"):
        raise PublishError(f"the DNS server {address}:{port} answered {answer.outcome} for {name} "
                           f"{rtype}: {answer.detail}", 4)
    return _normal(rtype, answer.values)


def plan_changes(item: DomainRecords, address: str, port: int) -> list[Change]:
    purposes = {(record.name, record.type): record.purpose for record in item.records}
    wanted = {key: (purposes[key], values) for key, values in item.record_sets().items()}
    changes = []
    for (name, rtype), (purpose, values) in wanted.items():
        found = _ask_ok(address, port, name, rtype)
        cname = _ask_ok(address, port, name, "CNAME") if rtype != "CNAME" else ()
        want = _normal(rtype, values)
        action, reason = decide(purpose, found, want, cname)
        changes.append(Change(name, rtype, action, want, found, reason))
    return changes


def _update_message(domain: str, changes: list[Change], key: TsigKey) -> dns.update.UpdateMessage:
    update = dns.update.UpdateMessage(domain, keyring=dns.tsigkeyring.from_text({key.name: key.secret}),
                                      keyname=key.name, keyalgorithm=key.algorithm)
    for change in (c for c in changes if c.writes):
        name = dns.name.from_text(change.name)
        if change.action == "change":  # a DKIM CNAME of ours with an old token: replaced
            update.present(name, change.type)
            update.delete(name, change.type)
        elif not change.found:  # RFC 2136 2.4.3: only if still absent when the update is applied
            update.absent(name, change.type)
        for value in change.wanted:
            if value not in change.found:  # other TXT at the name stay (values are added, never replaced)
                update.add(name, RECORD_TTL, change.type, value)
    return update


def _refused_by_tsig(exc: dns.tsig.PeerError, key: TsigKey, address: str) -> PublishError:
    if isinstance(exc, dns.tsig.PeerBadKey):
        return PublishError(f"TSIG BADKEY: {address} does not know the key {key.name!r}; check the secret "
                            "named in tsig_key", 2)
    if isinstance(exc, dns.tsig.PeerBadSignature):
        return PublishError(f"TSIG BADSIG: the key {key.name!r} has the wrong secret for {address}", 2)
    if isinstance(exc, dns.tsig.PeerBadTime):
        return PublishError(f"TSIG BADTIME: this machine's clock and {address}'s differ by more than the "
                            "allowed fudge; fix the clock (NTP)", 2)
    return PublishError(f"TSIG error from {address}: {exc}", 2)


def _refused_by_rcode(rcode: dns.rcode.Rcode, key: TsigKey, domain: str, address: str) -> PublishError | None:
    if rcode in (dns.rcode.YXRRSET, dns.rcode.NXRRSET):
        return PublishError(f"the records at {domain} changed while we looked (prerequisite failed: "
                            f"{dns.rcode.to_text(rcode)}); nothing was written, run again", 4)
    if rcode == dns.rcode.REFUSED:
        return PublishError(f"update REFUSED by {address}: the key {key.name!r} may not update {domain} "
                            "(allow-update / update-policy on the server)", 2)
    if rcode == dns.rcode.NOTAUTH:
        return PublishError(f"update NOTAUTH from {address}: not authoritative for {domain}, or the TSIG key was "
                            "not accepted", 2)
    if rcode != dns.rcode.NOERROR:
        return PublishError(f"update failed at {address}: {dns.rcode.to_text(rcode)}", 4)
    return None


def send_update(domain: str, changes: list[Change], key: TsigKey, address: str, port: int) -> None:
    deliver(_update_message(domain, changes, key), domain, key, address, port)


def deliver(update: dns.update.UpdateMessage, domain: str, key: TsigKey, address: str, port: int,
            accept: tuple[int, ...] = (dns.rcode.NOERROR,)) -> int:
    """Sends a signed update; returns its rcode when in `accept`, else a PublishError naming why
    (offboarding accepts NXRRSET: a prerequisite that no longer holds)."""
    try:
        response = dns.query.tcp(update, address, port=port, timeout=10)
    except dns.tsig.PeerError as exc:
        raise _refused_by_tsig(exc, key, address) from None
    except (dns.exception.Timeout, OSError) as exc:
        raise PublishError(f"the DNS server {address}:{port} did not take the update: {exc}", 4) from None
    except dns.exception.DNSException as exc:  # a malformed answer is that server's failure
        raise PublishError(f"the DNS server {address}:{port} answered the update with a malformed message: "
                           f"{exc.__class__.__name__}", 4) from None
    rcode = response.rcode()
    if rcode in accept:
        return rcode
    refused = _refused_by_rcode(rcode, key, domain, address)
    if refused is not None:
        raise refused
    return rcode
