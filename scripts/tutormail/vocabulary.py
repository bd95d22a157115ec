"""Words that cross modules: a scenario, the kind of an SES identity, a DNS provider and who publishes,
SES's verification status, where a sender stands and whether it is ready.

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


class VerificationStatus(StrEnum):
    """SES's status of an identity (and of its DKIM), as SES v2 returns it
    (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_IdentityInfo.html)."""

    SUCCESS = "SUCCESS"
    PENDING = "PENDING"
    FAILED = "FAILED"
    TEMPORARY_FAILURE = "TEMPORARY_FAILURE"
    NOT_STARTED = "NOT_STARTED"


class SenderState(StrEnum):
    """Where one identity stands in phase 1 (verification/identity_check.py)."""

    VERIFIED = "verified"
    PENDING = "pending"
    EXPIRED = "expired"  # Cenário 2: the link was not opened in time
    FAILED = "failed"  # Cenário 1: SES stopped looking for the DKIM records
    MISSING = "missing"  # no such identity in SES: the stack is not deployed


class Readiness(StrEnum):
    """Whether receivers take a sender's mail (cenario2/dmarc.py, verification/deliverability.py)."""

    READY = "ready"
    BLOCKED = "blocked"  # by the domain's DMARC policy
    UNKNOWN = "unknown"  # the policy could not be read
    ACCEPTED = "accepted"  # blocked or unknown, and a person accepted the risk
    UNCHECKED = "unchecked"  # --offline: not looked up


class TutorAdvice(StrEnum):
    """`status`'s `tutor` column: configure the account in Tutor now, or not yet."""

    CONFIGURE = "configure"
    NOT_YET = "not to configure yet"


# The version of the keys of every `--output json` and report: stable, raised only when a key changes meaning.
SCHEMA_VERSION = 1
