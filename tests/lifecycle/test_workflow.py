"""The provisioning workflow: actionlint, its triggers, one pipeline call per job, and every job's
principal: the OIDC `sub` GitHub would put in the job's token (its environment, else the
pull_request event, else the branch ref: https://docs.github.com/en/actions/reference/security/oidc)
evaluated, by the sandbox's IAM evaluator, against the trust policy of the role the job assumes in the
synthesized TutorMail-Platform template."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk import App
from ruamel.yaml import YAML
from tutormail.pipeline.credentials import AUDIENCE, SESSION_SECONDS
from tutormail.plan.loader import load_catalog

from infra.app_builder import build_app
from sandbox.iam.evaluator import ALLOWED, EVALUATOR
from tests.conftest import INSTITUTIONS, REPO, cdk_context

WORKFLOW = REPO / ".github" / "workflows" / "institutions.yml"
ISSUER = "token.actions.githubusercontent.com"
PROVIDER = f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}"
ROLE_ARN = re.compile(r"--role-arn \"\$\{\{ vars\.(\w+) \}\}\"")


@pytest.fixture(scope="module")
def workflow():
    return YAML(typ="safe").load(WORKFLOW.read_text())


@pytest.fixture(scope="module")
def platform_template():
    app = App(context=cdk_context())
    build_app(app, load_catalog(INSTITUTIONS), nag=False)
    return app.synth().get_stack_by_name("TutorMail-Platform").template


def _runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def github_subject(workflow: dict, name: str, repository: str, branch: str) -> str:
    """The `sub` claim of the job's token, as GitHub builds it for the events that run the job."""
    job = workflow["jobs"][name]
    if "environment" in job:
        environment = job["environment"]
        return f"repo:{repository}:environment:{environment if isinstance(environment, str) else environment['name']}"
    if "pull_request" in job.get("if", ""):
        return f"repo:{repository}:pull_request"
    return f"repo:{repository}:ref:refs/heads/{branch}"  # push to and schedule on the default branch


def _resolved(document, provider_id: str):
    """The trust policy with the OIDC provider's GetAtt as the ARN IAM would hold."""
    if isinstance(document, dict):
        if document == {"Fn::GetAtt": [provider_id, "Arn"]}:
            return PROVIDER
        return {key: _resolved(value, provider_id) for key, value in document.items()}
    if isinstance(document, list):
        return [_resolved(value, provider_id) for value in document]
    return document


def role_for_variable(template: dict, variable: str) -> dict:
    """The role whose ARN the platform stack outputs for `vars.VARIABLE`."""
    output = next(o for o in template["Outputs"].values() if o.get("Description") == f"vars.{variable}")
    return template["Resources"][output["Value"]["Fn::GetAtt"][0]]


def trust_allows(template: dict, role: dict, subject: str) -> bool:
    provider_id = next(k for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::OIDCProvider")
    answer = EVALUATOR.decide(action="sts:AssumeRoleWithWebIdentity", principal=PROVIDER,
                              resource=f"arn:aws:iam::123456789012:role/{role['Properties']['RoleName']}",
                              account="123456789012", policies=[],
                              context={f"{ISSUER}:sub": subject, f"{ISSUER}:aud": AUDIENCE},
                              resource_policy=_resolved(role["Properties"]["AssumeRolePolicyDocument"], provider_id))
    return answer["decision"] == ALLOWED


def test_actionlint_passes():
    actionlint = Path(sys.executable).parent / "actionlint"
    result = subprocess.run([str(actionlint), "-no-color", str(WORKFLOW)], cwd=REPO, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_input_of_a_template_triggers_it_and_the_region_comes_from_platform_yaml(workflow):
    triggers = workflow["on"]
    for event in ("pull_request", "push"):
        assert set(triggers[event]["paths"]) >= {"institutions/**", "infra/**", "scripts/**", "app.py", "cdk.json",
                                                 "requirements*.txt", "package*.json"}
    text = WORKFLOW.read_text()
    assert "us-east-1" not in text and "AWS_REGION" not in text


def test_each_job_is_one_pipeline_call_of_its_own_name(workflow):
    for name, job in workflow["jobs"].items():
        calls = re.findall(r"tutormail (\S+)(?: (\S+))?", _runs(job))
        assert [call for call in calls if call[0] != "validate"] == [("pipeline", name)], name
        assert "for " not in _runs(job) and "while " not in _runs(job), f"{name}: a shell loop"


def test_every_job_can_assume_its_role_and_no_other_job_can(workflow, platform_template):
    github = load_catalog(INSTITUTIONS, only=[]).platform.github
    subjects = {name: github_subject(workflow, name, github.repository, github.branch) for name in workflow["jobs"]}
    assert subjects["deploy"].endswith(":environment:production")
    assert subjects["offboard"].endswith(":environment:offboarding") and subjects["plan"].endswith(":pull_request")
    for name, job in workflow["jobs"].items():
        variable = ROLE_ARN.search(_runs(job)).group(1)
        role = role_for_variable(platform_template, variable)
        assert trust_allows(platform_template, role, subjects[name]), f"{name} cannot assume {variable}"
        for other, subject in subjects.items():
            if subject != subjects[name]:
                assert not trust_allows(platform_template, role, subject), f"{other} could assume {name}'s role"
        assert role["Properties"]["MaxSessionDuration"] >= SESSION_SECONDS


def test_a_token_for_another_audience_or_repository_is_refused(platform_template):
    role = role_for_variable(platform_template, "TUTORMAIL_DEPLOY_ROLE_ARN")
    assert not trust_allows(platform_template, role, "repo:someone/else:environment:production")


def test_runs_are_never_lost(workflow):
    jobs = workflow["jobs"]
    # the schedule's job never shares the deploy's group: GitHub keeps one pending run per group
    groups = {name: job["concurrency"]["group"] for name, job in jobs.items()}
    assert len(set(groups.values())) == len(groups) and "concurrency" not in workflow
    assert jobs["deploy"]["concurrency"]["cancel-in-progress"] is False
    for name in ("offboard", "cleanup"):
        assert jobs[name]["needs"] == "deploy" and jobs[name]["environment"] == "offboarding"
        # not the implicit success(): they run for what deployed even when another stack failed
        assert "!cancelled()" in jobs[name]["if"], name
    assert {"deployed", "offboard"} <= set(jobs["deploy"]["outputs"])
    assert "schedule" in workflow["on"] and "schedule" in jobs["watch"]["if"]


def test_the_plan_role_holds_the_reads_of_what_the_plan_job_runs_and_nothing_else(platform_template):
    """The offboarding dry run starts with a Query of the progress table (it failed with AccessDenied)."""
    from tutormail.aws import permissions

    role = role_for_variable(platform_template, "TUTORMAIL_PLAN_ROLE_ARN")
    [policy_ref] = role["Properties"]["ManagedPolicyArns"]
    statements = platform_template["Resources"][policy_ref["Ref"]]["Properties"]["PolicyDocument"]["Statement"]
    granted = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    wanted = {row.action for row in permissions.read_only(permissions.job_rows("plan"))}
    assert granted == wanted | {"sts:AssumeRole"} and "dynamodb:Query" in granted
    assert not {a for a in granted if a.split(":")[1].startswith(("Put", "Delete", "Update", "Batch", "Create"))}
    assert "secretsmanager:GetSecretValue" not in granted


def test_every_job_uploads_what_its_command_writes_and_the_plan_is_posted_from_it(workflow):
    """Each job's artifact is the directory `tutormail pipeline` writes its report and summary in
    (its default --artifacts: the calls name no other), uploaded also when the command failed, and
    failing when the command wrote nothing; the pull request's comment is the one the plan writes
    there (its summary, cut to GitHub's limit)."""
    from tutormail.cli.pipeline import COMMENT
    from tutormail.pipeline.jobs import ARTIFACTS

    pins = set()
    for name, job in workflow["jobs"].items():
        assert "--artifacts" not in _runs(job), name
        [upload] = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
        assert Path(upload["with"]["path"]) == ARTIFACTS and upload["with"]["name"] == name, name
        assert upload["with"]["if-no-files-found"] == "error" and upload["if"] == "${{ !cancelled() }}", name
        call = next(i for i, s in enumerate(job["steps"]) if "tutormail pipeline" in s.get("run", ""))
        assert job["steps"].index(upload) > call, name
        pins |= {s["uses"] for s in job["steps"] if "uses" in s}
    # every action pinned by its full commit SHA (a tag can be moved to other code)
    assert pins and all(re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", uses) for uses in pins), pins
    steps = workflow["jobs"]["plan"]["steps"]
    [comment] = [s for s in steps if "gh pr comment" in s.get("run", "")]
    assert f"--body-file {ARTIFACTS / COMMENT}" in comment["run"] and comment["if"] == "${{ !cancelled() }}"
    assert steps.index(comment) > next(i for i, s in enumerate(steps) if "tutormail pipeline plan" in s.get("run", ""))
