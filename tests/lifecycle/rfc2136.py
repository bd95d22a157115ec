"""What an institution does to its own DNS server in these tests: one TSIG-signed RFC 2136 update."""

from __future__ import annotations

import json
from collections.abc import Callable

import dns.query
import dns.rcode
import dns.tsigkeyring
import dns.update
from tutormail.dnsclient.rdata import zone_rdata

from sandbox.bind import TsigKey


def update_zone(key: TsigKey, zone: str, address: str, port: int,
                change: Callable[[dns.update.UpdateMessage], None]) -> None:
    update = dns.update.UpdateMessage(zone, keyring=dns.tsigkeyring.from_text({key.name: key.secret}),
                                      keyname=key.name, keyalgorithm=key.algorithm)
    change(update)
    assert dns.query.tcp(update, address, port=port, timeout=5).rcode() == dns.rcode.NOERROR


def publish_platform_records(env: dict, slug: str, key: TsigKey, address: str, port: int,
                             platform_domain: str = "sistematutor.com.br") -> None:
    """What the stack writes into the platform zone for `slug` (its DKIM, MAIL FROM and any DMARC
    records, with SES's real tokens), into a test's own BIND serving that zone: a test resolver that
    lacks it leaves the platform sender's records unchecked, which verify reports as exit 4."""
    from tests.conftest import run_cli

    listed = run_cli("dns-records", slug, "--domain", f"{slug}.{platform_domain}", "--format", "json", env=env)
    assert listed.returncode == 0, listed.stderr

    def add(update: dns.update.UpdateMessage) -> None:
        for row in json.loads(listed.stdout)["records"]:
            update.replace(row["name"] + ".", row["ttl"], row["type"], zone_rdata(row["type"], row["value"]))

    update_zone(key, platform_domain, address, port, add)
