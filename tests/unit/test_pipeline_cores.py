"""The pipeline's cores without AWS: waves sized to a session, credentials renewed before an operation
they would not outlive, the report's exit code and summary."""

from __future__ import annotations

from datetime import timedelta

import boto3
import pytest
from tutormail.clock import FixedClock
from tutormail.exitcodes import Exit
from tutormail.pipeline import credentials, deploy
from tutormail.pipeline.credentials import MARGIN, CredentialsError, WebIdentity
from tutormail.pipeline.report import DEPLOYED, FAILED, REFUSED, Report, markdown


class FakeSts:
    """AssumeRoleWithWebIdentity answering a session of `duration` from the clock's now."""

    def __init__(self, clock, duration: int):
        self.clock, self.duration, self.tokens = clock, duration, []

    def assume_role_with_web_identity(self, **kwargs):
        self.tokens.append(kwargs["WebIdentityToken"])
        return {"Credentials": {"AccessKeyId": f"ASIAFAKE{len(self.tokens)}", "SecretAccessKey": "fake-secret",
                                "SessionToken": f"fake-token-{len(self.tokens)}",
                                "Expiration": self.clock.now() + timedelta(seconds=min(self.duration,
                                                                                       kwargs["DurationSeconds"]))}}


@pytest.fixture
def session(monkeypatch):
    clock = FixedClock()
    sts = FakeSts(clock, 3600)
    monkeypatch.setattr(boto3.session.Session, "client", lambda self, *a, **k: sts)
    environ: dict[str, str] = {}
    tokens = iter(f"jwt-{n}" for n in range(100))
    return clock, sts, environ, WebIdentity("arn:aws:iam::123456789012:role/tutormail-ci-deploy", "us-east-1", clock,
                                            lambda: next(tokens), environ)


def test_a_session_is_renewed_with_a_fresh_token_only_when_the_next_operation_would_outlive_it(session):
    clock, sts, environ, creds = session
    creds.ensure(timedelta(minutes=30))
    assert sts.tokens == ["jwt-0"] and environ["AWS_SESSION_TOKEN"] == "fake-token-1"
    clock.advance(minutes=20)
    creds.ensure(timedelta(minutes=30))  # 40 min left >= 30 + margin
    assert len(sts.tokens) == 1
    clock.advance(minutes=10)
    creds.ensure(timedelta(minutes=30))  # 30 min left < 30 + margin: a new token, a new session
    assert sts.tokens == ["jwt-0", "jwt-1"] and environ["AWS_SESSION_TOKEN"] == "fake-token-2"
    assert creds.remaining() == timedelta(hours=1) and len(creds.renewals) == 2


def test_an_operation_longer_than_a_session_is_refused_before_it_starts(session):
    _, sts, _, creds = session
    with pytest.raises(CredentialsError, match="cannot fit"):
        creds.ensure(timedelta(hours=1) - MARGIN + timedelta(seconds=1))
    assert sts.tokens == []


def test_a_session_shorter_than_asked_is_refused(session):
    _, sts, _, creds = session
    sts.duration = 900  # the role allows less than the pipeline asks for
    with pytest.raises(CredentialsError, match="too short"):
        creds.ensure(timedelta(minutes=30))


def test_waves_carry_what_one_session_can():
    stacks = [f"TutorMail-s{n}" for n in range(1000)]
    found = deploy.waves(stacks, 40, timedelta(minutes=5), timedelta(minutes=55))
    assert [len(w) for w in found] == [440, 440, 120] and [s for w in found for s in w] == stacks
    for wave in found:
        assert deploy.wave_time(len(wave), 40, timedelta(minutes=5)) <= timedelta(minutes=55)
    assert [len(w) for w in deploy.waves(stacks[:3], 10, timedelta(hours=2), timedelta(minutes=55))] == [3]


class Credentials:
    def __init__(self):
        self.asked: list[timedelta] = []
        self.renewals: list[str] = []

    def lifetime(self):
        return timedelta(minutes=55)

    def ensure(self, needed):
        self.asked.append(needed)


def test_deploy_asks_for_credentials_before_each_wave_and_retries_what_cdk_did_not_start(monkeypatch, tmp_path):
    todo = [{"stack": f"TutorMail-s{n}", "template_hash": f"h{n}", "parameter": f"TutorMail-s{n}:TemplateHash=h{n}"}
            for n in range(5)]
    state: dict[str, tuple[str, str]] = {}

    def runner(command, log_file):
        started = command[2:command.index("--app")][:3]
        for stack in started:  # the first of a wave fails, the CLI then starts no more
            n = int(stack.rsplit("s", 1)[1])
            state[stack] = ("UPDATE_ROLLBACK_COMPLETE", "old") if n == 0 else ("UPDATE_COMPLETE", f"h{n}")
            if n == 0:
                break
        return 1 if "TutorMail-s0" in started else 0

    from tutormail.lifecycle.out_of_date import Deployed
    monkeypatch.setattr(deploy, "deployed_stacks", lambda cfn: {k: Deployed(k, s, h) for k, (s, h) in state.items()})
    monkeypatch.setattr(deploy.aws, "client", lambda *a: None)
    monkeypatch.setattr(deploy, "stack_status", lambda cfn, stack: "UPDATE_ROLLBACK_COMPLETE")
    creds = Credentials()
    result = deploy.deploy(deploy.Target("us-east-1", tmp_path), todo, creds, concurrency=2,
                           operation=timedelta(minutes=5), logs=tmp_path, runner=runner)
    assert sorted(result.deployed) == [f"TutorMail-s{n}" for n in range(1, 5)]
    assert list(result.failed) == ["TutorMail-s0"] and "UPDATE_ROLLBACK_COMPLETE" in result.failed["TutorMail-s0"]
    assert len(result.waves) == 3 and len(creds.asked) == 3  # credentials checked before every wave


def test_the_report_says_what_happened_and_exits_1_for_a_refused_or_failed_institution():
    report = Report("deploy")
    report.outcome("TutorMail-a", DEPLOYED)
    report.step("TutorMail-a", "verify", Exit.PENDING)
    assert report.exit_code() == Exit.OK  # still pending is not a failure
    report.outcome("TutorMail-b", REFUSED, ["preflight: x exists in SES outside TutorMail-b"])
    report.outcome("TutorMail-c", FAILED, ["CloudFormation: UPDATE_ROLLBACK_COMPLETE"])
    data = report.as_dict()
    assert data["exit_code"] == 1 and data["counts"] == {"deployed": 1, "failed": 1, "refused": 1}
    assert [e["name"] for e in data["entries"]] == ["TutorMail-a", "TutorMail-b", "TutorMail-c"]
    text = markdown(data)
    assert "| TutorMail-b | refused | preflight: x exists in SES outside TutorMail-b |" in text
    assert "| TutorMail-a | deployed |  | verify pending |" in text


def test_the_deploy_jobs_handoff_leaves_an_account_blocked_by_dmarc_out_of_the_fill_in_tables(tmp_path):
    from types import SimpleNamespace

    from tutormail.cenario2.dmarc import DmarcLookups
    from tutormail.pipeline import jobs
    from tutormail.plan.build import plan_for
    from tutormail.plan.loader import load_catalog

    from tests.conftest import INSTITUTIONS
    from tests.unit.fakes import FakeProgress, services

    plan = plan_for(load_catalog(INSTITUTIONS), "instituicao-xy")
    lookups = DmarcLookups(fetch=lambda name: ["v=DMARC1; p=reject"] if name == "_dmarc.colegioxy.com.br" else [])
    assert jobs._handoff(SimpleNamespace(artifacts=tmp_path), plan, services(None, lookups=lookups)) == Exit.OK
    text = (tmp_path / "handoff" / "instituicao-xy" / "instituicao-xy.md").read_text(encoding="utf-8")
    tables, _, section = text.partition("## Contas que ainda não devem ser configuradas")
    assert "contato@colegioxy.com.br" in section and "contato@colegioxy.com.br" not in tables
    # a recorded acceptance of that risk releases it, as the gate does (issue 20)
    accepted = FakeProgress({"tutormail:dmarc-risk:contato@colegioxy.com.br": "2026-01-05T12:00:00Z reject arn:x"})
    given = services(None, accepted, lookups=lookups)
    assert jobs._handoff(SimpleNamespace(artifacts=tmp_path / "accepted"), plan, given) == Exit.OK
    text = (tmp_path / "accepted" / "handoff" / "instituicao-xy" / "instituicao-xy.md").read_text(encoding="utf-8")
    assert "Contas que ainda não devem" not in text and "Risco aceito por arn:x" in text


def test_an_aws_error_after_retries_fails_its_institution_with_exit_4_and_the_others_go_on(monkeypatch):
    """An offboarding or cleanup that AWS failed is a service error (4), not a person's decision (1):
    the entry says why, and the next institution is still done."""
    from types import SimpleNamespace

    from tutormail.aws.client import ServiceError
    from tutormail.pipeline import jobs
    from tutormail.plan.loader import load_catalog

    from tests.conftest import INSTITUTIONS

    def offboarding(catalog, slug, *args):
        if slug == "instituicao-xy":
            raise ServiceError("CloudFormation DeleteStack: Rate exceeded (after 5 attempts)")
        return slug

    monkeypatch.setattr(jobs.offboard, "offboarding", offboarding)
    monkeypatch.setattr(jobs.offboard, "run", lambda work, on_step: {"finished": "2026-01-05T12:00:00Z"})
    job = jobs.Job(catalog=load_catalog(INSTITUTIONS), runtime=SimpleNamespace(dns=None, clock=None),
                   credentials=credentials.Ambient())
    data = jobs.offboard_job(job, ["instituicao-xy", "outra"], lambda slug: INSTITUTIONS).as_dict()
    entries = {e["name"]: e for e in data["entries"]}
    assert entries["TutorMail-instituicao-xy"]["outcome"] == "failed" and "Rate exceeded" in entries[
        "TutorMail-instituicao-xy"]["why"][0]
    assert entries["TutorMail-outra"]["outcome"] == "offboarded"
    assert data["exit_code"] == Exit.SERVICE_ERROR
    report = Report("cleanup")
    report.outcome("a", FAILED, ["x"], exit_code=Exit.ACTION_NEEDED)
    assert report.exit_code() == Exit.ACTION_NEEDED


def test_an_offboarding_that_leaves_something_for_a_person_is_exit_1_in_the_job_too(monkeypatch):
    from types import SimpleNamespace

    from tutormail.lifecycle import offboard
    from tutormail.pipeline import jobs
    from tutormail.plan.change import Action, Change, Kind, Outcome
    from tutormail.plan.loader import load_catalog

    from tests.conftest import INSTITUTIONS

    changed = Change(Kind.RECORD, "t1._domainkey.x.com.br", Action.DELETE, type="CNAME").applied(
        Outcome.CHANGED, offboard.CHANGED_WHILE_REMOVING)

    def run(work, on_step):
        on_step("dns-records", offboard.step_entry([changed] if work == "instituicao-xy" else [], "t"))
        return {"finished": "2026-01-05T12:00:00Z"}

    monkeypatch.setattr(jobs.offboard, "offboarding", lambda catalog, slug, *args: slug)
    monkeypatch.setattr(jobs.offboard, "run", run)
    job = jobs.Job(catalog=load_catalog(INSTITUTIONS), runtime=SimpleNamespace(dns=None, clock=None),
                   credentials=credentials.Ambient())
    data = jobs.offboard_job(job, ["instituicao-xy", "outra"], lambda slug: INSTITUTIONS).as_dict()
    entries = {e["name"]: e for e in data["entries"]}
    assert entries["TutorMail-instituicao-xy"]["why"] == [
        f"record t1._domainkey.x.com.br: {offboard.CHANGED_WHILE_REMOVING}"]
    assert entries["TutorMail-outra"]["why"] == [] and data["exit_code"] == Exit.ACTION_NEEDED


def test_a_plan_too_long_for_a_comment_keeps_what_a_person_must_answer_and_says_where_the_rest_is():
    from tutormail.pipeline.report import COMMENT_LIMIT, comment

    report = Report("plan")
    for n in range(1500):  # a platform change: every stack of a large fleet would deploy
        report.outcome(f"TutorMail-instituicao-de-ensino-com-um-nome-bem-longo-{n:04d}", "would deploy")
    report.outcome("TutorMail-recusada", REFUSED, ["preflight: contato@fora.example.com.br exists in SES"])
    data = report.as_dict()
    assert len(markdown(data)) > COMMENT_LIMIT
    text = comment(data, artifact="plan")
    assert len(text) <= COMMENT_LIMIT and "| TutorMail-recusada | refused | preflight: contato@fora" in text
    assert "1500 more entries are only in the artifact `plan`" in text and "| would deploy |" not in text
    for n in range(3000):  # even the refusals do not fit: cut, and said so
        report.outcome(f"TutorMail-recusada-{n:04d}", REFUSED, ["preflight: " + "x" * 60])
    text = comment(report.as_dict(), artifact="plan")
    assert len(text) <= COMMENT_LIMIT and text.endswith("the whole summary is in the artifact `plan`.\n")
    small = Report("plan")
    small.outcome("TutorMail-a", "would deploy")
    assert comment(small.as_dict(), artifact="plan") == markdown(small.as_dict())


def test_a_cdk_cli_that_cannot_be_started_is_a_set_up_error_not_a_crash(tmp_path):
    """Run outside the checkout (no node_modules/ there): exit 2 saying so, for the diff and a wave."""
    from types import SimpleNamespace

    from tutormail.exitcodes import UsageError
    from tutormail.pipeline import jobs

    target = deploy.Target("us-east-1", tmp_path, cdk=tmp_path / "node_modules" / ".bin" / "cdk")
    with pytest.raises(UsageError, match="make setup installs the CDK CLI") as refused:
        jobs.cdk_diff(SimpleNamespace(target=target, artifacts=tmp_path), ["TutorMail-a"])
    assert refused.value.exit_code == Exit.BAD_INPUT
    with pytest.raises(UsageError, match="cannot start"):
        deploy.run_cdk(deploy.cdk_command(target, ["TutorMail-a"], {"TutorMail-a": "TutorMail-a:TemplateHash=h"}, 1),
                       tmp_path / "wave.log")
