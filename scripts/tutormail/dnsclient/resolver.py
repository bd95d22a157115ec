"""DNS access for the scripts: a resolver to find things, and direct questions to one server.

Where the questions go is a `DnsEndpoints` built once from the runtime settings (runtime.py:
`TUTORMAIL_RESOLVER` replaces the system resolver, `TUTORMAIL_DNS_PORT` the port 53 of direct
queries, `TUTORMAIL_DNS_TIMEOUT` the 3 s one question waits; the sandbox and the tests point both at
their own BIND).
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver

TIMEOUT = 3.0


@dataclass(frozen=True)
class DnsEndpoints:
    resolver: tuple[str, int] | None = None  # (address, port); None: the system's resolver
    direct_port: int = 53  # the port of questions asked to one server directly
    timeout: float = TIMEOUT  # seconds one question waits for its answer (a resolution: twice that)


SYSTEM = DnsEndpoints()


def resolver(endpoints: DnsEndpoints = SYSTEM) -> dns.resolver.Resolver:
    if endpoints.resolver:
        result = dns.resolver.Resolver(configure=False)
        result.nameservers = [endpoints.resolver[0]]
        result.port = endpoints.resolver[1]
    else:
        result = dns.resolver.Resolver()
    result.lifetime = endpoints.timeout * 2
    result.timeout = endpoints.timeout
    return result


@dataclass(frozen=True)
class Answer:
    """One server's answer to one question."""

    outcome: str  # ok | nxdomain | nodata | timeout | refused | servfail | unreachable | error
    values: tuple[str, ...] = ()
    detail: str = ""


def ask(server: str, name: str, rdtype: str, port: int = 53, timeout: float = TIMEOUT) -> Answer:
    """Asks one server directly, without recursion, so no cache stands between us and it."""
    query = dns.message.make_query(name, rdtype)
    query.flags &= ~dns.flags.RD
    try:
        response = dns.query.udp(query, server, port=port, timeout=timeout)
        if response.flags & dns.flags.TC:
            response = dns.query.tcp(query, server, port=port, timeout=timeout)
    except dns.exception.Timeout:
        return Answer("timeout", detail=f"no answer within {timeout:g} s")
    except OSError as exc:
        return Answer("unreachable", detail=str(exc))
    except (dns.exception.DNSException, ValueError) as exc:
        return _malformed(exc)
    try:
        return _read(response, rdtype)
    except (dns.exception.DNSException, ValueError) as exc:
        return _malformed(exc)


def _malformed(exc: Exception) -> Answer:
    # A server that answers garbage has failed, like one that does not answer; the batch goes on.
    return Answer("error", detail=f"malformed answer ({exc.__class__.__name__})")


def _read(response: dns.message.Message, rdtype: str) -> Answer:
    rcode = response.rcode()
    if rcode == dns.rcode.NXDOMAIN:
        return Answer("nxdomain")
    if rcode == dns.rcode.REFUSED:
        return Answer("refused", detail="the server refused to answer (not authoritative for the zone?)")
    if rcode == dns.rcode.SERVFAIL:
        return Answer("servfail", detail="the server failed to answer (zone not loaded?)")
    if rcode != dns.rcode.NOERROR:
        return Answer("error", detail=dns.rcode.to_text(rcode))
    wanted = dns.rdatatype.from_text(rdtype)
    values = tuple(sorted(rdata.to_text() for rrset in response.answer if rrset.rdtype == wanted
                          for rdata in rrset))
    return Answer("ok" if values else "nodata", values)


def zone_of(name: str, endpoints: DnsEndpoints = SYSTEM) -> str:
    """The zone a name lives in: the closest enclosing name with an SOA."""
    return dns.resolver.zone_for_name(name, resolver=resolver(endpoints)).to_text().rstrip(".")


def authoritative_servers(zone: str, endpoints: DnsEndpoints = SYSTEM) -> list[tuple[str, str]]:
    """(name server, address) for every NS of the zone."""
    res = resolver(endpoints)
    servers = []
    for ns in sorted(r.to_text().rstrip(".") for r in res.resolve(zone, "NS")):
        try:
            addresses = sorted(r.to_text() for r in res.resolve(ns, "A"))
        except dns.exception.DNSException:
            addresses = []
        servers.extend((ns, address) for address in addresses or [""])
    return servers


def txt_values(name: str, endpoints: DnsEndpoints = SYSTEM) -> list[str]:
    """TXT strings of a name through the resolver ([] when there is none)."""
    try:
        answer = resolver(endpoints).resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    return ["".join(part.decode(errors="replace") for part in rdata.strings) for rdata in answer]
