"""`tutormail preflight [SLUG...|--all]`: parse, run the preflight, render."""

from __future__ import annotations

import argparse
from pathlib import Path

from tutormail.aws import client as aws
from tutormail.aws.ses import Ses
from tutormail.catalog.model import load_catalog
from tutormail.catalog.problems import ConfigurationError, Problem
from tutormail.cli.output import emit_json, section, table
from tutormail.plan.build import build_plan
from tutormail.preflight.check import run


def add_parser(add) -> None:
    parser = add("preflight", cmd_preflight, "before a first deploy: what already exists at every name we would "
                 "write, identities already in SES, the SES account's state; conflicts with the action to take")
    parser.add_argument("slugs", nargs="*", metavar="SLUG")
    parser.add_argument("--all", action="store_true", help="every institution in the directory")


def cmd_preflight(args: argparse.Namespace) -> int:
    if not args.all and not args.slugs:
        raise ConfigurationError([Problem("preflight", 0, "SLUG", "name institutions or use --all")])
    catalog = load_catalog(Path(args.institutions), only=None if args.all else args.slugs)
    platform = catalog.platform
    plans = [build_plan(catalog.institutions[slug], platform) for slug in catalog.institutions]
    data, code = run(plans, Ses(platform), aws.client("cloudformation", platform.region),
                     aws.client("route53", platform.region), args.runtime.dns)
    if args.output == "json":
        emit_json({"exit_code": int(code), **data})
        return code
    if data["account_summary"]:
        print(data["account_summary"])
    for report in data["institutions"]:
        rows = [[n["name"], n["type"], n["source"], " ".join(n["found"]) or "-", n["action"], n["reason"]]
                for n in report.get("names", [])]
        body = table(["name", "type", "asked", "there now", "action", "why"], rows) if rows else ""
        problems = report["conflicts"] or ([report["error"]] if "error" in report else [])
        body += "\n" + ("\n".join(f"CONFLICT: {c}" for c in problems) if problems else "clear: nothing in the way")
        section(report["institution"], body)
    return code
