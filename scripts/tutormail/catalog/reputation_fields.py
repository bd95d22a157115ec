"""The `reputation:` fields of platform.yaml and of an institution file (issue 14).

Kept apart from model.py so the catalogue's own structure can change without touching them:
model.py calls `parse_platform_reputation` / `parse_institution_reputation` with its checker.

SES reviews an account at a 5% bounce rate or 0.1% complaint rate and may pause it at 10% /
0.5% (https://docs.aws.amazon.com/ses/latest/dg/faqs-enforcement.html). One institution must be
stopped well before the whole account gets there, so the defaults sit far below: warn at 2% /
0.05%, pause at 4% / 0.08%; below `min_volume` messages in the alarm's hour the hour's bounces
and complaints are counted over `min_volume` (infra/reputation.py's volume_expression).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from ruamel.yaml.comments import CommentedMap

THRESHOLD_KEYS = ("warn_bounce_rate", "warn_complaint_rate", "pause_bounce_rate", "pause_complaint_rate",
                  "min_volume")
PLATFORM_KEYS = (*THRESHOLD_KEYS, "notify", "event_retention_days")
# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy, retentionInDays).
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                  2922, 3288, 3653)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# SES's own review levels: a pause level at or above them protects nobody.
SES_REVIEW = {"bounce": 0.05, "complaint": 0.001}


@dataclass(frozen=True)
class Thresholds:
    warn_bounce_rate: float = 0.02
    warn_complaint_rate: float = 0.0005
    pause_bounce_rate: float = 0.04
    pause_complaint_rate: float = 0.0008
    min_volume: int = 100


@dataclass(frozen=True)
class PlatformReputation:
    thresholds: Thresholds = field(default_factory=Thresholds)
    notify: tuple[str, ...] = ()  # e-mail subscriptions of the platform team's SNS topic
    event_retention_days: int = 90


def _rate(node: CommentedMap, key: str, where: str, chk: Any) -> float | None:
    value = node[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        chk.add(node, key, f"{where}.{key}", "must be a fraction between 0 and 1 (0.02 means 2%)")
        return None
    return float(value)


def _thresholds(node: CommentedMap, where: str, chk: Any, base: Thresholds) -> Thresholds:
    values: dict[str, Any] = {}
    for key in THRESHOLD_KEYS:
        if key not in node:
            continue
        if key == "min_volume":
            value = node[key]
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1_000_000:
                chk.add(node, key, f"{where}.{key}", "must be a whole number from 1 to 1000000")
            else:
                values[key] = value
        elif (rate := _rate(node, key, where, chk)) is not None:
            values[key] = rate
    result = replace(base, **values)
    for kind in ("bounce", "complaint"):
        warn, pause = getattr(result, f"warn_{kind}_rate"), getattr(result, f"pause_{kind}_rate")
        if warn >= pause:
            chk.add(node, f"warn_{kind}_rate" if f"warn_{kind}_rate" in node else None,
                    f"{where}.warn_{kind}_rate", f"must be below pause_{kind}_rate ({pause:g})")
        if pause >= SES_REVIEW[kind]:
            chk.add(node, f"pause_{kind}_rate" if f"pause_{kind}_rate" in node else None,
                    f"{where}.pause_{kind}_rate", f"must be below SES's account review level "
                    f"({SES_REVIEW[kind]:g}), or one institution can get the whole account reviewed")
    return result


def _mapping(doc: CommentedMap, chk: Any) -> CommentedMap | None:
    node = doc.get("reputation")
    if node is None:
        return None
    if not isinstance(node, CommentedMap):
        chk.add(doc, "reputation", "reputation", "must be a mapping")
        return None
    return node


def parse_platform_reputation(doc: CommentedMap, chk: Any) -> PlatformReputation:
    node = _mapping(doc, chk)
    if node is None:
        return PlatformReputation()
    chk.unknown(node, PLATFORM_KEYS, "reputation")
    thresholds = _thresholds(node, "reputation", chk, Thresholds())
    notify: list[str] = []
    raw = node.get("notify") or []
    if not isinstance(raw, list):
        chk.add(node, "notify", "reputation.notify", "must be a list of e-mail addresses")
        raw = []
    for index, address in enumerate(raw):
        if not isinstance(address, str) or not EMAIL_RE.match(address):
            chk.add(raw, index, f"reputation.notify[{index}]", "must be an e-mail address")
        else:
            notify.append(address)
    retention = node.get("event_retention_days", 90)
    if retention not in RETENTION_DAYS or isinstance(retention, bool):
        chk.add(node, "event_retention_days", "reputation.event_retention_days",
                "must be a CloudWatch Logs retention: " + ", ".join(map(str, RETENTION_DAYS)))
        retention = 90
    return PlatformReputation(thresholds, tuple(notify), retention)


def parse_institution_reputation(doc: CommentedMap, chk: Any, platform: PlatformReputation | None
                                 ) -> Thresholds | None:
    """The institution's own thresholds (the platform's with its overrides), or None."""
    node = _mapping(doc, chk)
    if node is None:
        return None
    chk.unknown(node, THRESHOLD_KEYS, "reputation")
    return _thresholds(node, "reputation", chk, platform.thresholds if platform else Thresholds())


def thresholds_of(institution: Any, platform: Any) -> Thresholds:
    """The thresholds that apply to an institution: its own, else the platform's."""
    return institution.reputation or platform.reputation.thresholds


def _threshold_properties() -> dict[str, Any]:
    rate = {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}
    properties: dict[str, Any] = {key: rate for key in THRESHOLD_KEYS if key != "min_volume"}
    properties["min_volume"] = {"type": "integer", "minimum": 1, "maximum": 1_000_000}
    return properties


def reputation_schema() -> dict[str, Any]:
    """The `reputation:` mapping of an institution file, for the JSON Schema (shape only)."""
    return {"type": "object", "additionalProperties": False, "properties": _threshold_properties()}


def platform_reputation_schema() -> dict[str, Any]:
    """The `reputation:` mapping of platform.yaml."""
    properties = {**_threshold_properties(),
                  "notify": {"type": "array", "items": {"type": "string", "format": "email"}},
                  "event_retention_days": {"enum": list(RETENTION_DAYS)}}
    return {"type": "object", "additionalProperties": False, "properties": properties}
