"""The CI jobs as library calls: plan, deploy, offboard, cleanup, watch. One process per job; only
the CDK CLI is started (a deploy wave, a diff), never one process per institution.

Each job fills a `Report`; the CLI writes it as JSON and Markdown. An institution that fails is
reported and the others go on; the job's exit code is the worst outcome (exitcodes.worst).
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from tutormail.aws import client as aws
from tutormail.aws.ses import Ses
from tutormail.catalog.model import Catalog
from tutormail.cenario1.publishing import PublishOptions, publish_institution
from tutormail.cenario1.records import as_zone, domain_records
from tutormail.exitcodes import Exit, TutormailError, worst
from tutormail.fleet.drift import add_drift
from tutormail.fleet.status import status_with_health
from tutormail.lifecycle import cleanup, offboard
from tutormail.lifecycle.changes import deployed_state, key_problems
from tutormail.lifecycle.out_of_date import STACK_PREFIX, assembly_hashes, compare, deployed_stacks
from tutormail.lifecycle.out_of_date import Report as OutOfDate
from tutormail.pipeline import deploy as waves
from tutormail.pipeline.report import DEPLOYED, FAILED, REFUSED, UP_TO_DATE, Report
from tutormail.plan.build import PLATFORM_STACK, InstitutionPlan, build_plan
from tutormail.plan.change import Change
from tutormail.plan.loader import load_catalog
from tutormail.preflight import check as preflight
from tutormail.runtime import Runtime
from tutormail.services import Services
from tutormail.tutor_setup.handoff import write_handoff
from tutormail.verification.verify import VerifyOptions, verify_and_drift

log = logging.getLogger("tutormail")
# Reads and checks between stack operations are short; credentials must outlive them too.
READS = timedelta(minutes=10)
ARTIFACTS = Path("pipeline-artifacts")


@dataclass
class Job:
    catalog: Catalog
    runtime: Runtime
    credentials: Any
    artifacts: Path = ARTIFACTS
    target: waves.Target | None = None
    concurrency: int = waves.CONCURRENCY
    operation: timedelta = waves.STACK_OPERATION
    report: Report = field(default_factory=lambda: Report("job"))
    runner: Callable[[list[str], Path], int] = waves.run_cdk  # the CDK CLI (a stand-in in bench/pipeline.py)

    @property
    def region(self) -> str:
        return self.catalog.platform.region

    @property
    def clients(self) -> aws.Clients:
        return aws.Clients(self.region)

    def plan(self, slug: str) -> InstitutionPlan:
        return build_plan(self.catalog.institutions[slug], self.catalog.platform)


def _slug(stack: str) -> str:
    return stack[len(STACK_PREFIX):]


def out_of_date(job: Job) -> OutOfDate:
    job.credentials.ensure(READS)
    wanted = assembly_hashes(job.target.cdk_out)
    return compare(list(job.catalog.institutions), wanted, deployed_stacks(job.clients["cloudformation"]))


# --- checks that can refuse a stack: preflight (what is in the way) and plan-changes (the SMTP key) ------

def refusals(job: Job, slugs: list[str]) -> dict[str, list[str]]:
    """Why each institution may not be deployed now (empty: it may). A check that could not run
    refuses too: deploying past an unread conflict is what the checks exist to prevent."""
    job.credentials.ensure(READS)
    plans = [job.plan(slug) for slug in slugs]
    if not plans:
        return {}
    cfn = job.clients["cloudformation"]
    checked = preflight.run(plans, Ses(job.catalog.platform), cfn, job.clients["route53"], job.runtime.dns)
    found = {r.institution: [f"preflight: {c}" for c in r.conflicts]
             + ([f"preflight could not run: {r.error}"] if r.error is not None else []) for r in checked.institutions}
    for plan in plans:
        try:
            found[plan.slug] += [f"plan-changes: {p}" for p in key_problems(plan, deployed_state(cfn, plan.stack_name))]
        except aws.ServiceError as exc:
            found[plan.slug].append(f"plan-changes could not run: {exc}")
    return found


# --- after a deploy: records, handoff, verification, in one pass --------------------------------------

def _after_deploy(job: Job, slugs: list[str]) -> None:
    job.credentials.ensure(READS)
    services = Services.of(job.runtime.clock, job.runtime.dns)
    ses = services.ses(job.catalog.platform)
    deadline = time.monotonic() + 60
    for slug in slugs:
        plan = job.plan(slug)
        steps: list[tuple[str, Callable[[], Exit]]] = [
            ("dns-publish", lambda p=plan: publish_institution(p, ses, job.runtime.dns, PublishOptions())[1]),
            ("dns-records", lambda p=plan: _zone_file(job, p, ses)),
            ("handoff", lambda p=plan: _handoff(job, p, services)),
            ("verify", lambda p=plan: verify_and_drift(p, services, VerifyOptions(), deadline)[1])]
        for name, step in steps:
            try:
                job.report.step(plan.stack_name, name, step())
            except TutormailError as exc:
                job.report.step(plan.stack_name, name, exc.exit_code, str(exc))


def _handoff(job: Job, plan: InstitutionPlan, services: Services) -> Exit:
    """As `tutormail handoff` writes it (not --offline): an account blocked by DMARC is left out of
    the fill-in tables, never offered to the institution from a CI artifact, unless its risk was accepted."""
    write_handoff(plan, job.artifacts / "handoff" / plan.slug, services)
    return Exit.OK


def _zone_file(job: Job, plan: InstitutionPlan, ses: Ses) -> Exit:
    path = job.artifacts / "records" / f"{plan.slug}.zone"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(as_zone(domain_records(plan, ses)), encoding="utf-8")
    return Exit.OK


# --- deploy ----------------------------------------------------------------------------------------

def deploy_job(job: Job) -> Report:
    job.report = report = Report("deploy")
    state = out_of_date(job)
    for stack in state.up_to_date:
        report.outcome(stack, UP_TO_DATE)
    todo = {entry["stack"]: entry for entry in state.deploy}
    refused = refusals(job, [_slug(s) for s in todo if s != PLATFORM_STACK])
    for slug, why in refused.items():
        if why:
            report.outcome(STACK_PREFIX + slug, REFUSED, why, reason=todo[STACK_PREFIX + slug]["reason"])
            del todo[STACK_PREFIX + slug]
    # The platform first and alone: the institutions' stacks use what it holds.
    ordered = [[todo.pop(PLATFORM_STACK)]] if PLATFORM_STACK in todo else []
    ordered.append(list(todo.values()))
    deployed: list[str] = []
    for batch in ordered:
        result = waves.deploy(job.target, batch, job.credentials, concurrency=job.concurrency,
                              operation=job.operation, logs=job.artifacts / "logs", runner=job.runner)
        reasons = {entry["stack"]: entry["reason"] for entry in batch}
        for stack in result.deployed:
            report.outcome(stack, DEPLOYED, reason=reasons[stack])
        for stack, why in result.failed.items():
            report.outcome(stack, FAILED, [why], reason=reasons[stack])
        report.extra.setdefault("waves", []).extend(
            {"stacks": len(w.stacks), "cdk_exit_code": w.exit_code} for w in result.waves)
        deployed += result.deployed
    slugs = sorted(_slug(s) for s in deployed if s != PLATFORM_STACK)
    _after_deploy(job, slugs)
    report.extra.update(deployed=slugs, offboard=state.offboard, credentials={
        "renewals": len(job.credentials.renewals), "sessions_taken_at": list(job.credentials.renewals)})
    return report


# --- plan (pull requests): what the deploy would do, without changing anything --------------------------

def plan_job(job: Job, before: Callable[[str], Path | None]) -> Report:
    job.report = report = Report("plan")
    state = out_of_date(job)
    for stack in state.up_to_date:
        report.outcome(stack, UP_TO_DATE)
    slugs = [_slug(e["stack"]) for e in state.deploy if e["stack"] != PLATFORM_STACK]
    refused = refusals(job, slugs)
    for entry in state.deploy:
        why = refused.get(_slug(entry["stack"]), [])
        report.outcome(entry["stack"], REFUSED if why else "would deploy", why, reason=entry["reason"])
    if state.deploy:
        report.extra["diff"] = cdk_diff(job, [e["stack"] for e in state.deploy])
    for slug in state.offboard:
        _offboard_one(job, slug, before(slug), apply=False)
    report.extra["offboard"] = state.offboard
    return report


def cdk_diff(job: Job, stacks: list[str]) -> str:
    """One `cdk diff` of every stack to deploy (one process for the job), templates against the deployed
    ones through the bootstrap lookup role, the one the plan role may assume: a change-set diff would
    need the deploy role (https://docs.aws.amazon.com/cdk/v2/guide/ref-cli-cmd-diff.html)."""
    command = [str(job.target.cdk), "diff", *stacks, "--app", str(job.target.cdk_out), "--method", "template",
               "--no-notices"]
    done = waves.start(command, capture_output=True, text=True)
    path = job.artifacts / "diff.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(done.stdout + done.stderr, encoding="utf-8")
    return str(path)


# --- offboard and cleanup (environment `offboarding`) -----------------------------------------------

def _offboard_one(job: Job, slug: str, directory: Path | None, apply: bool) -> None:
    name = STACK_PREFIX + slug
    if directory is None:
        job.report.outcome(name, FAILED, [f"the history holds no {slug}.yaml before a commit that deleted it "
                                          "(the checkout needs fetch-depth: 0)"])
        return
    job.credentials.ensure(READS + job.operation)  # DeleteStack and its waiter
    steps: list[str] = []
    entries: list[dict] = []

    def done(step: str, entry: dict) -> None:
        entries.append(entry)
        steps.append(f"{step}: {len(entry['removed'])} removed, {len(entry['left'])} left")

    try:
        work = offboard.offboarding(load_catalog(directory), slug, apply, job.runtime.dns, job.runtime.clock)
        record = offboard.run(work, done)
    except TutormailError as exc:
        job.report.outcome(name, FAILED, [str(exc)], exit_code=exc.exit_code, steps_done=steps)
        return
    people = [f"{c['kind']} {c['name']}: {c['reason']}" for e in entries for c in e.get("changes", [])
              if Change.from_dict(c).for_a_person]
    job.report.outcome(name, "offboarded" if apply else "would offboard", people, steps_done=steps,
                       finished=record.get("finished"), exit_code=offboard.outcome(entries))


def offboard_job(job: Job, slugs: list[str], before: Callable[[str], Path | None]) -> Report:
    job.report = Report("offboard")
    for slug in slugs:
        _offboard_one(job, slug, before(slug), apply=True)
    return job.report


def cleanup_job(job: Job, slugs: list[str], previous: Path | None) -> Report:
    job.report = report = Report("cleanup")
    for slug in slugs:
        job.credentials.ensure(READS)
        try:
            items = cleanup.run(cleanup.cleanup_job(job.catalog, slug, True, job.runtime.dns, previous))
        except TutormailError as exc:
            report.outcome(slug, FAILED, [str(exc)], exit_code=exc.exit_code)
            continue
        code = cleanup.outcome(items)
        report.outcome(slug, "cleaned" if code == Exit.OK else REFUSED,
                       [f"{i.action}: {i.kind} {i.name} ({i.reason})" for i in items if i.for_a_person],
                       changes=[i.as_dict() for i in items])
    return report


# --- watch (schedule): links re-sent, status and drift of every institution, in batched reads ---------

def watch_job(job: Job) -> Report:
    job.report = report = Report("watch")
    job.credentials.ensure(READS)
    services = Services.of(job.runtime.clock, job.runtime.dns)
    deadline = time.monotonic() + 60
    for slug in job.catalog.institutions:
        plan = job.plan(slug)
        try:
            found, code, _ = verify_and_drift(plan, services, VerifyOptions(auto_resend=True), deadline)
        except TutormailError as exc:
            report.outcome(slug, FAILED, [str(exc)], exit_code=exc.exit_code)
            continue
        report.outcome(slug, {Exit.OK: "verified", Exit.PENDING: "pending"}.get(code, FAILED),
                       [f"{v.check.identity}: {v.check.state}" for v in found if code not in (Exit.OK, Exit.PENDING)],
                       exit_code=code if code != Exit.PENDING else Exit.OK)
    rows, code, _ = status_with_health(job.catalog, services)
    code = worst([code, add_drift(job.catalog, rows, services, checked=True)])
    drift = sorted({f"{r.institution} {r.address}: {d}" for r in rows for d in r.drift or []})
    report.extra.update(status_exit_code=int(code), drift=drift)
    if drift:
        report.codes.append(Exit.ACTION_NEEDED)
    return report


# --- where a deleted institution's file is: the tree before the commit that deleted it ------------------

def _git(institutions: Path, *args: str, git: str = "git", text: bool = True) -> subprocess.CompletedProcess:
    """git in the institutions directory's repository, whatever the current directory."""
    return subprocess.run([git, "-C", str(institutions), *args], capture_output=True, text=text, check=False)


def deleted_files(institutions: Path, git: str = "git") -> Callable[[str], Path | None]:
    """slug -> a directory holding the institution files as they were just before its file was
    last deleted (one `git log` for all, one `git archive` per deleting commit); None for a slug
    whose file is there now. `--no-renames`: a file renamed is its old name deleted (git log
    detects renames by default and would list it as R:
    https://git-scm.com/docs/git-log#Documentation/git-log.txt---no-renames)."""
    log_text = _git(institutions, "log", "--no-renames", "--diff-filter=D", "--name-only", "--relative",
                    "--format=commit %H", "--", ".", git=git).stdout
    deleted: dict[str, str] = {}
    commit = ""
    for line in log_text.splitlines():
        if line.startswith("commit "):
            commit = line.split()[1]
        elif line.endswith((".yaml", ".yml")) and "/" not in line:
            deleted.setdefault(Path(line).stem, commit)  # git log lists the newest first
    trees: dict[str, Path | None] = {}

    def before(slug: str) -> Path | None:
        commit = deleted.get(slug)
        if commit is None or any((institutions / f"{slug}{ext}").exists() for ext in (".yaml", ".yml")):
            return None
        if commit not in trees:
            trees[commit] = tree_at(f"{commit}^", institutions, git)
        return trees[commit]
    return before


def tree_at(ref: str | None, institutions: Path, git: str = "git") -> Path | None:
    """The institutions directory as it was at `ref` (one `git archive` of its tree); None without a
    ref, for a ref git does not have (a first commit's parent) and for GitHub's all-zeros `before`
    of a branch's first push."""
    if not ref or set(ref) == {"0"}:
        return None
    where = _git(institutions, "rev-parse", "--show-toplevel", "--show-prefix", git=git).stdout.splitlines()
    top, prefix = [*where, "", ""][:2]  # outside a repository: nothing, and archive fails below
    # from the top: git archive refuses to run in a directory it does not track
    archive = _git(Path(top or institutions), "archive", f"{ref}:{prefix}", git=git, text=False)
    if archive.returncode != 0:
        log.warning("%s: no institution files at %s (%s)", institutions, ref, archive.stderr.decode().strip())
        return None
    target = Path(tempfile.mkdtemp(prefix="tutormail-before-"))
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target
