"""JSON Schema of the files, for editors (yaml-language-server) and other tools.

Built from the field table (fields.py) the parser reads with, so names, types, patterns,
choices and ranges are the parser's own. It checks shape only; `tutormail validate` checks
meaning too (slug = file name, rules point at accounts, logos exist, ownership across files,
display names without control characters, ...).
"""

from __future__ import annotations

from typing import Any

from tutormail.catalog.fields import INSTITUTION, NAME_RE, PLATFORM, Field, Shape

SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"


def json_pattern(pattern: str) -> str:
    """The table's pattern as the whole-value match the parser does, in any JSON Schema validator.

    ECMA 262's `$` is the very end already; Python's `re` (behind Python validators) also lets `$`
    match before a final newline, which the lookahead rules out.
    """
    return pattern + r"(?!\n)" if pattern.endswith("$") else pattern


def _text(spec: Field) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if spec.choices:
        schema["enum"] = list(spec.choices)
    if spec.pattern is not None:
        schema["pattern"] = json_pattern(spec.pattern.pattern)
    return schema


def _names(spec: Field) -> dict[str, Any]:
    return {"type": "object", "propertyNames": {"pattern": json_pattern(NAME_RE.pattern)},
            "additionalProperties": field_schema(spec.items)}


def _list(spec: Field) -> dict[str, Any]:
    schema = {"type": "array", "items": shape_schema(spec.items)}
    if spec.min_items:
        schema["minItems"] = spec.min_items
    return schema


_BY_KIND = {
    "text": _text,
    "display": lambda spec: {"type": "string", "minLength": 1, "maxLength": 200},
    "domain": lambda spec: {"type": "string", "minLength": 3, "maxLength": 253},
    "email": lambda spec: {"type": "string", "format": "idn-email", "minLength": 3},
    "integer": lambda spec: {"type": "integer", "minimum": spec.minimum, "maximum": spec.maximum},
    "boolean": lambda spec: {"type": "boolean"},
    "list": _list,
    "names": _names,
    "account": lambda spec: {"oneOf": [field_schema(spec.items.get("email")), shape_schema(spec.items)]},
    "mapping": lambda spec: shape_schema(spec.items) if spec.items is not None else spec.json_schema(),
}


def field_schema(spec: Field) -> dict[str, Any]:
    schema = _BY_KIND[spec.kind](spec)
    if spec.description:
        schema["description"] = spec.description
    if spec.default is not None:
        schema["default"] = spec.default
    return schema


def _object(fields: tuple[Field, ...]) -> dict[str, Any]:
    return {"type": "object", "properties": {f.name: field_schema(f) for f in fields},
            "required": [f.name for f in fields if f.required], "additionalProperties": False}


def shape_schema(shape: Shape) -> dict[str, Any]:
    if shape.discriminator is None:
        return _object(shape.fields)
    # Each variant is a closed object of the common fields plus its own.
    base = _object(shape.fields)
    return {"type": "object", "required": base["required"],
            "properties": {shape.discriminator: base["properties"][shape.discriminator]},
            "allOf": [{"if": {"properties": {shape.discriminator: {"const": value}}},
                       "then": _object((*shape.fields, *extra))}
                      for value, extra in shape.variants.items()]}


def institution_schema() -> dict[str, Any]:
    return {"$schema": SCHEMA_DRAFT, "$id": "https://tutor-mail.invalid/schema/institution.json",
            "title": "tutor-mail institution", **shape_schema(INSTITUTION)}


def platform_schema() -> dict[str, Any]:
    return {"$schema": SCHEMA_DRAFT, "$id": "https://tutor-mail.invalid/schema/platform.json",
            "title": "tutor-mail platform.yaml", **shape_schema(PLATFORM)}
