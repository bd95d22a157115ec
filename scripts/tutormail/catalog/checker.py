"""Collects the problems of one file, reading values the way the field table describes them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from tutormail.catalog.fields import Field, Shape, text_problem
from tutormail.catalog.names import canonical_name, check_display_name, to_ascii_domain
from tutormail.catalog.problems import Problem, display_path
from tutormail.catalog.yaml_reader import FileProblem, line_of, read_document

# Keys that would hold key material; the file names a secret instead.
SECRET_VALUE_KEYS = ("secret", "tsig_secret", "tsig_key_secret", "key", "key_value", "password")


def where(prefix: str, key: Any) -> str:
    """The field's path as the reader finds it; an odd key (empty, spaces, not text) shown quoted."""
    plain = isinstance(key, str) and key and key.isprintable() and key.strip() == key
    text = key if plain else repr(key)
    return f"{prefix}.{text}" if prefix else text


class Checker:
    """The problems of one file, each with its line and field."""

    def __init__(self, path: Path):
        self.file = display_path(path)
        self.problems: list[Problem] = []

    def add(self, node: Any, key: Any, field_name: str, reason: str) -> None:
        line = line_of(node, key) or line_of(node)
        self.problems.append(Problem(self.file, line, field_name, reason))

    def add_file(self, line: int, field_name: str, reason: str) -> None:
        self.problems.append(Problem(self.file, line, field_name, reason))

    def unknown(self, node: Mapping, shape: Shape | Iterable[str], prefix: str, variant: str | None = None) -> None:
        """A problem for every key the shape (or the given key names) does not allow."""
        allowed = shape.allowed(variant) if isinstance(shape, Shape) else tuple(shape)
        for key in node:
            if key in allowed:
                continue
            if key in SECRET_VALUE_KEYS:
                self.add(node, key, where(prefix, key), "key material never goes in an institution file: "
                         "store it in Secrets Manager and name the secret in tsig_key")
            else:
                self.add(node, key, where(prefix, key), f"unknown field (allowed: {', '.join(allowed)})")

    def _present(self, node: Mapping, spec: Field, prefix: str) -> bool:
        if spec.name in node and node[spec.name] is not None:
            return True
        if spec.required:
            self.add(node, None, where(prefix, spec.name), "is required")
        return False

    def text(self, node: Mapping, spec: Field, prefix: str) -> str | None:
        """A text field checked against its pattern and choices; its default when absent."""
        if not self._present(node, spec, prefix):
            return spec.default
        value = node[spec.name]
        if not isinstance(value, str):
            self.add(node, spec.name, where(prefix, spec.name),
                     f"must be a text, got {type(value).__name__} (quote it)")
            return None
        reason = text_problem(spec, value)
        if reason:
            self.add(node, spec.name, where(prefix, spec.name), reason)
            return None
        return value

    def display(self, node: Mapping, spec: Field, prefix: str) -> str | None:
        value = self.text(node, spec, prefix)
        if value is not None and (reason := check_display_name(value)):
            self.add(node, spec.name, where(prefix, spec.name), reason)
            return None
        return None if value is None else canonical_name(value)

    def domain(self, node: Mapping, spec: Field, prefix: str) -> str | None:
        value = self.text(node, spec, prefix)
        if value is None:
            return None
        try:
            return to_ascii_domain(value)
        except ValueError as exc:
            self.add(node, spec.name, where(prefix, spec.name), str(exc))
            return None

    def integer(self, node: Mapping, spec: Field, prefix: str) -> int:
        if spec.name not in node:
            return spec.default
        value = node[spec.name]
        if isinstance(value, bool) or not isinstance(value, int) or not spec.minimum <= value <= spec.maximum:
            self.add(node, spec.name, where(prefix, spec.name),
                     f"must be a whole number from {spec.minimum} to {spec.maximum}")
            return spec.default
        return value

    def boolean(self, node: Mapping, spec: Field, prefix: str) -> bool:
        value = node.get(spec.name, spec.default)
        if not isinstance(value, bool):
            self.add(node, spec.name, where(prefix, spec.name), "must be true or false")
            return spec.default
        return value


def mapping_document(path: Path, chk: Checker, what: str) -> Any:
    """The file's YAML mapping, or None with the problem recorded (unreadable, too big, not a mapping)."""
    try:
        doc = read_document(path)
    except FileProblem as exc:
        chk.problems.append(exc.problem(chk.file))
        return None
    if not isinstance(doc, CommentedMap):
        chk.add_file(1, "(file)", f"must be a YAML mapping ({what})")
        return None
    return doc
