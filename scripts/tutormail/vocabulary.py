"""Words that cross modules: a scenario, the kind of an SES identity, a DNS provider and who publishes.

String and integer enums, so they compare equal to the plain values in institution files, JSON
output and SES's answers ("domain" == IdentityKind.DOMAIN, 1 == Scenario.DNS).
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Scenario(IntEnum):
    DNS = 1  # Cenário 1: a domain identity whose records we (or a person) publish
    LINK = 2  # Cenário 2: an address identity verified by SES's link


class IdentityKind(StrEnum):
    DOMAIN = "domain"
    EMAIL = "email"


class Provider(StrEnum):
    """Where a domain's DNS is, so who publishes its records."""

    ROUTE53 = "route53"  # a Route 53 zone: the CDK stack
    RFC2136 = "rfc2136"  # a server we may update: `tutormail dns-publish`
    MANUAL = "manual"  # a person, from `tutormail dns-records`


class Publisher(StrEnum):
    """Who publishes a domain identity's records (`plan.build.Identity.owner`, from its provider)."""

    STACK = "stack"  # Route 53: the CDK stack creates them
    RFC2136 = "rfc2136"  # `tutormail dns-publish`
    PERSON = "person"  # printed, a person publishes them


# The version of the keys of every `--output json` and report: stable, raised only when a key changes meaning.
SCHEMA_VERSION = 1
