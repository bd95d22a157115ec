"""What will exist for an institution, derived from the model alone (no AWS calls).

The CDK stack, `tutormail plan` and the later scripts all take what an institution holds from here:
its identities and records are named here, its AWS resources (stack, SMTP user, secret, configuration
set) by `tutormail.names`, beside the wildcards its grants name.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tutormail import names
from tutormail.catalog.model import Catalog, DnsDomain, Institution, Platform, platform_subdomain
from tutormail.catalog.names import is_same_or_subdomain, render_mailbox, to_unicode_domain
from tutormail.catalog.parse_dns import default_mail_from
from tutormail.catalog.regions import smtp_endpoint
from tutormail.names import PLATFORM_STACK, stack_name  # noqa: F401  (the plan's names, re-exported)
from tutormail.vocabulary import IdentityKind, Provider, Publisher, Scenario

SPF_VALUE = "v=spf1 include:amazonses.com ~all"
DKIM_TOKEN_PLACEHOLDER = "{dkim-token-%d}"  # noqa: S105 (a DKIM selector, not a secret)
RECORD_TTL = 1800

SCENARIO_DNS = Scenario.DNS
SCENARIO_LINK = Scenario.LINK


@dataclass(frozen=True)
class Identity:
    name: str  # what SES calls it: a domain (A-labels) or an address
    kind: IdentityKind
    scenario: Scenario
    provider: Provider | None  # None for addresses
    mail_from: str | None = None
    dmarc_policy: str = "none"
    dmarc: str = "publish"  # publish | keep (the domain's own record) | inherit (the platform domain's)
    hosted_zone_id: str | None = None
    zone_name: str | None = None
    dns: DnsDomain | None = None
    is_platform: bool = False

    @property
    def update_zone(self) -> str:
        """The zone an RFC 2136 UPDATE of its records names: its `dns` entry's domain (a sub-domain
        identity's records live in the entry's zone), else its own name."""
        return self.dns.domain if self.dns is not None else self.name

    @property
    def display(self) -> str:
        if self.kind == IdentityKind.DOMAIN:
            return to_unicode_domain(self.name)
        local, _, domain = self.name.partition("@")
        return f"{local}@{to_unicode_domain(domain)}"

    @property
    def owner(self) -> Publisher | None:
        if self.kind != IdentityKind.DOMAIN:
            return None
        return {Provider.ROUTE53: Publisher.STACK, Provider.RFC2136: Publisher.RFC2136}.get(self.provider,
                                                                                           Publisher.PERSON)


@dataclass(frozen=True)
class Record:
    identity: str
    name: str  # absolute, without the trailing dot
    type: str
    value: str
    purpose: str  # dkim | mail-from-mx | mail-from-spf | dmarc
    ttl: int = RECORD_TTL


@dataclass(frozen=True)
class Sender:
    company: str
    account: str
    address: str  # A-label form, what SES and IAM see
    address_display: str
    display_name: str
    mailbox: str  # De/Remetente as Tutor is given it: "Nome" <address in A-labels> (names.render_mailbox)
    identity: str
    scenario: Scenario
    is_platform_default: bool


@dataclass(frozen=True)
class InstitutionPlan:
    institution: Institution
    platform: Platform
    identities: tuple[Identity, ...]
    senders: tuple[Sender, ...]

    @property
    def slug(self) -> str:
        return self.institution.slug

    @property
    def stack_name(self) -> str:
        return stack_name(self.slug)

    @property
    def smtp_user_name(self) -> str:
        return names.smtp_user(self.slug)

    @property
    def secret_name(self) -> str:
        return names.secret_name(self.slug)

    @property
    def configuration_set(self) -> str:
        return names.configuration_set(self.slug)

    @property
    def smtp_endpoint(self) -> str:
        return smtp_endpoint(self.platform.region)

    @property
    def from_addresses(self) -> tuple[str, ...]:
        """Exactly the addresses the SMTP user may send as (ses:FromAddress)."""
        return tuple(sorted({s.address for s in self.senders}))

    @property
    def key_generations(self) -> tuple[int, ...]:
        gen = self.institution.smtp_key_generation
        return (gen - 1, gen) if self.institution.smtp_key_keep_previous else (gen,)

    def identity(self, name: str) -> Identity:
        return next(i for i in self.identities if i.name == name)

    def records(self, identity: Identity, dkim_tokens: tuple[str, ...] | None = None,
                signing_zone: str = "dkim.amazonses.com") -> tuple[Record, ...]:
        """The DNS records a domain identity needs; tokens come from SES once it exists."""
        if identity.kind != IdentityKind.DOMAIN:
            return ()
        tokens = dkim_tokens or tuple(DKIM_TOKEN_PLACEHOLDER % n for n in (1, 2, 3))
        records = [Record(identity.name, f"{token}._domainkey.{identity.name}", "CNAME",
                          f"{token}.{signing_zone}", "dkim") for token in tokens]
        records.append(Record(identity.name, identity.mail_from, "MX",
                              f"10 feedback-smtp.{self.platform.region}.amazonses.com", "mail-from-mx"))
        records.append(Record(identity.name, identity.mail_from, "TXT", SPF_VALUE, "mail-from-spf"))
        if identity.dmarc == "publish":  # keep/inherit: the policy in force is someone else's, never replaced
            records.append(Record(identity.name, f"_dmarc.{identity.name}", "TXT",
                                  dmarc_value(identity.dmarc_policy), "dmarc"))
        return tuple(records)


def dmarc_value(policy: str) -> str:
    """The DMARC record `dmarc: publish` writes."""
    return f"v=DMARC1; p={policy};"


def _identity_for(address_domain: str, address: str, institution: Institution, platform: Platform,
                  platform_identity: Identity, dns_identities: list[Identity]) -> Identity:
    if address_domain == platform_subdomain(institution, platform):
        return platform_identity
    for identity in dns_identities:
        if address_domain == identity.name:
            return identity
        if is_same_or_subdomain(address_domain, identity.name):
            return _subdomain_identity(address_domain, identity)
    return Identity(name=address, kind=IdentityKind.EMAIL, scenario=SCENARIO_LINK, provider=None)


def _subdomain_identity(name: str, parent: Identity) -> Identity:
    """A sender on a sub-domain of a `dns` entry gets a domain identity of its own, in the entry's DNS.

    SES lets a verified domain's sub-domains send on the domain's verification alone, but an identity
    of its own is how a sub-domain gets its own settings
    (https://docs.aws.amazon.com/ses/latest/dg/creating-identities.html), and whether the parent's
    default configuration set applies to mail from its sub-domains is not documented
    (https://docs.aws.amazon.com/ses/latest/dg/managing-configuration-sets.html). The stricter reading:
    without its own identity the sub-domain's mail might carry no configuration set, so no metrics, no
    event record, and a pause would not stop it. With its own identity (the institution's default
    configuration set, its own DKIM, MAIL FROM `bounce.<sub-domain>`) it does not matter which of the
    two SES applies: both carry the institution's set. Its DMARC is the parent's (no record of its
    own: RFC 7489 6.6.3, the organisational domain's policy applies where a sub-domain has none)."""
    return replace(parent, name=name, mail_from=default_mail_from(name), dmarc="inherit")


def _platform_identity(institution: Institution, platform: Platform) -> Identity:
    """<slug>.<platform domain>. Its own `_dmarc` record, even p=none, would override the platform domain's
    policy for it (RFC 7489 6.6.3: the organisational domain's record applies only where the subdomain has
    none), so none is written unless the file names a policy (`platform_dmarc`)."""
    sub = platform_subdomain(institution, platform)
    chosen = institution.platform_dmarc
    return Identity(name=sub, kind=IdentityKind.DOMAIN, scenario=SCENARIO_DNS, provider=Provider.ROUTE53,
                    mail_from=default_mail_from(sub), hosted_zone_id=platform.hosted_zone_id,
                    dmarc="inherit" if chosen == "inherit" else "publish",
                    dmarc_policy="none" if chosen == "inherit" else chosen,
                    zone_name=platform.platform_domain, is_platform=True)


def build_plan(institution: Institution, platform: Platform) -> InstitutionPlan:
    platform_identity = _platform_identity(institution, platform)
    # Longest domain first, so an address under a more specific entry goes to that entry.
    dns_identities = [
        Identity(name=d.domain, kind=IdentityKind.DOMAIN, scenario=SCENARIO_DNS, provider=d.provider,
                 mail_from=d.mail_from, dmarc_policy=d.dmarc_policy, dmarc=d.dmarc, hosted_zone_id=d.hosted_zone_id,
                 zone_name=d.zone_name, dns=d)
        for d in sorted(institution.dns, key=lambda d: -len(d.domain))
    ]
    identities: dict[str, Identity] = {platform_identity.name: platform_identity}
    identities.update({i.name: i for i in sorted(dns_identities, key=lambda i: i.name)})
    senders = []
    for company in institution.companies:
        for account in company.accounts:
            identity = _identity_for(account.address.domain, account.address.ascii, institution,
                                     platform, platform_identity, dns_identities)
            identities.setdefault(identity.name, identity)
            senders.append(Sender(company=company.name, account=account.name,
                                  address=account.address.ascii, address_display=account.address.display,
                                  display_name=account.display_name,
                                  mailbox=render_mailbox(account.display_name, account.address),
                                  identity=identity.name, scenario=identity.scenario,
                                  is_platform_default=account.is_platform_default))
    ordered = sorted(identities.values(), key=lambda i: (not i.is_platform, i.kind, i.name))
    return InstitutionPlan(institution, platform, tuple(ordered), tuple(senders))


def plan_for(catalog: Catalog, slug: str) -> InstitutionPlan:
    return build_plan(catalog.get(slug), catalog.platform)
