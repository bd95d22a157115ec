"""The provisioning workflow: actionlint, its triggers, and no region written into it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

from tests.conftest import REPO

WORKFLOW = REPO / ".github" / "workflows" / "institutions.yml"


def test_actionlint_passes():
    actionlint = Path(sys.executable).parent / "actionlint"
    result = subprocess.run([str(actionlint), "-no-color", str(WORKFLOW)], cwd=REPO, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_input_of_a_template_triggers_it_and_the_region_comes_from_platform_yaml():
    workflow = YAML(typ="safe").load(WORKFLOW.read_text())
    triggers = workflow["on"]
    for event in ("pull_request", "push"):
        assert set(triggers[event]["paths"]) >= {"institutions/**", "infra/**", "scripts/**", "app.py", "cdk.json",
                                                 "requirements*.txt", "package*.json"}
    text = WORKFLOW.read_text()
    assert "us-east-1" not in text and "AWS_REGION" not in text
    assert "tutormail out-of-date" in text and workflow["concurrency"]["cancel-in-progress"] is False
    assert workflow["jobs"]["offboard"]["environment"] == "offboarding"
    offboard_steps = " ".join(step.get("run", "") for step in workflow["jobs"]["offboard"]["steps"])
    assert "tutormail offboard" in offboard_steps and "--apply" in offboard_steps


def test_cleanup_follows_an_approved_deploy_and_the_schedule_reports_drift():
    workflow = YAML(typ="safe").load(WORKFLOW.read_text())
    jobs = workflow["jobs"]
    assert jobs["cleanup"]["needs"] == "deploy" and jobs["cleanup"]["environment"] == "offboarding"
    cleanup = " ".join(step.get("run", "") for step in jobs["cleanup"]["steps"])
    assert "tutormail cleanup" in cleanup and "--apply" in cleanup and "--previous" in cleanup
    assert "deployed" in jobs["deploy"]["outputs"]
    assert "schedule" in workflow["on"] and "schedule" in jobs["watch"]["if"]
    watch = " ".join(step.get("run", "") for step in jobs["watch"]["steps"])
    assert "status --all --drift" in watch and "failures.txt" in watch
