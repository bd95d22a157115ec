"""`tutormail out-of-date`: the stacks whose synthesized template differs from what is deployed, and
the deployed institutions with no file."""

from __future__ import annotations

import argparse
from pathlib import Path

from tutormail.aws import client as aws
from tutormail.cli.output import emit_json, section, table
from tutormail.exitcodes import Exit
from tutormail.lifecycle.out_of_date import assembly_hashes, compare, deployed_stacks
from tutormail.plan.loader import load_catalog


def cmd_out_of_date(args: argparse.Namespace) -> int:
    catalog = load_catalog(Path(args.institutions))
    wanted = assembly_hashes(Path(args.cdk_out))
    report = compare(list(catalog.institutions), wanted,
                     deployed_stacks(aws.Clients(catalog.platform.region)["cloudformation"]))
    if args.output == "json":
        emit_json({"region": catalog.platform.region, "deploy": report.deploy, "up_to_date": report.up_to_date,
                   "offboard": report.offboard})
        return Exit.OK
    section("Stacks to deploy", table(["stack", "reason", "template hash"],
                                      [[d["stack"], d["reason"], d["template_hash"][:12]] for d in report.deploy]))
    section("Institutions with a deployed stack and no file (offboarding)",
            "\n".join(report.offboard) or "none")
    print(f"{len(report.up_to_date)} stack(s) up to date")
    return Exit.OK


def register(add) -> None:
    stale = add("out-of-date", cmd_out_of_date, "stacks whose synthesized template differs from what is deployed, "
                "and deployed institutions with no file")
    stale.add_argument("--cdk-out", default="cdk.out", metavar="DIR", help="cloud assembly of a full cdk synth")
