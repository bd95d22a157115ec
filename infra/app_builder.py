"""Builds the whole CDK app from a catalogue: the one place stacks are composed.

`app.py` reads context and calls this; tests call it directly on the same catalogue.
"""

from __future__ import annotations

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks
from tutormail.catalog.model import Catalog
from tutormail.plan.build import PLATFORM_STACK, build_plan, stack_name

from .institution_stack import InstitutionStack
from .platform_stack import PlatformStack
from .template_hash import record_template_hash


def build_app(app: App, catalog: Catalog, *, nag: bool = True) -> App:
    platform = catalog.platform
    env = Environment(account=platform.account, region=platform.region)
    record_template_hash(PlatformStack(app, PLATFORM_STACK, platform=platform, env=env))
    for slug, institution in catalog.institutions.items():
        record_template_hash(InstitutionStack(app, stack_name(slug), plan=build_plan(institution, platform), env=env))
    if nag:
        # A finding not acknowledged (with its reason, next to the resource) stops synthesis.
        Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return app
