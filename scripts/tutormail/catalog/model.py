"""The institution files, loaded into one typed model.

`app.py` (CDK) and the `tutormail` CLI both read institutions through `load_catalog`; nothing
else describes an institution. Loading validates everything and collects every problem, each
with its file, line and field, before raising one `ConfigurationError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from tutormail.catalog.names import (
    LOCAL_RE,
    MAX_LABEL,
    Address,
    check_display_name,
    derive_slug,
    is_dns_label,
    is_same_or_subdomain,
    to_ascii_domain,
)
from tutormail.catalog.problems import ConfigurationError, Problem, display_path
from tutormail.catalog.regions import SES_SMTP_REGIONS
from tutormail.catalog.reputation_fields import (  # issue 14: the reputation: fields
    PlatformReputation,
    Thresholds,
    parse_institution_reputation,
    parse_platform_reputation,
)

PLATFORM_FILE = "platform.yaml"
DEFAULT_ACCOUNTS = ("comunicacao", "news")
PROVIDERS = ("route53", "rfc2136", "manual")
DMARC_POLICIES = ("none", "quarantine", "reject")
ZONE_ID_RE = re.compile(r"^Z[A-Z0-9]{4,32}$")
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
SECRET_NAME_RE = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
HOST_RE = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$")
LOGO_MAX_BYTES = 512 * 1024
LOGO_MAGIC = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpeg"}
# Keys that would hold key material; the file names a secret instead.
SECRET_VALUE_KEYS = ("secret", "tsig_secret", "tsig_key_secret", "key", "key_value", "password")


@dataclass(frozen=True)
class Platform:
    platform_domain: str  # A-labels
    hosted_zone_id: str
    account: str
    region: str
    default_local_part: str = "comunicacao"
    link_validity_hours: int = 24
    dkim_window_hours: int = 72
    source: str = PLATFORM_FILE
    reputation: PlatformReputation = field(default_factory=PlatformReputation)  # issue 14


@dataclass(frozen=True)
class DnsDomain:
    domain: str  # A-labels
    provider: str  # route53 | rfc2136 | manual
    mail_from: str  # full MAIL FROM domain, A-labels
    dmarc_policy: str = "none"
    hosted_zone_id: str | None = None  # route53
    zone_name: str | None = None  # route53: the zone's apex, the domain itself unless set
    server: str | None = None  # rfc2136: host
    port: int = 53  # rfc2136
    tsig_key: str | None = None  # rfc2136: name of the secret holding the TSIG key


@dataclass(frozen=True)
class Account:
    name: str
    address: Address
    display_name: str
    is_platform_default: bool = False


@dataclass(frozen=True)
class Company:
    name: str
    accounts: tuple[Account, ...]
    rules: tuple[tuple[str, str], ...]  # (Tutor rule, account name), in file order
    logo: str | None = None

    def account(self, name: str) -> Account:
        for account in self.accounts:
            if account.name == name:
                return account
        raise KeyError(name)


@dataclass(frozen=True)
class Institution:
    name: str
    slug: str
    companies: tuple[Company, ...]
    dns: tuple[DnsDomain, ...] = ()
    smtp_key_generation: int = 1
    smtp_key_keep_previous: bool = False
    source: str = ""
    reputation: Thresholds | None = None  # issue 14: overrides of the platform's thresholds

    def company(self, name: str) -> Company:
        for company in self.companies:
            if company.name == name:
                return company
        raise KeyError(name)


@dataclass(frozen=True)
class Catalog:
    directory: Path
    platform: Platform
    institutions: dict[str, Institution] = field(default_factory=dict)

    def get(self, slug: str) -> Institution:
        try:
            return self.institutions[slug]
        except KeyError:
            known = ", ".join(sorted(self.institutions)) or "none"
            raise ConfigurationError([Problem(display_path(self.directory), 0, "slug",
                                              f"no institution {slug!r} (known: {known})")]) from None


def platform_subdomain(institution: Institution, platform: Platform) -> str:
    return f"{institution.slug}.{platform.platform_domain}"


# --- reading YAML with line numbers -------------------------------------------------------------

def _line(node: Any, key: Any = None) -> int:
    """1-based line of a key (or item) inside a ruamel node, 0 when unknown."""
    try:
        if key is None:
            return node.lc.line + 1
        if isinstance(node, CommentedSeq):
            return node.lc.item(key)[0] + 1
        return node.lc.key(key)[0] + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return 0


class _Checker:
    """Collects the problems of one file."""

    def __init__(self, path: Path):
        self.file = display_path(path)
        self.problems: list[Problem] = []

    def add(self, node: Any, key: Any, field_name: str, reason: str) -> None:
        line = _line(node, key) or _line(node)
        self.problems.append(Problem(self.file, line, field_name, reason))

    def unknown(self, node: CommentedMap, allowed: Iterable[str], prefix: str) -> None:
        allowed = tuple(allowed)
        for key in node:
            if key not in allowed:
                where = f"{prefix}.{key}" if prefix else str(key)
                if key in SECRET_VALUE_KEYS:
                    self.add(node, key, where, "key material never goes in an institution file: "
                             "store it in Secrets Manager and name the secret in tsig_key")
                else:
                    self.add(node, key, where, f"unknown field (allowed: {', '.join(allowed)})")

    def string(self, node: CommentedMap, key: str, prefix: str, required: bool = True) -> str | None:
        where = f"{prefix}.{key}" if prefix else key
        if key not in node or node[key] is None:
            if required:
                self.add(node, None, where, "is required")
            return None
        value = node[key]
        if not isinstance(value, str):
            self.add(node, key, where, f"must be a text, got {type(value).__name__} (quote it)")
            return None
        return value

    def integer(self, node: CommentedMap, key: str, default: int, low: int, high: int) -> int:
        if key not in node:
            return default
        value = node[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.add(node, key, key, f"must be a whole number from {low} to {high}")
            return default
        return value

    def domain(self, node: CommentedMap, key: str, prefix: str) -> str | None:
        value = self.string(node, key, prefix)
        if value is None:
            return None
        try:
            return to_ascii_domain(value)
        except ValueError as exc:
            self.add(node, key, f"{prefix}.{key}" if prefix else key, str(exc))
            return None


def _read_yaml(path: Path, chk: _Checker) -> Any:
    yaml = YAML(typ="rt")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        chk.problems.append(Problem(chk.file, 0, "(file)", "does not exist"))
        return None
    except (OSError, UnicodeDecodeError) as exc:
        chk.problems.append(Problem(chk.file, 0, "(file)", f"cannot be read as UTF-8 text: {exc}"))
        return None
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        chk.problems.append(Problem(chk.file, line, "(yaml)", " ".join(str(exc.problem).split())))
    except YAMLError as exc:
        chk.problems.append(Problem(chk.file, 0, "(yaml)", " ".join(str(exc).split())))
    return None


def _mapping(doc: Any, chk: _Checker, what: str) -> CommentedMap | None:
    if not isinstance(doc, CommentedMap):
        chk.problems.append(Problem(chk.file, 1, "(file)", f"must be a YAML mapping ({what})"))
        return None
    return doc


# --- the platform file --------------------------------------------------------------------------

def parse_platform(path: Path) -> tuple[Platform | None, list[Problem]]:
    chk = _Checker(path)
    doc = _mapping(_read_yaml(path, chk), chk, "the platform file") if path.exists() else None
    if not path.exists():
        chk.problems.append(Problem(chk.file, 0, "(file)", "the platform file is missing from the "
                                    "institutions directory"))
    if doc is None:
        return None, chk.problems
    chk.unknown(doc, ("platform_domain", "hosted_zone_id", "account", "region", "default_local_part",
                      "link_validity_hours", "dkim_window_hours", "reputation"), "")
    domain = chk.domain(doc, "platform_domain", "")
    zone = chk.string(doc, "hosted_zone_id", "")
    if zone is not None and not ZONE_ID_RE.match(zone):
        chk.add(doc, "hosted_zone_id", "hosted_zone_id", "not a Route 53 hosted zone id (Z followed "
                "by upper-case letters and digits)")
    account = doc.get("account")
    if isinstance(account, int) and not isinstance(account, bool):
        chk.add(doc, "account", "account", "must be quoted: a 12-digit text (a number loses leading zeros)")
    else:
        account = chk.string(doc, "account", "")
        if account is not None and not re.fullmatch(r"\d{12}", account):
            chk.add(doc, "account", "account", "must be a 12-digit AWS account id")
    region = chk.string(doc, "region", "")
    if region is not None and region not in SES_SMTP_REGIONS:
        chk.add(doc, "region", "region", f"{region!r} has no SES SMTP endpoint; use one of: "
                + ", ".join(SES_SMTP_REGIONS))
    local = chk.string(doc, "default_local_part", "", required=False) or "comunicacao"
    if not LOCAL_RE.match(local):
        chk.add(doc, "default_local_part", "default_local_part", "not a valid address local part")
    link_hours = chk.integer(doc, "link_validity_hours", 24, 1, 168)
    dkim_hours = chk.integer(doc, "dkim_window_hours", 72, 1, 720)
    reputation = parse_platform_reputation(doc, chk)
    if chk.problems:
        return None, chk.problems
    return Platform(domain, zone, account, region, local, link_hours, dkim_hours, chk.file, reputation), []


# --- an institution file ------------------------------------------------------------------------

def _looks_like_key_material(value: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9+/]{16,}={1,2}", value)) or (
        "/" not in value and len(value) >= 24 and bool(re.fullmatch(r"[A-Za-z0-9+]+", value))
        and any(c.isdigit() for c in value) and any(c.isupper() for c in value)
        and any(c.islower() for c in value))


def _parse_dns(node: Any, index: int, chk: _Checker, platform: Platform | None) -> DnsDomain | None:
    prefix = f"dns[{index}]"
    if not isinstance(node, CommentedMap):
        chk.add(node, None, prefix, "must be a mapping with domain and provider")
        return None
    before = len(chk.problems)
    domain = chk.domain(node, "domain", prefix)
    provider = chk.string(node, "provider", prefix)
    common = ("domain", "provider", "mail_from", "dmarc_policy")
    specific = {"route53": ("hosted_zone_id", "zone_name"), "rfc2136": ("server", "tsig_key"),
                "manual": ()}
    if provider is not None and provider not in PROVIDERS:
        chk.add(node, "provider", f"{prefix}.provider", f"must be one of: {', '.join(PROVIDERS)}")
        provider = None
    if provider:
        chk.unknown(node, common + specific[provider], prefix)
    if domain and platform and is_same_or_subdomain(domain, platform.platform_domain):
        chk.add(node, "domain", f"{prefix}.domain", "the platform domain's DNS is described by "
                "platform.yaml, not by an institution")
    policy = node.get("dmarc_policy", "none")
    if policy not in DMARC_POLICIES:
        chk.add(node, "dmarc_policy", f"{prefix}.dmarc_policy",
                f"must be one of: {', '.join(DMARC_POLICIES)}")
    mail_from = f"mail.{domain}" if domain else None
    if "mail_from" in node and domain:
        raw = chk.domain(node, "mail_from", prefix)
        if raw is not None:
            mail_from = raw if "." in raw and raw.endswith("." + domain) else None
            if mail_from is None:
                chk.add(node, "mail_from", f"{prefix}.mail_from", f"must be a subdomain of {domain} "
                        f"(e.g. mail.{domain})")
    values: dict[str, Any] = {}
    if provider == "route53":
        zone = chk.string(node, "hosted_zone_id", prefix)
        if zone is not None and not ZONE_ID_RE.match(zone):
            chk.add(node, "hosted_zone_id", f"{prefix}.hosted_zone_id", "not a Route 53 hosted zone id "
                    "(Z followed by upper-case letters and digits)")
        zone_name = chk.domain(node, "zone_name", prefix) if "zone_name" in node else domain
        if zone_name and domain and not is_same_or_subdomain(domain, zone_name):
            chk.add(node, "zone_name", f"{prefix}.zone_name", f"{domain} is not inside zone {zone_name}")
        values = {"hosted_zone_id": zone, "zone_name": zone_name}
    elif provider == "rfc2136":
        server = chk.string(node, "server", prefix)
        host, port = None, 53
        if server is not None:
            match = HOST_RE.match(server)
            port = int(match.group(1)) if match and match.group(1) else 53
            if not match or not 1 <= port <= 65535:
                chk.add(node, "server", f"{prefix}.server", "must be host[:port] (port 1-65535)")
            else:
                host = server.rsplit(":", 1)[0] if match.group(1) else server
                host = host.strip("[]")
        secret = chk.string(node, "tsig_key", prefix)
        if secret is not None:
            if _looks_like_key_material(secret):
                chk.add(node, "tsig_key", f"{prefix}.tsig_key", "looks like key material: give the name "
                        "of the Secrets Manager secret holding the key, never the key itself")
            elif not SECRET_NAME_RE.match(secret):
                chk.add(node, "tsig_key", f"{prefix}.tsig_key", "not a valid Secrets Manager secret name")
        values = {"server": host, "port": port, "tsig_key": secret}
    if len(chk.problems) > before or not domain or not provider:
        return None
    return DnsDomain(domain=domain, provider=provider, mail_from=mail_from, dmarc_policy=policy, **values)


def _parse_account(node: CommentedMap, key: Any, prefix: str, chk: _Checker, slug: str | None,
                   platform: Platform | None, company_name: str | None) -> Account | None:
    where = f"{prefix}.accounts.{key}"
    if not isinstance(key, str) or not NAME_RE.match(key):
        chk.add(node, key, where, "account name must be lower case letters, digits, '-' or '_', "
                "starting with a letter")
        return None
    value = node[key]
    display_name = company_name
    if isinstance(value, CommentedMap):
        chk.unknown(value, ("email", "display_name"), where)
        raw = chk.string(value, "email", where)
        if "display_name" in value:
            display_name = chk.string(value, "display_name", where)
            reason = check_display_name(display_name) if display_name is not None else None
            if reason:
                chk.add(value, "display_name", f"{where}.display_name", reason)
                display_name = None
            if display_name is None:
                return None
        if raw is None:
            return None
    elif isinstance(value, str):
        raw = value
    else:
        chk.add(node, key, where, "must be an e-mail address or {email, display_name}")
        return None
    try:
        address = Address.parse(raw)
    except ValueError as exc:
        chk.add(node, key, where, f"{raw!r}: {exc}")
        return None
    if platform and slug and is_same_or_subdomain(address.domain, platform.platform_domain):
        own = f"{slug}.{platform.platform_domain}"
        if address.domain != own:
            chk.add(node, key, where, f"an address on the platform domain must be <local>@{own}")
            return None
    if display_name is None:
        return None
    return Account(key, address, display_name)


def _check_logo(node: CommentedMap, prefix: str, chk: _Checker, directory: Path) -> str | None:
    logo = chk.string(node, "logo", prefix, required=False)
    if logo is None:
        return None
    where = f"{prefix}.logo"
    path = directory / logo
    if Path(logo).is_absolute() or ".." in Path(logo).parts:
        chk.add(node, "logo", where, "must be a path inside the institutions directory")
        return None
    if not path.is_file():
        chk.add(node, "logo", where, f"file {logo!r} does not exist (paths are relative to the "
                "institutions directory)")
        return None
    size = path.stat().st_size
    if size > LOGO_MAX_BYTES:
        chk.add(node, "logo", where, f"is {size} bytes, larger than {LOGO_MAX_BYTES // 1024} KiB")
        return None
    head = path.read_bytes()[:8]
    if not any(head.startswith(magic) for magic in LOGO_MAGIC):
        chk.add(node, "logo", where, "must be a PNG or JPEG image")
        return None
    return logo


def _parse_company(node: Any, index: int, chk: _Checker, slug: str | None, platform: Platform | None,
                   directory: Path) -> Company | None:
    prefix = f"companies[{index}]"
    if not isinstance(node, CommentedMap):
        chk.add(node, None, prefix, "must be a mapping with name, accounts and rules")
        return None
    before = len(chk.problems)
    chk.unknown(node, ("name", "logo", "accounts", "rules"), prefix)
    name = chk.string(node, "name", prefix)
    if name is not None and (reason := check_display_name(name)):
        chk.add(node, "name", f"{prefix}.name", reason)
        name = None
    logo = _check_logo(node, prefix, chk, directory)
    accounts: dict[str, Account] = {}
    raw_accounts = node.get("accounts") or CommentedMap()
    if not isinstance(raw_accounts, CommentedMap):
        chk.add(node, "accounts", f"{prefix}.accounts", "must be a mapping of account name to address")
        raw_accounts = CommentedMap()
    for key in raw_accounts:
        account = _parse_account(raw_accounts, key, prefix, chk, slug, platform, name)
        if account:
            accounts[account.name] = account
    if platform and slug and name:
        default = Address.parse(f"{platform.default_local_part}@{slug}.{platform.platform_domain}")
        for missing in DEFAULT_ACCOUNTS:
            if missing not in raw_accounts:
                accounts[missing] = Account(missing, default, name, is_platform_default=True)
    rules: list[tuple[str, str]] = []
    raw_rules = node.get("rules") or CommentedMap()
    if not isinstance(raw_rules, CommentedMap):
        chk.add(node, "rules", f"{prefix}.rules", "must be a mapping of Tutor rule to account name")
        raw_rules = CommentedMap()
    for rule, target in raw_rules.items():
        where = f"{prefix}.rules.{rule}"
        if not isinstance(rule, str) or not NAME_RE.match(rule):
            chk.add(raw_rules, rule, where, "rule name must be lower case letters, digits, '-' or '_'")
        elif not isinstance(target, str):
            chk.add(raw_rules, rule, where, "must name an account")
        elif target not in (known_names := set(accounts) | {str(k) for k in raw_accounts} | set(DEFAULT_ACCOUNTS)):
            known = ", ".join(sorted(known_names))
            chk.add(raw_rules, rule, where, f"points at account {target!r}, which this company does not "
                    f"have (accounts: {known})")
        else:
            rules.append((rule, target))
    if len(chk.problems) > before or name is None:
        return None
    ordered = tuple(sorted(accounts.values(), key=lambda a: (a.name not in DEFAULT_ACCOUNTS, a.name)))
    return Company(name=name, accounts=ordered, rules=tuple(rules), logo=logo)


def parse_institution(path: Path, platform: Platform | None, directory: Path
                      ) -> tuple[Institution | None, list[Problem]]:
    chk = _Checker(path)
    doc = _read_yaml(path, chk)
    if chk.problems:
        return None, chk.problems
    doc = _mapping(doc, chk, "an institution file")
    if doc is None:
        return None, chk.problems
    chk.unknown(doc, ("name", "slug", "dns", "companies", "smtp_key_generation",
                      "smtp_key_keep_previous", "reputation"), "")
    name = chk.string(doc, "name", "")
    if name is not None and (reason := check_display_name(name)):
        chk.add(doc, "name", "name", reason)
        name = None
    slug = chk.string(doc, "slug", "", required=False)
    if slug is not None:
        if not is_dns_label(slug):
            chk.add(doc, "slug", "slug", "must be a DNS label: a-z, 0-9 and '-', 1-63 characters, "
                    "no '-' at either end")
            slug = None
    elif name is not None:
        derived = derive_slug(name)
        if not derived:
            chk.add(doc, "name", "slug", "cannot derive a slug from the name: set slug")
        elif len(derived) > MAX_LABEL:
            chk.add(doc, "name", "slug", f"the slug derived from the name is {len(derived)} characters, "
                    f"longer than {MAX_LABEL}: set an explicit slug")
        else:
            slug = derived
    if slug is not None and slug != path.stem:
        chk.add(doc, "slug" if "slug" in doc else "name", "slug",
                f"slug {slug!r} must equal the file name ({slug}.yaml, not {path.name})")
    dns: list[DnsDomain] = []
    raw_dns = doc.get("dns") or CommentedSeq()
    if not isinstance(raw_dns, CommentedSeq):
        chk.add(doc, "dns", "dns", "must be a list of {domain, provider, ...}")
        raw_dns = CommentedSeq()
    seen_domains: dict[str, int] = {}
    for index, entry in enumerate(raw_dns):
        parsed = _parse_dns(entry, index, chk, platform)
        if parsed is None:
            continue
        if parsed.domain in seen_domains:
            chk.add(raw_dns, index, f"dns[{index}].domain", f"{parsed.domain} is already listed in "
                    f"dns[{seen_domains[parsed.domain]}]")
            continue
        seen_domains[parsed.domain] = index
        dns.append(parsed)
    companies: list[Company] = []
    raw_companies = doc.get("companies")
    if not isinstance(raw_companies, CommentedSeq) or not raw_companies:
        chk.add(doc, "companies" if "companies" in doc else None, "companies",
                "at least one company is required")
        raw_companies = CommentedSeq()
    seen_names: dict[str, int] = {}
    for index, entry in enumerate(raw_companies):
        company = _parse_company(entry, index, chk, slug, platform, directory)
        if company is None:
            continue
        if company.name.casefold() in seen_names:
            chk.add(entry, "name", f"companies[{index}].name", f"{company.name!r} is already the name of "
                    f"companies[{seen_names[company.name.casefold()]}]")
            continue
        seen_names[company.name.casefold()] = index
        companies.append(company)
    generation = chk.integer(doc, "smtp_key_generation", 1, 1, 10_000)
    keep_previous = doc.get("smtp_key_keep_previous", False)
    if not isinstance(keep_previous, bool):
        chk.add(doc, "smtp_key_keep_previous", "smtp_key_keep_previous", "must be true or false")
    elif keep_previous and generation == 1:
        chk.add(doc, "smtp_key_keep_previous", "smtp_key_keep_previous",
                "there is no previous key at generation 1: raise smtp_key_generation to rotate")
    reputation = parse_institution_reputation(doc, chk, platform.reputation if platform else None)
    if chk.problems:
        return None, chk.problems
    return Institution(name=name, slug=slug, companies=tuple(companies), dns=tuple(dns),
                       smtp_key_generation=generation, smtp_key_keep_previous=keep_previous,
                       source=chk.file, reputation=reputation), []


# --- a directory ----------------------------------------------------------------------------------

def institution_files(directory: Path) -> list[Path]:
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    return [f for f in files if f.name != PLATFORM_FILE]


def check_files(directory: Path, files: Iterable[Path] | None = None
                ) -> tuple[Catalog | None, list[Problem]]:
    """Parses the platform file and the given institution files (all by default)."""
    directory = Path(directory)
    platform, problems = parse_platform(directory / PLATFORM_FILE)
    paths = institution_files(directory) if files is None else [Path(f) for f in files
                                                               if Path(f).name != PLATFORM_FILE]
    institutions: dict[str, Institution] = {}
    for path in paths:
        institution, found = parse_institution(path, platform, directory)
        problems.extend(found)
        if institution is None:
            continue
        if institution.slug in institutions:
            other = institutions[institution.slug].source
            problems.append(Problem(institution.source, 1, "slug", f"{institution.slug!r} is already "
                                    f"the slug of {other}"))
            continue
        institutions[institution.slug] = institution
    if platform is None or problems:
        return None, sorted(set(problems))
    return Catalog(directory, platform, dict(sorted(institutions.items()))), []


def load_catalog(directory: Path, only: Iterable[str] | None = None) -> Catalog:
    """The catalogue of a directory, or ConfigurationError with every problem.

    `only` limits parsing to those slugs' files (the fast path of `-c institutions=`).
    """
    directory = Path(directory)
    files = None
    if only is not None:
        files = []
        problems = []
        for slug in only:
            matches = [p for p in (directory / f"{slug}.yaml", directory / f"{slug}.yml") if p.exists()]
            if not matches:
                problems.append(Problem(display_path(directory), 0, "institutions",
                                        f"no file for institution {slug!r}"))
            files.extend(matches)
        if problems:
            raise ConfigurationError(problems)
    catalog, problems = check_files(directory, files)
    if catalog is None:
        raise ConfigurationError(problems)
    return catalog
