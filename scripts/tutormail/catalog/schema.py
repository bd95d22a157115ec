"""JSON Schema of an institution file, for editors (yaml-language-server) and other tools.

It checks shape only; `tutormail validate` checks meaning (slug = file name, rules point at
accounts, logos exist, ...).
"""

from __future__ import annotations

from typing import Any

from tutormail.catalog.model import DMARC_POLICIES, NAME_RE, PROVIDERS, ZONE_ID_RE
from tutormail.catalog.reputation_fields import reputation_schema

_EMAIL = {"type": "string", "format": "idn-email", "minLength": 3}
_DOMAIN = {"type": "string", "minLength": 3}


def institution_schema() -> dict[str, Any]:
    common = {"domain": _DOMAIN, "provider": {"enum": list(PROVIDERS)}, "mail_from": _DOMAIN,
              "dmarc_policy": {"enum": list(DMARC_POLICIES)}}
    route53 = {**common, "hosted_zone_id": {"type": "string", "pattern": ZONE_ID_RE.pattern},
               "zone_name": _DOMAIN}
    rfc2136 = {**common, "server": {"type": "string", "pattern": r"^[^\s:]+(:\d{1,5})?$"},
               "tsig_key": {"type": "string", "description": "name of the secret holding the key"}}

    def provider(name: str, props: dict, required: list[str]) -> dict:
        return {"if": {"properties": {"provider": {"const": name}}},
                "then": {"properties": props, "required": ["domain", "provider", *required],
                         "additionalProperties": False}}

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://tutor-mail.invalid/schema/institution.json",
        "title": "tutor-mail institution",
        "type": "object",
        "required": ["name", "companies"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1, "description": "display name (De/Remetente)"},
            "slug": {"type": "string", "pattern": r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"},
            "smtp_key_generation": {"type": "integer", "minimum": 1},
            "smtp_key_keep_previous": {"type": "boolean"},
            "reputation": reputation_schema(),  # issue 14
            "dns": {"type": "array", "items": {
                "type": "object", "required": ["domain", "provider"],
                "properties": {"provider": {"enum": list(PROVIDERS)}},
                "allOf": [provider("route53", route53, ["hosted_zone_id"]),
                          provider("rfc2136", rfc2136, ["server", "tsig_key"]),
                          provider("manual", common, [])]}},
            "companies": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["name"], "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "logo": {"type": "string", "pattern": r"\.(png|jpe?g|PNG|JPE?G)$"},
                    "accounts": {"type": "object", "propertyNames": {"pattern": NAME_RE.pattern},
                                 "additionalProperties": {"oneOf": [_EMAIL, {
                                     "type": "object", "required": ["email"], "additionalProperties": False,
                                     "properties": {"email": _EMAIL,
                                                    "display_name": {"type": "string", "minLength": 1}}}]}},
                    "rules": {"type": "object", "propertyNames": {"pattern": NAME_RE.pattern},
                              "additionalProperties": {"type": "string", "pattern": NAME_RE.pattern}},
                }}},
        },
    }
