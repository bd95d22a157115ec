"""An institution's `dns` entries: the domains whose DNS we may write (Cenário 1)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ruamel.yaml.comments import CommentedMap

from tutormail.catalog.checker import Checker, where
from tutormail.catalog.entities import DnsDomain, Platform
from tutormail.catalog.fields import DNS_ENTRY, HOST_RE, PROVIDERS
from tutormail.catalog.names import is_host_name, is_same_or_subdomain
from tutormail.catalog.public_suffixes import is_public_suffix
from tutormail.names import secret_name, tsig_prefix
from tutormail.vocabulary import Provider


def looks_like_key_material(value: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9+/]{16,}={1,2}", value)) or (
        "/" not in value and len(value) >= 24 and bool(re.fullmatch(r"[A-Za-z0-9+]+", value))
        and any(c.isdigit() for c in value) and any(c.isupper() for c in value)
        and any(c.islower() for c in value))


def server_host_problem(host: str) -> str | None:
    """Why an RFC 2136 server cannot be reached as written, or None. The publisher takes an IPv4
    address as it is and looks any other name up as an A record (dnsclient/rfc2136.py
    server_address), so an IPv6 literal would be looked up as a name and never reached: refused
    here rather than parsed into something the client cannot use."""
    if host.startswith("["):
        return (f"{host} is an IPv6 address: the RFC 2136 client reaches servers over IPv4 (an address "
                "or a name with an A record)")
    if not is_host_name(host):
        return f"{host!r} is not a host name (labels of a-z, 0-9 and '-', no empty label, no '-' at their ends)"
    return None


def tsig_key_problem(secret: str, slug: str) -> str | None:
    """Why a secret name cannot hold the institution's TSIG key, or None. Under its own prefix (the
    only one its policies reach), with no empty, `.` or `..` part (a name that reads as another
    path), and not a name tutor-mail makes there itself: the SMTP secret holds the SMTP key, and
    dns-publish would read it as a TSIG key."""
    prefix = tsig_prefix(slug)
    if not secret.startswith(prefix):
        return (f"{secret!r} is outside {prefix}: an institution's secrets live under its own prefix, the only "
                "one its policies reach")
    if any(part in ("", ".", "..") for part in secret.split("/")[2:]):
        return f"{secret!r} has an empty, '.' or '..' part: name the secret plainly, e.g. {prefix}tsig"
    reserved = secret_name(slug)
    if secret == reserved or secret.startswith(reserved + "/"):
        return (f"{secret!r} is the institution's SMTP secret, which tutor-mail writes: keep the TSIG key in a "
                f"secret of its own, e.g. {prefix}tsig")
    return None


def default_mail_from(domain: str) -> str:
    """A sub-domain mail is unlikely to use already (`mail.` often is webmail or a receiving host): SES
    publishes exactly one MX there and the MAIL FROM domain must not receive mail
    (https://docs.aws.amazon.com/ses/latest/dg/mail-from.html)."""
    return f"bounce.{domain}"


def overlaps(a: str, b: str) -> bool:
    """One domain is the other or under it (both A-labels)."""
    return is_same_or_subdomain(a, b) or is_same_or_subdomain(b, a)


class _Entry:
    """One dns entry being read: its node, field prefix and the problems it adds."""

    def __init__(self, node: CommentedMap, index: int, chk: Checker, platform: Platform | None):
        self.node, self.prefix, self.chk, self.platform = node, f"dns[{index}]", chk, platform

    def add(self, key: str, reason: str) -> None:
        self.chk.add(self.node, key, where(self.prefix, key), reason)

    def provider(self) -> str | None:
        provider = self.chk.text(self.node, DNS_ENTRY.get("provider"), self.prefix)
        if provider in PROVIDERS:
            self.chk.unknown(self.node, DNS_ENTRY, self.prefix, provider)
        return provider

    def domain(self) -> str | None:
        domain = self.chk.domain(self.node, DNS_ENTRY.get("domain"), self.prefix)
        if domain is None:
            return None
        if self.platform and overlaps(domain, self.platform.platform_domain):
            self.add("domain", f"{domain} overlaps the platform domain {self.platform.platform_domain}, "
                     "which belongs to the platform (its DNS is described by platform.yaml, not by an institution)")
        elif is_public_suffix(domain):
            self.add("domain", f"{domain} is a public suffix: no institution owns it")
        return domain

    def mail_from(self, domain: str | None) -> str | None:
        if domain is None:
            return None
        if "mail_from" not in self.node:
            return default_mail_from(domain)
        raw = self.chk.domain(self.node, DNS_ENTRY.get("mail_from"), self.prefix)
        if raw is not None and not raw.endswith("." + domain):
            self.add("mail_from", f"must be a subdomain of {domain} (e.g. {default_mail_from(domain)})")
            return None
        return raw

    def dmarc(self) -> tuple[str | None, str | None]:
        mode = self.chk.text(self.node, DNS_ENTRY.get("dmarc"), self.prefix)
        policy = self.chk.text(self.node, DNS_ENTRY.get("dmarc_policy"), self.prefix)
        if mode == "keep" and "dmarc_policy" in self.node:
            self.add("dmarc_policy", "with dmarc: keep no DMARC record is written, so no policy applies here: "
                     "remove dmarc_policy, or set dmarc: publish")
        return mode, policy

    def route53(self, domain: str | None) -> dict[str, Any]:
        zone = self.chk.text(self.node, DNS_ENTRY.get("hosted_zone_id", "route53"), self.prefix)
        if zone and self.platform and zone == self.platform.hosted_zone_id:
            self.add("hosted_zone_id", f"{zone} is the platform's hosted zone (platform.yaml): it belongs "
                     "to the platform")
        zone_name = domain
        if "zone_name" in self.node:
            zone_name = self.chk.domain(self.node, DNS_ENTRY.get("zone_name", "route53"), self.prefix)
        if zone_name and domain and not is_same_or_subdomain(domain, zone_name):
            self.add("zone_name", f"{domain} is not inside zone {zone_name}")
        elif zone_name and zone_name != domain and is_public_suffix(zone_name):
            self.add("zone_name", f"{zone_name} is a public suffix: no institution's zone is named so")
        return {"hosted_zone_id": zone, "zone_name": zone_name}

    def rfc2136(self, slug: str | None) -> dict[str, Any]:
        server = self.chk.text(self.node, DNS_ENTRY.get("server", "rfc2136"), self.prefix)
        host, port = None, 53
        if server is not None:
            match = HOST_RE.fullmatch(server)
            port = int(match.group(1)) if match.group(1) else 53
            host = server.rsplit(":", 1)[0] if match.group(1) else server
            if not 1 <= port <= 65535:
                self.add("server", "must be host[:port] (port 1-65535)")
            elif reason := server_host_problem(host):
                self.add("server", reason)
        return {"server": host, "port": port, "tsig_key": self._tsig_key(slug)}

    def _tsig_key(self, slug: str | None) -> str | None:
        raw = self.node.get("tsig_key")
        if isinstance(raw, str) and looks_like_key_material(raw):
            self.add("tsig_key", "looks like key material: give the name of the Secrets Manager secret "
                     "holding the key, never the key itself")
            return None
        secret = self.chk.text(self.node, DNS_ENTRY.get("tsig_key", "rfc2136"), self.prefix)
        if secret and slug and (reason := tsig_key_problem(secret, slug)):
            self.add("tsig_key", reason)
            return None
        return secret


def parse_dns_entry(entries: list, index: int, chk: Checker, platform: Platform | None,
                    slug: str | None) -> DnsDomain | None:
    node = entries[index]
    if not isinstance(node, CommentedMap):
        chk.add(entries, index, f"dns[{index}]", "must be a mapping with domain and provider")
        return None
    before = len(chk.problems)
    entry = _Entry(node, index, chk, platform)
    domain, provider = entry.domain(), entry.provider()
    mode, policy = entry.dmarc()
    mail_from = entry.mail_from(domain)
    values = {Provider.ROUTE53: lambda: entry.route53(domain), Provider.RFC2136: lambda: entry.rfc2136(slug)}.get(
        provider, dict)()
    if len(chk.problems) > before or not domain or not provider:
        return None
    return DnsDomain(domain=domain, provider=Provider(provider), mail_from=mail_from, dmarc_policy=policy, dmarc=mode,
                     **values)


def _zone_names_agree(parsed: Sequence[tuple[int, DnsDomain]], raw: Any, chk: Checker) -> None:
    """A hosted zone has one name: entries sharing a zone id must agree on it."""
    names: dict[str, tuple[int, str]] = {}
    for index, entry in parsed:
        if entry.provider != Provider.ROUTE53:
            continue
        first = names.setdefault(entry.hosted_zone_id, (index, entry.zone_name))
        if first[1] != entry.zone_name:
            chk.add(raw, index, f"dns[{index}].zone_name", f"zone {entry.hosted_zone_id} is named {first[1]} "
                    f"in dns[{first[0]}] and {entry.zone_name} here: set zone_name to the zone's apex in both")


def parse_dns(doc: CommentedMap, chk: Checker, platform: Platform | None, slug: str | None) -> list[DnsDomain]:
    raw = doc.get("dns") or []
    if not isinstance(raw, list):
        chk.add(doc, "dns", "dns", "must be a list of {domain, provider, ...}")
        return []
    parsed: list[tuple[int, DnsDomain]] = []
    seen: dict[str, int] = {}
    for index in range(len(raw)):
        entry = parse_dns_entry(raw, index, chk, platform, slug)
        if entry is None:
            continue
        if entry.domain in seen:
            chk.add(raw, index, f"dns[{index}].domain", f"{entry.domain} is already listed in "
                    f"dns[{seen[entry.domain]}]")
            continue
        seen[entry.domain] = index
        parsed.append((index, entry))
    _zone_names_agree(parsed, raw, chk)
    return [entry for _, entry in parsed]
