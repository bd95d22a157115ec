"""Stacks deployed in waves: one `cdk deploy --concurrency N` of many stacks per wave, each wave
short enough for the credentials it starts on.

Why the CDK CLI and waves (docs/ARCHITECTURE.md, "The pipeline"): the CLI already publishes the
assets and deploys a list of stacks of the synthesized assembly `--concurrency N` at a time
(https://docs.aws.amazon.com/cdk/v2/guide/ref-cli-cmd-deploy.html); it assumes the bootstrap deploy
role with the credentials it was started with, a chained session that STS caps at one hour
(https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use.html). A wave therefore holds at
most N stacks times the stack operations that fit in one session, and the pipeline renews its own
session before each wave. What a wave did is read back from CloudFormation (the template hash each
stack now records), never from the CLI's output: a stack whose hash did not change failed, with
CloudFormation's own status and reason.
"""

from __future__ import annotations

import logging
import math
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from tutormail.aws import client as aws
from tutormail.aws.cloudformation import stack_status
from tutormail.exitcodes import UsageError
from tutormail.lifecycle.out_of_date import UNSETTLED, deployed_stacks

log = logging.getLogger("tutormail")
# How long one stack update may take in the account, for sizing waves (bench/pipeline.py models the
# same figure); a wave never starts unless every one of its rounds fits in the session.
STACK_OPERATION = timedelta(minutes=5)
CONCURRENCY = 40


@dataclass(frozen=True)
class Target:
    """Where stacks go: one account and region (a second one is a second Target, with its own
    assembly and credentials)."""
    region: str
    cdk_out: Path
    cdk: Path = Path("node_modules/.bin/cdk")
    # `direct` where change sets cannot be used (the sandbox: moto's change sets do not survive a
    # second deploy); AWS itself takes the CLI's default.
    method: str | None = None


@dataclass
class WaveResult:
    stacks: list[str]
    exit_code: int
    log_file: Path | None = None


@dataclass
class Deployment:
    deployed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # stack -> why
    waves: list[WaveResult] = field(default_factory=list)


def waves(stacks: Sequence[str], concurrency: int, operation: timedelta, session: timedelta) -> list[list[str]]:
    """Stacks in waves of `concurrency` x the rounds one session carries (at least one round)."""
    rounds = max(1, math.floor(session / operation))
    size = max(1, concurrency) * rounds
    return [list(stacks[i:i + size]) for i in range(0, len(stacks), size)]


def wave_time(count: int, concurrency: int, operation: timedelta) -> timedelta:
    return operation * math.ceil(count / max(1, concurrency))


def cdk_command(target: Target, stacks: Sequence[str], parameters: dict[str, str], concurrency: int) -> list[str]:
    command = [str(target.cdk), "deploy", *stacks, "--app", str(target.cdk_out), "--exclusively",
               "--require-approval", "never", "--concurrency", str(concurrency), "--no-notices", "--progress", "events"]
    if target.method:
        command += ["--method", target.method]
    for stack in stacks:
        command += ["--parameters", parameters[stack]]
    return command


def run_cdk(command: list[str], log_file: Path) -> int:
    """The CDK CLI with this process's (renewed) credentials; its output kept in a file."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "wb") as out:
        return start(command, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ)).returncode


def start(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
    """The CDK CLI run to its end; one that cannot be started is a set-up error (exit 2), not a crash."""
    try:
        return subprocess.run(command, check=False, **kwargs)
    except OSError as exc:
        raise UsageError(f"cannot start {command[0]}: {exc.strerror or exc} (make setup installs the CDK CLI "
                         "in node_modules/, relative to the current directory)") from None


def _settle(cfn: Any, target: Target, wave: list[str], wanted: dict[str, str], code: int, log_file: Path,
            result: Deployment) -> list[str]:
    """What the wave did, read back from CloudFormation; the stacks the CLI never started (it stops
    scheduling new stacks once one fails) are returned to go in the next wave."""
    now = deployed_stacks(cfn)
    untouched = []
    for stack in wave:
        found = now.get(stack)
        if found and found.template_hash == wanted[stack] and found.status.endswith("_COMPLETE") \
                and "ROLLBACK" not in found.status:
            result.deployed.append(stack)
        elif found is None or found.status not in UNSETTLED:
            untouched.append(stack)
        else:
            result.failed[stack] = f"CloudFormation: {stack_status(cfn, stack)}{_cdk_says(log_file, stack)}"
    if untouched and len(untouched) == len(wave):  # no progress: the CLI itself failed
        for stack in untouched:
            result.failed[stack] = f"cdk deploy exited {code} without deploying it{_cdk_says(log_file, stack)}"
        return []
    return untouched


def _cdk_says(log_file: Path, stack: str) -> str:
    """The CLI's own error line about the stack, when it printed one."""
    try:
        lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    said = [line.strip() for line in lines if stack in line and ("failed" in line.lower() or "error" in line.lower())]
    return f" (cdk: {said[-1][:300]})" if said else ""


def deploy(target: Target, todo: list[dict[str, str]], credentials, *, concurrency: int = CONCURRENCY,
           operation: timedelta = STACK_OPERATION, logs: Path = Path("pipeline-logs"),
           runner: Callable[[list[str], Path], int] = run_cdk) -> Deployment:
    """`todo`: out-of-date entries (stack, template_hash, parameter). Waves run one after the other;
    a failed stack never stops the others: those the CLI did not start go in the next wave."""
    wanted = {entry["stack"]: entry["template_hash"] for entry in todo}
    parameters = {entry["stack"]: entry["parameter"] for entry in todo}
    result = Deployment()
    pending = list(wanted)
    while pending:
        wave, *rest = waves(pending, concurrency, operation, credentials.lifetime())
        credentials.ensure(wave_time(len(wave), concurrency, operation))
        log_file = logs / f"deploy-wave-{len(result.waves) + 1}.log"
        log.info("wave %d: %d stack(s), %d at a time", len(result.waves) + 1, len(wave), concurrency)
        code = runner(cdk_command(target, wave, parameters, concurrency), log_file)
        result.waves.append(WaveResult(wave, code, log_file))
        untouched = _settle(aws.Clients(target.region)["cloudformation"], target, wave, wanted, code, log_file, result)
        pending = untouched + [stack for later in rest for stack in later]
    return result
