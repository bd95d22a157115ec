#!/usr/bin/env python3
"""`tutormail out-of-date` over N deployed institutions (default 300) on the sandbox.

Synthesizes N generated institutions in process (the real CDK app, cdk-nag off), then records
stacks in the sandbox's CloudFormation: each carries the template hash it was "deployed" with as
the TemplateHash parameter, on a one-resource stand-in template (the detection reads only
DescribeStacks; deploying N real stacks through the CDK CLI would take most of an hour here).
Ten stacks carry an old hash, and five stacks have no file (institutions to offboard). Times the
detection (hashing the assembly, DescribeStacks pages, the comparison) against a baseline that
describes stacks one by one, counting every AWS call.

    .venv/bin/python bench/out_of_date.py [--institutions 300]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import boto3

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aws_cdk import App  # noqa: E402
from tutormail.lifecycle.out_of_date import (  # noqa: E402
    HASH_PARAMETER,
    assembly_hashes,
    compare,
    deployed_stacks,
)
from tutormail.plan.build import PLATFORM_STACK, stack_name  # noqa: E402
from tutormail.plan.loader import load_catalog  # noqa: E402

from infra.app_builder import build_app  # noqa: E402
from sandbox import launcher  # noqa: E402

INSTITUTION = """name: Stale {n}
companies:
  - name: Stale {n}
    accounts:
      atendimento: atendimento@stale{n}.example.com.br
"""
STAND_IN = json.dumps({"Parameters": {HASH_PARAMETER: {"Type": "String", "Default": "none"}},
                       "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}})
STALE, GONE = 10, 5
SANDBOX_PAGE = 50  # moto's DescribeStacks page; AWS ends a page at 1 MB of stack descriptions


def counted(client, calls: dict):
    def count(event_name, **_):
        operation = event_name.split(".")[-1]
        calls[operation] = calls.get(operation, 0) + 1

    client.meta.events.register("before-call.*.*", count)
    return client


def record(cfn, hashes: dict[str, str], slugs: list[str]) -> None:
    for number, name in enumerate(sorted(hashes)):
        value = "0" * 64 if number < STALE else hashes[name]
        cfn.create_stack(StackName=name, TemplateBody=STAND_IN,
                         Parameters=[{"ParameterKey": HASH_PARAMETER, "ParameterValue": value}])
    for n in range(GONE):
        cfn.create_stack(StackName=stack_name(f"gone-{n}"), TemplateBody=STAND_IN)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--institutions", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "institutions"
        directory.mkdir()
        shutil.copy(REPO / "institutions" / "platform.yaml", directory)
        for n in range(args.institutions):
            (directory / f"stale-{n}.yaml").write_text(INSTITUTION.format(n=n))
        catalog = load_catalog(directory)
        started = time.perf_counter()
        app = App(outdir=str(Path(tmp) / "cdk.out"), context=json.loads((REPO / "cdk.json").read_text())["context"])
        build_app(app, catalog, nag=False)
        app.synth()
        print(f"synthesized {args.institutions} institutions in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
        state = Path(tmp) / "sandbox"
        os.environ.update(launcher.up(state, REPO / "institutions"))
        try:
            region = catalog.platform.region
            slugs = sorted(catalog.institutions)
            record(boto3.client("cloudformation", region_name=region),
                   assembly_hashes(Path(tmp) / "cdk.out"), slugs)
            results = {}
            for name in ("baseline", "out-of-date"):
                calls: dict[str, int] = {}
                cfn = counted(boto3.client("cloudformation", region_name=region), calls)
                started = time.perf_counter()
                wanted = assembly_hashes(Path(tmp) / "cdk.out")
                if name == "baseline":
                    for stack in [PLATFORM_STACK, *(stack_name(s) for s in slugs)]:
                        cfn.describe_stacks(StackName=stack)
                    report = None
                else:
                    report = compare(slugs, wanted, deployed_stacks(cfn))
                results[name] = (time.perf_counter() - started, calls, report)
        finally:
            launcher.down(state)
    print(f"{'case':<12} {'seconds':>8} {'AWS calls':>10}  calls by operation")
    for name, (elapsed, calls, _) in results.items():
        print(f"{name:<12} {elapsed:>8.2f} {sum(calls.values()):>10}  {json.dumps(calls, sort_keys=True)}")
    elapsed, calls, report = results["out-of-date"]
    listed = args.institutions + 1 + GONE
    pages = math.ceil(listed / SANDBOX_PAGE)
    print(f"stacks listed {listed}; to deploy {len(report.deploy)} (expected {STALE}); to offboard "
          f"{len(report.offboard)} (expected {GONE}); AWS calls {sum(calls.values())} = one per page of "
          f"{SANDBOX_PAGE} stacks ({pages}); 1000 stacks: {math.ceil(1000 / SANDBOX_PAGE)} calls (target <= 20)")
    met = len(report.deploy) == STALE and len(report.offboard) == GONE and sum(calls.values()) <= pages
    print("targets met" if met else "targets NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
