"""The RFC 2136 client: TSIG keys, reading the record sets at a server, and signed updates."""

from __future__ import annotations

import base64
import json
import socket
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.query
import dns.rcode
import dns.rdataset
import dns.resolver
import dns.tsig
import dns.tsigkeyring
import dns.update

from tutormail.catalog.model import DnsDomain
from tutormail.dnsclient.rdata import comparable
from tutormail.dnsclient.resolver import DnsEndpoints, ask, resolver
from tutormail.exitcodes import Exit, TutormailError
from tutormail.plan.build import RECORD_TTL
from tutormail.plan.change import Action, Change


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


def key_problem(source: str, reason: str) -> PublishError:
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
                raise key_problem(source, "not three fields")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise key_problem(source, "not JSON with name and secret, nor three fields") from None
    if not all(isinstance(field, str) and field for field in fields):
        raise key_problem(source, "name, algorithm and secret must be non-empty strings")
    name, algorithm, secret = fields
    try:
        dns.name.from_text(name)
    except dns.exception.DNSException:
        raise key_problem(source, f"{name!r} is not a DNS name") from None
    if algorithm.lower().rstrip(".") not in TSIG_ALGORITHMS:
        raise key_problem(source, f"unknown algorithm {algorithm!r} (one of {', '.join(TSIG_ALGORITHMS)})")
    try:
        if not base64.b64decode(secret, validate=True):
            raise ValueError
    except ValueError:
        raise key_problem(source, "the secret is not base64") from None
    return TsigKey(name, algorithm.lower().rstrip("."), secret)


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


def normal(rtype: str, values) -> tuple[str, ...]:
    return tuple(sorted(comparable(rtype, v) for v in values))


def read_set(address: str, port: int, name: str, rtype: str) -> tuple[str, ...]:
    answer = ask(address, name, rtype, port=port)
    if answer.outcome in ("timeout", "unreachable"):
        raise PublishError(f"the DNS server {address}:{port} did not answer ({answer.detail})", 4)
    if answer.outcome in ("refused", "servfail", "error"):
        raise PublishError(f"the DNS server {address}:{port} answered {answer.outcome} for {name} "
                           f"{rtype}: {answer.detail}", 4)
    return normal(rtype, answer.values)


def _signed(domain: str, key: TsigKey) -> dns.update.UpdateMessage:
    return dns.update.UpdateMessage(domain, keyring=dns.tsigkeyring.from_text({key.name: key.secret}),
                                    keyname=key.name, keyalgorithm=key.algorithm)


def update_message(domain: str, changes: list[Change], key: TsigKey) -> dns.update.UpdateMessage:
    update = _signed(domain, key)
    for change in (c for c in changes if c.writes):
        name = dns.name.from_text(change.name)
        if change.action == Action.UPDATE:  # a DKIM CNAME of ours with an old token: replaced
            update.present(name, change.type)
            update.delete(name, change.type)
        elif not change.found:  # RFC 2136 2.4.3: only if still absent when the update is applied
            update.absent(name, change.type)
        for value in change.wanted:
            if value not in change.found:  # other TXT at the name stay (values are added, never replaced)
                update.add(name, RECORD_TTL, change.type, value)
    return update


def removal(domain: str, change: Change, key: TsigKey) -> dns.update.UpdateMessage:
    """Deletes our records at one name and type, only while they hold our values (the server answers
    NXRRSET when the set changed since it was read)."""
    update = _signed(domain, key)
    name = dns.name.from_text(change.name)
    ours = dns.rdataset.from_text("IN", change.type, 0, *change.wanted)
    if change.found == change.wanted:  # RFC 2136 2.4.2: the set exists with exactly these values
        update.present(name, ours)
        update.delete(name, change.type)
    else:  # our values beside others (e.g. TXT at the MAIL FROM name): 2.5.4, only those records go
        update.present(name, change.type)
        update.delete(name, ours)
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
    deliver(update_message(domain, changes, key), domain, key, address, port)


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
