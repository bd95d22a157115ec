"""`tutormail schema`: the JSON Schema of an institution file."""

from __future__ import annotations

import argparse
import json

from tutormail.catalog.schema import institution_schema
from tutormail.exitcodes import Exit


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(institution_schema(), indent=2, sort_keys=True))
    return Exit.OK


def register(add) -> None:
    add("schema", cmd_schema, "print the JSON Schema of an institution file")
