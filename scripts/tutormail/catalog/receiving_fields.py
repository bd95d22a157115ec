"""Receiving on the platform domain (issue 25): platform.yaml's `receiving:` and an institution's `replies_to`.

Kept apart from the parsers, as reputation_fields.py is: they call `parse_platform_receiving` and
`parse_replies_to` with their checker.

SES receives mail only in some regions, and all the receiving resources but the S3 bucket must be in
the region of the endpoint the MX points to
(https://docs.aws.amazon.com/ses/latest/dg/regions.html#region-receive-email). The list below is the
one that page gives (US East (N. Virginia), US West (Oregon), Europe (Ireland)); a region it does not
name is refused, the stricter reading. The way out is a platform in a receiving region, or no
`receiving:` (no --check, replies bounce as before). Receiving in a region other than the platform's
is not built: the MX records and the platform subdomains' identities are in the platform's region.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap

from tutormail.catalog.names import LABEL_RE, Address, is_same_or_subdomain

RECEIVING_REGIONS = ("eu-west-1", "us-east-1", "us-west-2")
PLATFORM_KEYS = ("check_subdomain", "retention_days")
# Received mail holds students' words: kept only long enough to be read back or forwarded.
MAX_RETENTION_DAYS = 30
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class PlatformReceiving:
    check_subdomain: str = "check"  # check@<check_subdomain>.<platform_domain>
    retention_days: int = 3  # S3 lifecycle expiry of received messages


def check_domain(platform: Any) -> str:
    return f"{platform.receiving.check_subdomain}.{platform.platform_domain}"


def check_address(platform: Any) -> str:
    return f"check@{check_domain(platform)}"


def inbound_endpoint(region: str) -> str:
    """The MX target of a receiving region (https://docs.aws.amazon.com/ses/latest/dg/regions.html#region-receive-email)."""
    return f"inbound-smtp.{region}.amazonaws.com"


def _check_subdomain(node: CommentedMap, chk: Any) -> str:
    value = node.get("check_subdomain", "check")
    if not isinstance(value, str) or not LABEL_RE.fullmatch(value):
        chk.add(node, "check_subdomain", "receiving.check_subdomain",
                "must be a DNS label: a-z, 0-9 and '-', 1-63 characters, no '-' at either end")
        return "check"
    return value


def _retention(node: CommentedMap, chk: Any) -> int:
    value = node.get("retention_days", 3)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RETENTION_DAYS:
        chk.add(node, "retention_days", "receiving.retention_days",
                f"must be a whole number of days from 1 to {MAX_RETENTION_DAYS} (S3 lifecycle expiry)")
        return 3
    return value


def _receiving_region(doc: CommentedMap, chk: Any) -> None:
    region = doc.get("region")
    if isinstance(region, str) and region not in RECEIVING_REGIONS:
        chk.add(doc, "receiving", "receiving", f"SES does not receive mail in the platform's region {region} "
                "(https://docs.aws.amazon.com/ses/latest/dg/regions.html#region-receive-email): the platform must "
                f"be in a region that does ({', '.join(RECEIVING_REGIONS)}), or leave receiving: out (no "
                "send-test --check, and replies to the platform addresses are not received)")


def parse_platform_receiving(doc: CommentedMap, chk: Any) -> PlatformReceiving | None:
    """`receiving:` of platform.yaml; absent, nothing is received (no bucket, rules nor MX)."""
    node = doc.get("receiving")
    if node is None:
        return None
    if not isinstance(node, CommentedMap):
        chk.add(doc, "receiving", "receiving", "must be a mapping (check_subdomain, retention_days)")
        return None
    chk.unknown(node, PLATFORM_KEYS, "receiving")
    _receiving_region(doc, chk)
    return PlatformReceiving(_check_subdomain(node, chk), _retention(node, chk))


def parse_replies_to(doc: CommentedMap, chk: Any, platform: Any) -> str | None:
    """`replies_to`: where replies to the platform address are forwarded (ASCII, never the platform's
    own domain: a forward to it would come back to the same rule)."""
    if "replies_to" not in doc:
        return None
    raw = doc["replies_to"]
    if not isinstance(raw, str) or not EMAIL_RE.match(raw):
        chk.add(doc, "replies_to", "replies_to", "must be an e-mail address")
        return None
    try:
        address = Address.parse(raw)
    except ValueError as exc:
        chk.add(doc, "replies_to", "replies_to", f"{raw!r}: {exc}")
        return None
    if platform is not None and is_same_or_subdomain(address.domain, platform.platform_domain):
        chk.add(doc, "replies_to", "replies_to", f"is on the platform domain {platform.platform_domain}, which "
                "only receives to forward or answer: give an inbox the institution reads")
        return None
    return address.ascii


def platform_receiving_schema() -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": {
        "check_subdomain": {"type": "string", "pattern": LABEL_RE.pattern},
        "retention_days": {"type": "integer", "minimum": 1, "maximum": MAX_RETENTION_DAYS}}}


def check_subdomain_taken(catalog: Any) -> list:
    """The check subdomain is the platform's: an institution with that slug would have its replies
    stored as test messages (and its platform address's MX would be the check address's)."""
    from tutormail.catalog.problems import Problem

    receiving = catalog.platform.receiving
    if receiving is None or receiving.check_subdomain not in catalog.institutions:
        return []
    institution = catalog.institutions[receiving.check_subdomain]
    return [Problem(institution.source, 1, "slug", f"{institution.slug!r} is the platform's receiving.check_subdomain "
                    "(where send-test --check mail arrives): choose another slug or another check_subdomain")]
