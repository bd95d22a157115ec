"""`tutormail platform`: the platform file's account, Region, domain and zone, for pipelines."""

from __future__ import annotations

import argparse
from pathlib import Path

from tutormail.cli.output import emit_json, table
from tutormail.exitcodes import Exit
from tutormail.plan.loader import load_catalog


def cmd_platform(args: argparse.Namespace) -> int:
    platform = load_catalog(Path(args.institutions)).platform
    data = {"account": platform.account, "region": platform.region, "platform_domain": platform.platform_domain,
            "hosted_zone_id": platform.hosted_zone_id}
    if args.output == "json":
        emit_json(data)
    else:
        print(table(["field", "value"], sorted(data.items())))
    return Exit.OK


def register(add) -> None:
    add("platform", cmd_platform, "the platform file's account, region, domain and zone (for pipelines)")
