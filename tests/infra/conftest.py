"""One synthesized app per test module: building it goes through jsii and takes seconds."""

from __future__ import annotations

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template
from tutormail.plan.loader import load_catalog

from infra.app_builder import build_app
from tests.conftest import INSTITUTIONS, cdk_context


def synthesize(catalog, nag: bool = True) -> App:
    app = App(context=cdk_context())
    build_app(app, catalog, nag=nag)
    app.synth()  # raises when cdk-nag reports a finding nobody acknowledged
    return app


@pytest.fixture(scope="session")
def example_app() -> App:
    return synthesize(load_catalog(INSTITUTIONS))


@pytest.fixture(scope="session")
def xy_template(example_app) -> Template:
    return Template.from_stack(example_app.node.find_child("TutorMail-instituicao-xy"))
