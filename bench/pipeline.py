#!/usr/bin/env python3
"""`tutormail pipeline deploy` for a change to every institution: its own cost, and the wall time in AWS.

1. Modelled (no AWS): a change to every one of `--model-stacks` stacks (default 1000), each update
   taking `--update-minutes` (default 2; AWS publishes no typical figure, so the bench prints a
   range), deployed by the old workflow's serial loop against the pipeline's waves of
   `cdk deploy --concurrency N` sized by `--stack-minutes` (docs/ARCHITECTURE.md, "The pipeline").
   Checks every wave ends before its session (one hour, less the margin) and counts the sessions.
2. Measured on the sandbox, `--institutions` generated institutions (default 100): the pipeline's
   own work per institution (reading what is out of date, preflight and plan-changes, publishing,
   records, handoff, verify) in one process, with the CDK CLI replaced by a stand-in that updates
   each stack's recorded template hash (the sandbox deploys in milliseconds; CloudFormation's time is
   part 1's). AWS calls are counted by the sandbox's IAM decisions. The baseline, in the same run,
   is the old workflow's loop: `preflight`, `plan-changes`, `dns-publish`, `dns-records`, `handoff`
   and `verify` as one process each, for `--baseline` institutions (default 5), per institution.

    .venv/bin/python bench/pipeline.py [--institutions 100] [--model-stacks 1000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import boto3

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aws_cdk import App  # noqa: E402
from tutormail.aws import client as aws  # noqa: E402
from tutormail.lifecycle.out_of_date import HASH_PARAMETER, assembly_hashes  # noqa: E402
from tutormail.pipeline import deploy, jobs  # noqa: E402
from tutormail.pipeline.credentials import MARGIN, SESSION_SECONDS, Ambient  # noqa: E402
from tutormail.plan.build import PLATFORM_STACK, stack_name  # noqa: E402
from tutormail.plan.loader import load_catalog  # noqa: E402
from tutormail.runtime import Runtime  # noqa: E402

from infra.app_builder import build_app  # noqa: E402
from sandbox import launcher  # noqa: E402

INSTITUTION = "name: Escola {n}\nslug: escola-{n}\ncompanies:\n  - name: Escola {n}\n"
STAND_IN = json.dumps({"Parameters": {HASH_PARAMETER: {"Type": "String", "Default": "none"}},
                       "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}})
OLD_LOOP = (("preflight",), ("plan-changes",), ("dns-publish",), ("dns-records", "--format", "zone"),
            ("handoff", "--out", "{tmp}/handoff/{slug}"), ("verify",))


def model(stacks: int, update: timedelta, concurrency: int, bound: timedelta) -> None:
    session = timedelta(seconds=SESSION_SECONDS) - MARGIN
    waves = deploy.waves([str(n) for n in range(stacks)], concurrency, bound, session)
    times = [update * math.ceil(len(w) / concurrency) for w in waves]
    serial = update * stacks
    total = sum(times, timedelta())
    fits = all(deploy.wave_time(len(w), concurrency, bound) <= session and t <= session
               for w, t in zip(waves, times, strict=True))
    print(f"update {update.total_seconds() / 60:g} min/stack: serial {serial.total_seconds() / 3600:.1f} h, "
          f"pipeline {total.total_seconds() / 60:.0f} min in {len(waves)} wave(s) of at most {len(waves[0])} "
          f"(ratio {serial / total:.1f}x; within one hour: {total <= timedelta(hours=1)}; every wave inside its "
          f"session: {fits}; sessions: {len(waves) + 1})")


def decisions(env: dict) -> int:
    with urllib.request.urlopen(env["TUTORMAIL_SANDBOX_URL"] + "/_sandbox/iam-decisions") as answer:  # noqa: S310
        return len(json.loads(answer.read())["decisions"])


def stand_in_runner(cfn, hashes: dict[str, str], counter: list[float]):
    """What `cdk deploy` leaves: each stack of the wave with its new template hash recorded."""
    def run(command: list[str], log_file: Path) -> int:
        started = time.perf_counter()
        for stack in command[2:command.index("--app")]:
            cfn.update_stack(StackName=stack, TemplateBody=STAND_IN,
                             Parameters=[{"ParameterKey": HASH_PARAMETER, "ParameterValue": hashes[stack]}])
        counter.append(time.perf_counter() - started)
        return 0
    return run


def measured(count: int, sample: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "institutions"
        directory.mkdir()
        shutil.copy(REPO / "institutions" / "platform.yaml", directory)
        for n in range(count):
            (directory / f"escola-{n}.yaml").write_text(INSTITUTION.format(n=n))
        catalog = load_catalog(directory)
        out = Path(tmp) / "cdk.out"
        app = App(outdir=str(out), context=json.loads((REPO / "cdk.json").read_text())["context"])
        build_app(app, catalog, nag=False)
        app.synth()
        hashes = assembly_hashes(out)
        state = Path(tmp) / "sandbox"
        env = launcher.up(state, directory)
        os.environ.update(env)
        try:
            cfn = boto3.client("cloudformation", region_name=catalog.platform.region)
            cfn.create_stack(StackName=PLATFORM_STACK, TemplateBody=STAND_IN, Parameters=[
                {"ParameterKey": HASH_PARAMETER, "ParameterValue": hashes[PLATFORM_STACK]}])
            for slug in catalog.institutions:
                cfn.create_stack(StackName=stack_name(slug), TemplateBody=STAND_IN,
                                 Parameters=[{"ParameterKey": HASH_PARAMETER, "ParameterValue": "0" * 64}])
            # the baseline: the old loop, one process per command and institution
            started = time.perf_counter()
            for slug in sorted(catalog.institutions)[:sample]:
                for command in OLD_LOOP:
                    args = [a.format(tmp=tmp, slug=slug) for a in command]
                    subprocess.run([str(REPO / ".venv" / "bin" / "tutormail"), args[0], slug, *args[1:]],
                                   env={**os.environ, "TUTORMAIL_INSTITUTIONS": str(directory)}, cwd=tmp,
                                   capture_output=True, check=False)
            baseline = (time.perf_counter() - started) / sample
            # the pipeline, in process, as one job
            aws.reuse_clients()
            runtime = Runtime.from_environ({**os.environ, "TUTORMAIL_INSTITUTIONS": str(directory)})
            cdk_time: list[float] = []
            job = jobs.Job(catalog=catalog, runtime=runtime, credentials=Ambient(), artifacts=Path(tmp) / "artifacts",
                           target=deploy.Target(catalog.platform.region, out),
                           runner=stand_in_runner(cfn, hashes, cdk_time))
            calls_before = decisions(env)
            started = time.perf_counter()
            report = jobs.deploy_job(job)
            elapsed = time.perf_counter() - started
            calls = decisions(env) - calls_before - count  # less the stand-in's own UpdateStack calls
        finally:
            launcher.down(state)
    own = (elapsed - sum(cdk_time)) / count
    counts = report.as_dict()["counts"]
    print(f"{'case':<26} {'s/institution':>14} {'process starts':>15} {'AWS calls/institution':>22}")
    print(f"{'old loop (baseline)':<26} {baseline:>14.2f} {f'{len(OLD_LOOP)} + cdk per inst.':>15}")
    print(f"{'pipeline deploy':<26} {own:>14.3f} {f'1 + {len(cdk_time)} cdk':>15} {calls / count:>22.1f}")
    print(f"ratio baseline/pipeline: {baseline / own:.1f}x; target <= 0.2 s/institution: {own <= 0.2}; "
          f"outcomes {counts}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--institutions", type=int, default=100)
    parser.add_argument("--baseline", type=int, default=5)
    parser.add_argument("--model-stacks", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=deploy.CONCURRENCY)
    parser.add_argument("--skip-sandbox", action="store_true", help="only the model")
    args = parser.parse_args()
    bound = deploy.STACK_OPERATION
    print(f"modelled: {args.model_stacks} stacks, concurrency {args.concurrency}, waves sized for "
          f"{bound.total_seconds() / 60:g} min/stack, sessions of {SESSION_SECONDS // 60} min")
    for minutes in (1, 2, 5):
        model(args.model_stacks, timedelta(minutes=minutes), args.concurrency, bound)
    if not args.skip_sandbox:
        measured(args.institutions, args.baseline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
