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

from tutormail.aws import client as aws
from tutormail.catalog.model import DnsDomain
from tutormail.cenario1.records import DomainRecords
from tutormail.dnsclient.rdata import comparable
from tutormail.dnsclient.resolver import ask, dns_port, resolver
from tutormail.exitcodes import Exit


class PublishError(Exception):
    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


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
    client = client or aws.client("secretsmanager", region)
    value = aws.call(f"Secrets Manager GetSecretValue {dns_entry.tsig_key}", client.get_secret_value,
                     SecretId=dns_entry.tsig_key)
    if "SecretString" not in value:
        raise _key_problem(f"the secret {dns_entry.tsig_key}", "binary secret")
    return parse_key(value["SecretString"], f"the secret {dns_entry.tsig_key}")


@dataclass(frozen=True)
class Change:
    name: str
    type: str
    action: str  # add | change | nothing
    wanted: tuple[str, ...]
    found: tuple[str, ...]


def server_address(dns_entry: DnsDomain) -> tuple[str, int]:
    host = dns_entry.server
    port = dns_port() if dns_entry.port == 53 else dns_entry.port
    try:
        socket.inet_aton(host)
        return host, port
    except OSError:
        pass
    try:
        return resolver().resolve(host, "A")[0].to_text(), port
    except dns.exception.DNSException as exc:
        raise PublishError(f"cannot resolve the DNS server {host}: {exc.__class__.__name__}", 4) from exc


def _normal(rtype: str, values) -> tuple[str, ...]:
    return tuple(sorted(comparable(rtype, v) for v in values))


def plan_changes(item: DomainRecords, address: str, port: int) -> list[Change]:
    wanted: dict[tuple[str, str], list[str]] = {}
    for record in item.records:
        wanted.setdefault((record.name, record.type), []).append(record.value)
    changes = []
    for (name, rtype), values in wanted.items():
        answer = ask(address, name, rtype, port=port)
        if answer.outcome in ("timeout", "unreachable"):
            raise PublishError(f"the DNS server {address}:{port} did not answer ({answer.detail})", 4)
        if answer.outcome in ("refused", "servfail", "error"):
            raise PublishError(f"the DNS server {address}:{port} answered {answer.outcome} for {name} "
                               f"{rtype}: {answer.detail}", 4)
        found = _normal(rtype, answer.values)
        want = _normal(rtype, values)
        action = "nothing" if found == want else ("change" if found else "add")
        changes.append(Change(name, rtype, action, want, found))
    return changes


def send_update(domain: str, changes: list[Change], key: TsigKey, address: str, port: int) -> None:
    update = dns.update.UpdateMessage(domain, keyring=dns.tsigkeyring.from_text({key.name: key.secret}),
                                      keyname=key.name, keyalgorithm=key.algorithm)
    for change in changes:
        if change.action == "nothing":
            continue
        name = dns.name.from_text(change.name)
        update.delete(name, change.type)  # only the rrsets we own: (name, type) of our records
        for value in change.wanted:
            update.add(name, 1800, change.type, value)
    try:
        response = dns.query.tcp(update, address, port=port, timeout=10)
    except dns.tsig.PeerBadKey:
        raise PublishError(f"TSIG BADKEY: {address} does not know the key {key.name!r}; check the secret "
                           "named in tsig_key", 2) from None
    except dns.tsig.PeerBadSignature:
        raise PublishError(f"TSIG BADSIG: the key {key.name!r} has the wrong secret for {address}", 2) from None
    except dns.tsig.PeerBadTime:
        raise PublishError(f"TSIG BADTIME: this machine's clock and {address}'s differ by more than the "
                           "allowed fudge; fix the clock (NTP)", 2) from None
    except dns.tsig.PeerError as exc:
        raise PublishError(f"TSIG error from {address}: {exc}", 2) from None
    except (dns.exception.Timeout, OSError) as exc:
        raise PublishError(f"the DNS server {address}:{port} did not take the update: {exc}", 4) from None
    except dns.exception.DNSException as exc:  # a malformed answer is that server's failure
        raise PublishError(f"the DNS server {address}:{port} answered the update with a malformed message: "
                           f"{exc.__class__.__name__}", 4) from None
    rcode = response.rcode()
    if rcode == dns.rcode.REFUSED:
        raise PublishError(f"update REFUSED by {address}: the key {key.name!r} may not update {domain} "
                           "(allow-update / update-policy on the server)", 2)
    if rcode == dns.rcode.NOTAUTH:
        raise PublishError(f"update NOTAUTH from {address}: not authoritative for {domain}, or the TSIG key was "
                           "not accepted", 2)
    if rcode != dns.rcode.NOERROR:
        raise PublishError(f"update failed at {address}: {dns.rcode.to_text(rcode)}", 4)
