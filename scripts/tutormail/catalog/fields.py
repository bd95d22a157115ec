"""The one table of the files' fields.

Both the parser (which keys are allowed, what a value must look like) and the JSON Schema of
`tutormail schema` are built from these tables, so the two cannot disagree on a field's name,
type, pattern, choices or range. What a table cannot say (a slug equals its file name, a rule
points at an account, a domain belongs to one institution) the parser checks on top.

Patterns are written in the common part of Python's and ECMA 262's syntax (JSON Schema's), and
the parser applies them with `fullmatch`, as JSON Schema's anchored patterns behave.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tutormail.catalog.names import LABEL_RE, LOCAL_RE
from tutormail.catalog.receiving_fields import platform_receiving_schema
from tutormail.catalog.regions import SES_SMTP_REGIONS
from tutormail.catalog.reputation_fields import platform_reputation_schema, reputation_schema
from tutormail.vocabulary import Provider

PROVIDERS = tuple(provider.value for provider in Provider)
DMARC_POLICIES = ("none", "quarantine", "reject")
# Whether the product writes `_dmarc.<domain>`. RFC 7489 6.6.3: with two DMARC records no policy applies,
# and synthesis reads no DNS, so the file decides; `tutormail preflight` names a `publish` that meets a
# record already there a conflict (a deploy would fail on it, dns-publish refuses it).
DMARC_MODES = ("publish", "keep")
# A platform subdomain inherits the platform domain's policy (RFC 7489 6.6.3 step 3) unless one is named.
PLATFORM_DMARC = ("inherit", *DMARC_POLICIES)
ZONE_ID_RE = re.compile(r"^Z[A-Z0-9]{4,32}$")
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
SECRET_NAME_RE = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
# host[:port]; the port range (1-65535) is checked in code. [0-9], not \d: \d is Unicode in Python.
HOST_RE = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::([0-9]{1,5}))?$")
ACCOUNT_ID_RE = re.compile(r"^[0-9]{12}$")
LOGO_RE = re.compile(r"^.+\.(png|jpe?g|PNG|JPE?G)$")

# kinds: text (pattern/choices), display (a name shown in e-mail headers), domain, email, integer,
# boolean, list (of `items`), names (mapping of NAME_RE keys to `items`), account (email or mapping),
# mapping (a nested mapping: `items`, a Shape of this module, or, read by its own module, `json_schema`).
KINDS = ("text", "display", "domain", "email", "integer", "boolean", "list", "names", "account", "mapping")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    required: bool = False
    description: str = ""
    pattern: re.Pattern | None = None
    reason: str = ""  # what the parser says when the pattern does not match
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    default: Any = None
    items: Shape | Field | None = None  # list: each item; names: each value; account: the mapping form
    min_items: int = 0
    json_schema: Callable[[], dict[str, Any]] | None = None  # mapping without `items`: its schema

    def __post_init__(self):
        assert self.kind in KINDS, self.kind
        assert self.json_schema is None or self.kind == "mapping", self.name
        assert self.kind != "mapping" or (self.json_schema is None) == isinstance(self.items, Shape), self.name


@dataclass(frozen=True)
class Shape:
    """A mapping: its fields, and, per value of `discriminator`, the fields it adds."""

    fields: tuple[Field, ...]
    discriminator: str | None = None
    variants: Mapping[str, tuple[Field, ...]] = field(default_factory=dict)

    def allowed(self, variant: str | None = None) -> tuple[str, ...]:
        return tuple(f.name for f in (*self.fields, *self.variants.get(variant, ())))

    def get(self, name: str, variant: str | None = None) -> Field:
        for candidate in (*self.fields, *self.variants.get(variant, ())):
            if candidate.name == name:
                return candidate
        raise KeyError(name)


def text_problem(spec: Field, value: str) -> str | None:
    """The table's own check of a text value (pattern, choices): the reason, or None."""
    if spec.choices and value not in spec.choices:
        return spec.reason or f"must be one of: {', '.join(spec.choices)}"
    if spec.pattern is not None and not spec.pattern.fullmatch(value):
        return spec.reason or f"must match {spec.pattern.pattern}"
    return None


# Parts of GitHub's OIDC subjects (repo:OWNER/NAME:environment:ENV, ...:ref:refs/heads/BRANCH), which the
# CI roles' trust policies compare with StringEquals: no colon, and no IAM wildcard.
GITHUB_REPOSITORY_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
GITHUB_NAME_RE = re.compile(r"^[^:*?\\\s]+$")
GITHUB = Shape((
    Field("repository", "text", required=True, pattern=GITHUB_REPOSITORY_RE, reason="must be owner/name"),
    Field("branch", "text", pattern=GITHUB_NAME_RE, default="main",
          reason="may not contain a colon, *, ?, a backslash or a space"),
    Field("environment", "text", pattern=GITHUB_NAME_RE, default="production",
          reason="may not contain a colon, *, ?, a backslash or a space"),
    Field("offboarding_environment", "text", pattern=GITHUB_NAME_RE, default="offboarding",
          reason="may not contain a colon, *, ?, a backslash or a space",
          description="the environment of the offboard and cleanup jobs (approved by a person)"),
    Field("oidc_provider", "text", choices=("create", "existing"), default="create",
          description="create: TutorMail-Platform creates GitHub's OIDC provider; existing: the account already "
          "has it (IAM holds one provider per URL) and the roles trust that one"),
))


PLATFORM = Shape((
    Field("platform_domain", "domain", required=True, description="the platform's domain, e.g. sistematutor.com.br"),
    Field("hosted_zone_id", "text", required=True, pattern=ZONE_ID_RE,
          reason="not a Route 53 hosted zone id (Z followed by upper-case letters and digits)",
          description="Route 53 zone of the platform domain"),
    Field("account", "text", required=True, pattern=ACCOUNT_ID_RE, reason="must be a 12-digit AWS account id"),
    Field("region", "text", required=True, choices=SES_SMTP_REGIONS,
          reason=f"has no SES SMTP endpoint; use one of: {', '.join(SES_SMTP_REGIONS)}"),
    Field("default_local_part", "text", pattern=LOCAL_RE, reason="not a valid address local part",
          default="comunicacao", description="default sender: <this>@<slug>.<platform_domain>"),
    Field("link_validity_hours", "integer", minimum=1, maximum=168, default=24),
    Field("dkim_window_hours", "integer", minimum=1, maximum=720, default=72),
    Field("reputation", "mapping", json_schema=platform_reputation_schema,  # issue 14
          description="sending-health thresholds, alarm subscriptions, event log retention"),
    Field("smtp_key_max_age_days", "integer", minimum=1, maximum=3650, default=90,
          description="an SMTP access key older than this is reported by verify (rotate it)"),
    Field("github", "mapping", items=GITHUB,
          description="the repository whose GitHub Actions may assume the CI roles (absent: no CI roles)"),
    Field("receiving", "mapping", json_schema=platform_receiving_schema,  # issue 25
          description="SES receiving on the platform domain: the send-test --check address and replies to the "
          "platform addresses (absent: nothing is received)"),
))


_DNS_COMMON = (
    Field("domain", "domain", required=True),
    Field("provider", "text", required=True, choices=PROVIDERS),
    Field("mail_from", "domain", description="MAIL FROM domain, under domain (default bounce.<domain>); it must "
          "receive no mail (SES writes its one MX there)"),
    Field("dmarc", "text", choices=DMARC_MODES, default="publish",
          description="publish: we write _dmarc.<domain> (p=dmarc_policy), where none exists; keep: the domain's "
          "own DMARC record stays as it is and we write none"),
    Field("dmarc_policy", "text", choices=DMARC_POLICIES, default="none",
          description="the p= of the record written with dmarc: publish"),
)
DNS_ENTRY = Shape(_DNS_COMMON, discriminator="provider", variants={
    Provider.ROUTE53: (
        Field("hosted_zone_id", "text", required=True, pattern=ZONE_ID_RE,
              reason="not a Route 53 hosted zone id (Z followed by upper-case letters and digits)"),
        Field("zone_name", "domain", description="the zone's apex when the domain is below it"),
    ),
    Provider.RFC2136: (
        Field("server", "text", required=True, pattern=HOST_RE, reason="must be host[:port] (port 1-65535)"),
        Field("tsig_key", "text", required=True, pattern=SECRET_NAME_RE,
              reason="not a valid Secrets Manager secret name",
              description="name of the secret holding the TSIG key (tutormail/<slug>/...); never the key"),
    ),
    Provider.MANUAL: (),
})

ACCOUNT_MAPPING = Shape((
    Field("email", "email", required=True),
    Field("display_name", "display"),
))

COMPANY = Shape((
    Field("name", "display", required=True),
    Field("logo", "text", pattern=LOGO_RE, reason="must be a .png or .jpg file",
          description="path relative to the institutions directory"),
    Field("accounts", "names", description="account name -> address; comunicacao and news default "
          "to the platform address", items=Field("account", "account", items=ACCOUNT_MAPPING)),
    Field("rules", "names", description="Tutor e-mail rule -> account name",
          items=Field("account name", "text", pattern=NAME_RE, reason="must name an account")),
))

INSTITUTION = Shape((
    Field("name", "display", required=True, description="display name (De/Remetente)"),
    Field("slug", "text", pattern=LABEL_RE, description="derived from name when absent; equals the file name",
          reason="must be a DNS label: a-z, 0-9 and '-', 1-63 characters, no '-' at either end"),
    Field("dns", "list", items=DNS_ENTRY, description="domains whose DNS we may write (Cenário 1)"),
    Field("companies", "list", required=True, items=COMPANY, min_items=1),
    Field("smtp_key_generation", "integer", minimum=1, maximum=10_000, default=1),
    Field("smtp_key_keep_previous", "boolean", default=False),
    Field("platform_dmarc", "text", choices=PLATFORM_DMARC, default="inherit",
          description="DMARC of <slug>.<platform_domain>: inherit the platform domain's policy (no record "
          "written), or publish _dmarc.<slug>.<platform_domain> with this p= (never weaker than the inherited one)"),
    Field("reputation", "mapping", json_schema=reputation_schema,  # issue 14
          description="this institution's warn/pause levels, overriding platform.yaml's"),
    Field("replies_to", "email", description="replies to the platform address are forwarded here (issue 25); "
          "absent: the sender gets a short note, once a day, saying where to write"),
))
