"""`tutormail pipeline deploy` end to end on a sandbox of its own: about 30 small institutions
provisioned exactly as the deploy job calls it (credentials from the job's OIDC token, assumed as the
CI deploy role whose trust allows that job's `sub`), then a platform.yaml change that puts every stack
out of date, deployed again with a refused institution (a preflight conflict), a failing one (an
injected CloudFormation failure), and stack operations slow enough on the sandbox clock that the
first session expires mid-run and is renewed. The report must say exactly what happened."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from aws_cdk import App
from ruamel.yaml import YAML
from tutormail.cli.pipeline import COMMENT, REPORT, SUMMARY
from tutormail.clock import FileClock
from tutormail.lifecycle.out_of_date import assembly_hashes
from tutormail.pipeline.credentials import WebIdentity, github_token
from tutormail.plan.loader import load_catalog

from infra.app_builder import build_app
from sandbox import launcher
from tests.conftest import DEPLOY, REPO, cdk, cdk_context, run_cli
from tests.factory import company, institution, to_yaml, write_institutions
from tests.lifecycle.test_workflow import WORKFLOW, github_subject

COUNT = 30
ACCOUNT = "123456789012"
DEPLOY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/tutormail-ci-deploy"
REFUSED, FAILING = "escola-07", "escola-13"
OUTSIDE = "contato@fora07.example.com.br"  # an identity made in SES outside the stack: preflight's conflict


def slug(n: int) -> str:
    return f"escola-{n:02d}"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    directory = write_institutions(root / "institutions", {slug(n): institution(f"Escola {n:02d}", slug=slug(n))
                                                          for n in range(1, COUNT + 1)})
    state = root / "sandbox"
    exports = launcher.up(state, directory)
    try:
        yield {"root": root, "institutions": directory, "state": state, "admin": exports}
    finally:
        launcher.down(state)


def synth(directory: Path, out: Path) -> Path:
    """What the deploy job's `cdk synth` step writes (in process: the CDK CLI would take minutes)."""
    app = App(outdir=str(out), context=cdk_context())
    build_app(app, load_catalog(directory), nag=False)  # cdk-nag's findings are tests/infra's
    app.synth()
    return out


def deploy_job_env(fleet, claims: dict) -> dict:
    """A GitHub job's environment: no AWS keys, only its OIDC token endpoint."""
    env = {k: v for k, v in fleet["admin"].items() if not k.startswith("AWS_") or k in (
        "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION")}
    env.update({"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
                "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                "TUTORMAIL_INSTITUTIONS": str(fleet["institutions"]),
                "GITHUB_STEP_SUMMARY": str(fleet["root"] / "summary.md"),
                "GITHUB_OUTPUT": str(fleet["root"] / "output.txt"),
                **launcher.github_job(fleet["state"], claims)})
    return env


def run_deploy_job(fleet, env: dict, out: Path, artifacts: Path):
    """The deploy job's pipeline step, as .github/workflows/institutions.yml has it."""
    step = next(s["run"] for s in YAML(typ="safe").load(WORKFLOW.read_text())["jobs"]["deploy"]["steps"]
                if "pipeline deploy" in s.get("run", ""))
    # GitHub puts the repository variable's value in the expression; shlex splits as bash does
    args = shlex.split(re.sub(r"\$\{\{ vars\.TUTORMAIL_DEPLOY_ROLE_ARN \}\}", DEPLOY_ROLE, step))[1:]
    result = run_cli(*args, "--cdk-out", str(out), "--artifacts", str(artifacts), "--output", "json", env=env)
    return result, json.loads(result.stdout) if result.stdout.strip() else {}


def test_thirty_institutions_then_a_change_to_every_stack(fleet):
    admin, directory, root = fleet["admin"], fleet["institutions"], fleet["root"]
    # Once, as an administrator would: CDK's bootstrap and the platform (it holds the CI roles).
    first = synth(directory, root / "cdk.out.1")
    platform_hash = assembly_hashes(first)["TutorMail-Platform"]
    for args in (("bootstrap", launcher.bootstrap_target(directory)),
                 (*DEPLOY, "TutorMail-Platform", "--exclusively", "--app", str(first),
                  "--parameters", f"TutorMail-Platform:TemplateHash={platform_hash}")):
        done = cdk(*args, env=admin)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    github = load_catalog(directory, only=[]).platform.github
    workflow = YAML(typ="safe").load(WORKFLOW.read_text())
    claims = {"sub": github_subject(workflow, "deploy", github.repository, github.branch),
              "repository": github.repository, "environment": "production", "ref": f"refs/heads/{github.branch}"}
    env = deploy_job_env(fleet, claims)

    result, report = run_deploy_job(fleet, env, first, root / "artifacts.1")
    assert result.returncode == 0, result.stderr[-4000:]
    deployed = {e["name"] for e in report["entries"] if e["outcome"] == "deployed"}
    assert deployed == {f"TutorMail-{slug(n)}" for n in range(1, COUNT + 1)}, report["counts"]
    assert report["deployed"] == sorted(slug(n) for n in range(1, COUNT + 1))
    assert (root / "artifacts.1" / "handoff" / slug(1)).is_dir()
    assert f"deployed={','.join(report['deployed'])}" in (root / "output.txt").read_text()

    # --- every template changes; one institution is refused, one fails, CloudFormation stalls twice ---
    platform = directory / "platform.yaml"
    platform.write_text(platform.read_text().replace("min_volume: 100", "min_volume: 150"))
    (directory / f"{REFUSED}.yaml").write_text(to_yaml(institution("Escola 07", slug=REFUSED, companies=[
        company("Escola 07", {"atendimento": OUTSIDE})])))
    ses = boto3.client("sesv2", endpoint_url=admin["AWS_ENDPOINT_URL"], region_name=admin["AWS_REGION"],
                       aws_access_key_id=admin["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=admin["AWS_SECRET_ACCESS_KEY"])
    ses.create_email_identity(EmailIdentity=OUTSIDE)  # made by hand, outside any stack
    second = synth(directory, root / "cdk.out.2")
    launcher.cloudformation(fleet["state"], fail_next_update={f"TutorMail-{FAILING}": "Resource handler returned "
                                                              "message: injected failure"},
                            # 52 minutes while the checks read the templates: the run's first session has
                            # 8 left, too few for a wave; 15 more at the 3rd update: it ends mid-wave
                            stall_on_read=52 * 60, stalls={3: 15 * 60})
    before = len(decisions(fleet))

    result, report = run_deploy_job(fleet, deploy_job_env(fleet, claims), second, root / "artifacts.2")
    assert result.returncode == 1, result.stderr[-4000:]
    entries = {e["name"]: e for e in report["entries"]}
    assert entries[f"TutorMail-{REFUSED}"]["outcome"] == "refused"
    assert any(f"{OUTSIDE} exists in SES outside TutorMail-{REFUSED}" in why
               for why in entries[f"TutorMail-{REFUSED}"]["why"]), entries[f"TutorMail-{REFUSED}"]
    assert entries[f"TutorMail-{FAILING}"]["outcome"] == "failed"
    assert "UPDATE_ROLLBACK_COMPLETE" in entries[f"TutorMail-{FAILING}"]["why"][0]
    others = {f"TutorMail-{slug(n)}" for n in range(1, COUNT + 1)} - {f"TutorMail-{REFUSED}", f"TutorMail-{FAILING}"}
    assert {name for name, e in entries.items() if e["outcome"] == "deployed"} - {"TutorMail-Platform"} == others
    assert report["deployed"] == sorted(name.removeprefix("TutorMail-") for name in others)
    for name in others:  # published, recorded, handed off, verified (still pending is not a failure)
        assert set(entries[name]["steps"]) == {"dns-publish", "dns-records", "handoff", "verify"}
        assert all(s["exit_code"] in (0, 3) for s in entries[name]["steps"].values()), entries[name]

    # every stack was deployed once: one UpdateStack each, none for the refused one
    updates = [re.search(r":stack/([^/]+)/", d["resource"]).group(1) for d in decisions(fleet)[before:]
               if d["action"] == "cloudformation:UpdateStack" and d["decision"] == "Allowed"]
    assert sorted(set(updates)) == sorted(updates) and set(updates) - {"TutorMail-Platform"} == others | {
        f"TutorMail-{FAILING}"}
    # the first session ran out during the run (the stall) and a new one was taken before the next operation
    sessions = report["credentials"]["sessions_taken_at"]
    assert len(sessions) >= 2 and report["credentials"]["renewals"] == len(sessions)
    assert sandbox_now(fleet) > datetime.strptime(sessions[0], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=UTC) + timedelta(hours=1)
    summary = (root / "summary.md").read_text()
    assert f"| TutorMail-{REFUSED} | refused |" in summary and f"| TutorMail-{FAILING} | failed |" in summary


def decisions(fleet) -> list[dict]:
    return launcher._sandbox_request(fleet["state"], "/_sandbox/iam-decisions")["decisions"]


def sandbox_now(fleet) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=float((fleet["state"] / "clock-offset").read_text() or 0))


def job_command(name: str, variable: str, role: str, given: dict[str, str] | None = None) -> list[str]:
    """A job's pipeline step as the workflow has it, the repository variable's value put in, and
    the expressions of `given` (what the runs before would give; empty when not given)."""
    step = next(s["run"] for s in YAML(typ="safe").load(WORKFLOW.read_text())["jobs"][name]["steps"]
                if "pipeline" in s.get("run", ""))
    step = step.replace(f"${{{{ vars.{variable} }}}}", f"arn:aws:iam::{ACCOUNT}:role/{role}")
    step = re.sub(r"\$\{\{ ((needs|github)\.[^}]+) \}\}", lambda m: (given or {}).get(m.group(1), ""), step)
    return shlex.split(step)[1:]


@pytest.mark.parametrize(("name", "variable", "role", "expected"), [
    ("plan", "TUTORMAIL_PLAN_ROLE_ARN", "tutormail-ci-plan", {"would deploy", "up to date", "refused"}),
    ("watch", "TUTORMAIL_OPERATOR_ROLE_ARN", "tutormail-ci-watch", {"pending", "verified"}),
])
def test_the_other_jobs_run_as_their_roles(fleet, name, variable, role, expected):
    """Each job's command, with a token of that job's `sub`, as the role it assumes: the role can do
    all the job runs (an AccessDenied would fail it with exit 4)."""
    github = load_catalog(fleet["institutions"], only=[]).platform.github
    workflow = YAML(typ="safe").load(WORKFLOW.read_text())
    env = deploy_job_env(fleet, {"sub": github_subject(workflow, name, github.repository, github.branch)})
    out = fleet["root"] / "cdk.out.2"
    result = run_cli(*job_command(name, variable, role), "--cdk-out", str(out), "--artifacts",
                     str(fleet["root"] / f"artifacts.{name}"), "--output", "json", env=env)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert {e["outcome"] for e in report["entries"]} <= expected, report["counts"]
    # what the job uploads and the plan posts on the pull request (tests/lifecycle/test_workflow.py)
    artifacts = fleet["root"] / f"artifacts.{name}"
    written = json.loads((artifacts / REPORT).read_text())
    assert written.pop("schema_version") and written == {k: v for k, v in report.items() if k != "schema_version"}
    assert (artifacts / SUMMARY).read_text().startswith(f"## tutor-mail pipeline: {name}")
    if name == "plan":
        assert (artifacts / COMMENT).read_text() == (artifacts / SUMMARY).read_text()  # it fits in a comment
    assert "AccessDenied" not in result.stdout + result.stderr
    denied = [d for d in decisions(fleet) if role in d["principal"] and d["decision"] != "Allowed"]
    assert denied == []


LEAVING, CLEANED = f"escola-{COUNT:02d}", FAILING
OFFBOARD_ROLE = "tutormail-ci-offboard"


def commit_all(repo: Path, message: str) -> str:
    env = {"GIT_AUTHOR_NAME": "CI", "GIT_AUTHOR_EMAIL": "ci@example.com", "GIT_COMMITTER_NAME": "CI",
           "GIT_COMMITTER_EMAIL": "ci@example.com", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    for args in (("add", "-A", "institutions"), ("commit", "-q", "-m", message)):
        subprocess.run(["git", *args], cwd=repo, env={**os.environ, **env}, check=True, capture_output=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.strip()


def offboarding_env(fleet) -> dict:
    """The offboard and cleanup jobs' environment: `environment: offboarding` puts it in the `sub`."""
    github = load_catalog(fleet["institutions"], only=[]).platform.github
    workflow = YAML(typ="safe").load(WORKFLOW.read_text())
    subjects = {github_subject(workflow, name, github.repository, github.branch) for name in ("offboard", "cleanup")}
    [subject] = subjects
    return deploy_job_env(fleet, {"sub": subject, "repository": github.repository, "environment": "offboarding"})


def role_session(env: dict, region: str, state: Path) -> boto3.session.Session:
    """The session the pipeline takes in that job (its OIDC token, AssumeRoleWithWebIdentity)."""
    keys: dict[str, str] = {}
    identity = WebIdentity(f"arn:aws:iam::{ACCOUNT}:role/{OFFBOARD_ROLE}", region, FileClock(state / "clock-offset"),
                           lambda: github_token(env), keys)
    identity.ensure(timedelta(minutes=1))
    return boto3.session.Session(aws_access_key_id=keys["AWS_ACCESS_KEY_ID"], region_name=region,
                                 aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
                                 aws_session_token=keys["AWS_SESSION_TOKEN"])


def test_offboard_and_cleanup_run_as_the_offboarding_role_on_a_deleted_file_and_a_leftover(fleet):
    """The push deletes an institution's file: the offboard job, as the workflow calls it, with the
    deployed names `needs.deploy.outputs` gives, finds the file in git and offboards it; the cleanup
    job removes a leftover (a DKIM CNAME of a token SES no longer uses) beside a deployed institution."""
    root, directory, admin = fleet["root"], fleet["institutions"], fleet["admin"]
    platform = load_catalog(directory, only=[]).platform
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    (root / "node_modules").symlink_to(REPO / "node_modules")  # the checkout after `make setup`: the CDK CLI
    before = commit_all(root, "the fleet")
    (directory / f"{LEAVING}.yaml").unlink()
    commit_all(root, f"{LEAVING} leaves")
    admin_session = boto3.session.Session(aws_access_key_id=admin["AWS_ACCESS_KEY_ID"], region_name=platform.region,
                                          aws_secret_access_key=admin["AWS_SECRET_ACCESS_KEY"])

    def client(service):
        return admin_session.client(service, endpoint_url=admin["AWS_ENDPOINT_URL"])

    # the deploy job of that push, as the workflow calls it: what it hands on is `needs.deploy.outputs`
    github = load_catalog(directory, only=[]).platform.github
    workflow = YAML(typ="safe").load(WORKFLOW.read_text())
    claims = {"sub": github_subject(workflow, "deploy", github.repository, github.branch),
              "repository": github.repository, "environment": "production", "ref": f"refs/heads/{github.branch}"}
    stacks = {s["StackName"] for s in client("cloudformation").describe_stacks()["Stacks"]}
    assembly = synth(directory, root / "cdk.out.3")
    # the pull request's plan first, as the plan role: the offboarding dry run of the deleted file
    plan_env = {**deploy_job_env(fleet, {"sub": github_subject(workflow, "plan", github.repository, github.branch)}),
                "TUTORMAIL_INSTITUTIONS": "institutions"}
    start = len(decisions(fleet))
    result = run_cli(*job_command("plan", "TUTORMAIL_PLAN_ROLE_ARN", "tutormail-ci-plan"), "--cdk-out", str(assembly),
                     "--artifacts", str(root / "artifacts.plan.3"), "--output", "json", env=plan_env, cwd=root)
    assert result.returncode == 1 and result.stdout, result.stderr[-3000:]  # escola-07 would still be refused
    preview = {e["name"]: e for e in json.loads(result.stdout)["entries"]}[f"TutorMail-{LEAVING}"]
    assert preview["outcome"] == "would offboard" and preview["steps_done"], preview
    assert [d for d in decisions(fleet)[start:] if "tutormail-ci-plan" in d["principal"]
            and d["decision"] != "Allowed"] == []
    result, report = run_deploy_job(fleet, deploy_job_env(fleet, claims), assembly, root / "artifacts.3")
    assert result.returncode == 1, result.stderr[-3000:]  # escola-07 is still refused
    outputs = dict(line.split("=", 1) for line in (root / "output.txt").read_text().splitlines())
    # the stack without a file, and the one whose last update had failed
    assert (outputs["offboard"], outputs["deployed"]) == (LEAVING, CLEANED), report["counts"]
    stale = f"velhotoken._domainkey.{CLEANED}.{platform.platform_domain}"
    client("route53").change_resource_record_sets(HostedZoneId=platform.hosted_zone_id, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {"Name": stale, "Type": "CNAME", "TTL": 1800,
                                                   "ResourceRecords": [{"Value": "velhotoken.dkim.amazonses.com"}]}}]})
    given = {"needs.deploy.outputs.offboard": outputs["offboard"], "needs.deploy.outputs.deployed": outputs["deployed"],
             "github.event.before": before}
    env = {**offboarding_env(fleet), "TUTORMAIL_INSTITUTIONS": "institutions"}  # the workflow's, in the checkout
    start = len(decisions(fleet))
    reports = {}
    for name in ("offboard", "cleanup"):
        result = run_cli(*job_command(name, "TUTORMAIL_OFFBOARD_ROLE_ARN", OFFBOARD_ROLE, given),
                         "--artifacts", str(root / f"artifacts.{name}"), "--output", "json", env=env, cwd=root)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        reports[name] = json.loads(result.stdout)

    [entry] = reports["offboard"]["entries"]
    assert (entry["name"], entry["outcome"]) == (f"TutorMail-{LEAVING}", "offboarded"), entry
    assert entry["finished"]
    left = {s["StackName"] for s in client("cloudformation").describe_stacks()["Stacks"]}
    assert left == stacks - {f"TutorMail-{LEAVING}"}
    identities = {i["IdentityName"] for i in client("sesv2").list_email_identities(PageSize=1000)["EmailIdentities"]}
    assert f"{LEAVING}.{platform.platform_domain}" not in identities
    assert f"{CLEANED}.{platform.platform_domain}" in identities

    cleaned = {e["name"]: e for e in reports["cleanup"]["entries"]}
    assert set(cleaned) == {CLEANED}
    removed = [c for c in cleaned[CLEANED]["changes"] if c["action"] == "delete" and c["outcome"] == "done"]
    assert [(c["name"], c["type"]) for c in removed] == [(stale, "CNAME")], cleaned[CLEANED]
    records = client("route53").list_resource_record_sets(HostedZoneId=platform.hosted_zone_id)["ResourceRecordSets"]
    assert stale not in {r["Name"].rstrip(".") for r in records}
    # as the role the jobs assume, and IAM allowed every call they made
    mine = [d for d in decisions(fleet)[start:] if OFFBOARD_ROLE in d["principal"]]
    assert mine and [d for d in mine if d["decision"] != "Allowed"] == []


def test_the_offboarding_role_cannot_deploy_nor_read_an_smtp_key(fleet, monkeypatch):
    """The offboarding environment's role does offboard and cleanup, nothing more: no stack update, no
    CDK deploy role, no SMTP key, no new identity."""
    from botocore.exceptions import ClientError

    env = offboarding_env(fleet)
    monkeypatch.setenv("AWS_ENDPOINT_URL", fleet["admin"]["AWS_ENDPOINT_URL"])  # STS's, as the job's process has it
    platform = load_catalog(fleet["institutions"], only=[]).platform
    session = role_session(env, platform.region, fleet["state"])

    def client(service):
        return session.client(service, endpoint_url=fleet["admin"]["AWS_ENDPOINT_URL"])

    other = "escola-05"
    attempts = {
        "UpdateStack": lambda: client("cloudformation").update_stack(StackName=f"TutorMail-{other}",
                                                                     UsePreviousTemplate=True),
        "AssumeRole cdk deploy": lambda: client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-deploy-role-{ACCOUNT}-{platform.region}",
            RoleSessionName="offboard"),
        "GetSecretValue smtp": lambda: client("secretsmanager").get_secret_value(SecretId=f"tutormail/{other}/smtp"),
        "CreateEmailIdentity": lambda: client("sesv2").create_email_identity(EmailIdentity="novo@example.com.br"),
    }
    answers = {}
    for what, attempt in attempts.items():
        try:
            attempt()
            answers[what] = "allowed"
        except ClientError as exc:
            answers[what] = exc.response["Error"]["Code"]
    assert set(answers.values()) <= {"AccessDenied", "AccessDeniedException"}, answers
    # what it may do, it can: a read of the same stack
    assert client("cloudformation").describe_stacks(StackName=f"TutorMail-{other}")["Stacks"]
