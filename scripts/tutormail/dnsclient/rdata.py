"""Record data in the text form DNS servers take (zone files, RFC 2136 updates, Route 53)."""

from __future__ import annotations

import dns.rdata
import dns.rdataclass
import dns.rdatatype


def fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


def quote_txt(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def txt_text(value: str) -> str:
    """The text of a TXT record in presentation form (one or more quoted strings), as receivers join it."""
    rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, zone_rdata("TXT", value))
    return "".join(part.decode(errors="replace") for part in rdata.strings)


def zone_rdata(rtype: str, value: str) -> str:
    """Absolute targets (a relative one would get the zone appended) and quoted TXT."""
    if rtype == "CNAME":
        return fqdn(value)
    if rtype == "MX":
        preference, _, host = value.partition(" ")
        return f"{preference} {fqdn(host)}"
    if rtype == "TXT":
        return value if value.startswith('"') else quote_txt(value)
    return value


def comparable(rtype: str, value: str) -> str:
    """Host names compare without case; TXT strings with it."""
    text = zone_rdata(rtype, value)
    return text.lower() if rtype in ("CNAME", "MX", "NS") else text
