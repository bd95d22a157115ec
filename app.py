#!/usr/bin/env python3
"""CDK entry point: the only place that reads context.

  -c institutions_dir=DIR     read another directory (default: institutions)
  -c institutions=a,b         only these institutions' stacks (CI's fast path)
  -c nag=false                skip the cdk-nag checks (they run by default)
"""

import sys

from aws_cdk import App
from tutormail.catalog.problems import ConfigurationError
from tutormail.plan.loader import load_catalog

from infra.app_builder import build_app

# Stacks carry no CDK version metadata resource: hundreds of stacks would each get one.
app = App(analytics_reporting=False)
directory = app.node.try_get_context("institutions_dir") or "institutions"
only = app.node.try_get_context("institutions")
only = [s.strip() for s in only.split(",") if s.strip()] if only else None
nag = str(app.node.try_get_context("nag") if app.node.try_get_context("nag") is not None else "true")
try:
    catalog = load_catalog(directory, only=only)
except ConfigurationError as exc:
    for problem in exc.problems:
        print(problem, file=sys.stderr)
    print("institution files are invalid: nothing synthesized", file=sys.stderr)
    sys.exit(2)
build_app(app, catalog, nag=nag.lower() != "false")
try:
    app.synth()
except RuntimeError as exc:  # jsii carries CDK's validation failures (cdk-nag findings) this way
    print(f"synthesis failed: {exc}", file=sys.stderr)
    sys.exit(1)
