"""Shared paths and helpers for the tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
INSTITUTIONS = REPO / "institutions"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def cdk_context() -> dict:
    """The context the CDK CLI passes from cdk.json, so in-process apps synthesize the same."""
    return json.loads((REPO / "cdk.json").read_text())["context"]


@pytest.fixture
def examples():
    from tutormail.model import load_catalog

    return load_catalog(INSTITUTIONS)
