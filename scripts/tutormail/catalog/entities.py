"""The typed model of the institution files: what the parsers build and everyone else reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tutormail.catalog.names import Address
from tutormail.catalog.problems import ConfigurationError, Problem, display_path
from tutormail.catalog.receiving_fields import PlatformReceiving
from tutormail.catalog.reputation_fields import PlatformReputation, Thresholds
from tutormail.vocabulary import Provider

PLATFORM_FILE = "platform.yaml"


@dataclass(frozen=True)
class GitHub:
    """Whose GitHub Actions may assume the CI roles: plan on pull requests, deploy from the
    environment, watch from the branch (GitHub's OIDC `sub` claims)."""
    repository: str  # owner/name
    branch: str = "main"
    environment: str = "production"
    oidc_provider: str = "create"  # or "existing": the account's provider for GitHub's URL is used
    offboarding_environment: str = "offboarding"  # the offboard and cleanup jobs'


@dataclass(frozen=True)
class Platform:
    platform_domain: str  # A-labels
    hosted_zone_id: str
    account: str
    region: str
    default_local_part: str = "comunicacao"
    link_validity_hours: int = 24
    dkim_window_hours: int = 72
    smtp_key_max_age_days: int = 90
    source: str = PLATFORM_FILE
    reputation: PlatformReputation = field(default_factory=PlatformReputation)  # issue 14
    github: GitHub | None = None  # the repository whose workflow deploys; none: no CI roles
    receiving: PlatformReceiving | None = None  # issue 25: none, nothing is received


@dataclass(frozen=True)
class DnsDomain:
    domain: str  # A-labels
    provider: Provider
    mail_from: str  # full MAIL FROM domain, A-labels
    dmarc_policy: str = "none"
    dmarc: str = "publish"  # publish: we write _dmarc.<domain>; keep: the domain's own record stays, we write none
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
    platform_dmarc: str = "inherit"  # the platform subdomain's DMARC: inherit, or the p= we publish there
    reputation: Thresholds | None = None  # issue 14: overrides of the platform's thresholds
    replies_to: str | None = None  # issue 25: replies to the platform address go here (ASCII)

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


def platform_default_address(slug: str, platform: Platform) -> str:
    """The send-only default sender: comunicacao@<slug>.<platform domain>."""
    return f"{platform.default_local_part}@{slug}.{platform.platform_domain}"
