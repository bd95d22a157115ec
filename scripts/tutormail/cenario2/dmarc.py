"""DMARC pre-flight for Cenário 2: mail signed only by SES's own domain does not align with the
address's domain, so `p=quarantine` or `p=reject` there sends it to spam or back."""

from __future__ import annotations

from dataclasses import dataclass

import dns.exception

from tutormail.dnsclient.resolver import SYSTEM, DnsEndpoints, txt_values

FREE_MAIL = frozenset({"gmail.com", "googlemail.com", "hotmail.com", "outlook.com", "live.com", "msn.com",
                       "yahoo.com", "yahoo.com.br", "icloud.com", "me.com", "aol.com", "bol.com.br", "uol.com.br",
                       "terra.com.br", "ig.com.br", "zoho.com", "proton.me", "protonmail.com", "gmx.com"})


@dataclass(frozen=True)
class DmarcFinding:
    domain: str
    record: str | None
    policy: str | None
    warning: str | None


def parse_policy(record: str) -> str | None:
    tags = dict(part.strip().split("=", 1) for part in record.split(";") if "=" in part)
    tags = {k.strip().lower(): v.strip().lower() for k, v in tags.items()}
    if tags.get("v") != "dmarc1":
        return None
    return tags.get("p")


def preflight(domain: str, endpoints: DnsEndpoints = SYSTEM) -> DmarcFinding:
    if domain in FREE_MAIL:
        return DmarcFinding(domain, None, None, f"{domain} is a free-mail provider: SES cannot sign for it and "
                            "its DMARC policy rejects or junks mail sent by others; use an address at a domain "
                            "of the institution (Cenário 1)")
    name = f"_dmarc.{domain}"
    try:
        values = txt_values(name, endpoints)
        records = [r for r in values if r.lower().startswith("v=dmarc1")] or values
    except dns.exception.DNSException as exc:
        return DmarcFinding(domain, None, None, f"could not look up {name}: {exc.__class__.__name__}")
    if not records:
        return DmarcFinding(domain, None, None, None)
    record = records[0]
    policy = parse_policy(record)
    if policy is None:
        return DmarcFinding(domain, record, None, f"{name} has a malformed DMARC record ({record!r}); receivers "
                            "may ignore it")
    if policy in ("quarantine", "reject"):
        return DmarcFinding(domain, record, policy, f"{name} publishes p={policy} ({record!r}): mail signed only by "
                            "SES's own domain fails DMARC alignment and will be "
                            f"{'rejected' if policy == 'reject' else 'sent to spam'}; prefer Cenário 1 (DKIM on "
                            f"{domain}, records published by us or by the institution)")
    return DmarcFinding(domain, record, policy, None)
