"""What an institution does to its own DNS server in these tests: one TSIG-signed RFC 2136 update."""

from __future__ import annotations

from collections.abc import Callable

import dns.query
import dns.rcode
import dns.tsigkeyring
import dns.update

from sandbox.bind import TsigKey


def update_zone(key: TsigKey, zone: str, address: str, port: int,
                change: Callable[[dns.update.UpdateMessage], None]) -> None:
    update = dns.update.UpdateMessage(zone, keyring=dns.tsigkeyring.from_text({key.name: key.secret}),
                                      keyname=key.name, keyalgorithm=key.algorithm)
    change(update)
    assert dns.query.tcp(update, address, port=port, timeout=5).rcode() == dns.rcode.NOERROR
