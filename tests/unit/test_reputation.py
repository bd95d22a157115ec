"""Issue 14's pure parts: the reputation fields, the pause decision, the pause mark."""

from __future__ import annotations

import shutil

import pytest
from tutormail import names
from tutormail.aws.progress_marks import PAUSED, is_mark
from tutormail.catalog.reputation_fields import Thresholds, thresholds_of
from tutormail.plan.loader import check_files, load_catalog
from tutormail.reputation.health import Health
from tutormail.reputation.pause import PauseMark, decide

from tests.conftest import INSTITUTIONS


@pytest.fixture
def directory(tmp_path):
    shutil.copytree(INSTITUTIONS, tmp_path, dirs_exist_ok=True)
    return tmp_path


def _platform_reputation(directory, text):
    platform = directory / "platform.yaml"
    base = platform.read_text().split("reputation:")[0]
    platform.write_text(base + text)


def test_defaults_sit_below_ses_review_levels_and_an_institution_overrides(directory):
    _platform_reputation(directory, "")
    with (directory / "escola-padrao.yaml").open("a") as handle:
        handle.write("reputation:\n  pause_bounce_rate: 0.03\n  min_volume: 20\n")
    catalog = load_catalog(directory)
    assert catalog.platform.reputation.thresholds == Thresholds(0.02, 0.0005, 0.04, 0.0008, 100)
    own = thresholds_of(catalog.institutions["escola-padrao"], catalog.platform)
    assert (own.pause_bounce_rate, own.min_volume, own.warn_bounce_rate) == (0.03, 20, 0.02)
    assert thresholds_of(catalog.institutions["instituicao-xy"], catalog.platform) == Thresholds()


@pytest.mark.parametrize(("text", "field", "fragment"), [
    ("reputation:\n  pause_bounce_rate: 4\n", "reputation.pause_bounce_rate", "fraction between 0 and 1"),
    ("reputation:\n  warn_bounce_rate: 0.045\n", "reputation.warn_bounce_rate", "below pause_bounce_rate"),
    ("reputation:\n  pause_complaint_rate: 0.002\n  warn_complaint_rate: 0.001\n",
     "reputation.pause_complaint_rate", "SES's account review level"),
    ("reputation:\n  min_volume: 0\n", "reputation.min_volume", "whole number"),
    ("reputation:\n  event_retention_days: 10\n", "reputation.event_retention_days", "retention"),
    ("reputation:\n  notify: [not-an-address]\n", "reputation.notify[0]", "e-mail address"),
    ("reputation:\n  pause_rate: 0.01\n", "reputation.pause_rate", "unknown field"),
    ("reputation: 0.04\n", "reputation", "must be a mapping"),
])
def test_bad_platform_fields_are_reported_with_field_and_line(directory, text, field, fragment):
    _platform_reputation(directory, text)
    catalog, problems = check_files(directory)
    assert catalog is None
    found = [p for p in problems if p.field == field and fragment in p.reason]
    assert found and found[0].line > 0, [str(p) for p in problems]


def test_an_institution_may_not_set_platform_only_fields(directory):
    with (directory / "escola-padrao.yaml").open("a") as handle:
        handle.write("reputation:\n  notify: [a@b.org]\n")
    _, problems = check_files(directory)
    assert any(p.field == "reputation.notify" and "unknown field" in p.reason for p in problems)


def _alarm_event(name, state="ALARM", previous="OK"):
    return {"detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
            "detail": {"alarmName": name, "state": {"value": state, "reason": "Threshold Crossed"},
                       "previousState": {"value": previous}}}


def test_only_a_pause_alarm_going_into_alarm_pauses_and_names_its_institution():
    assert decide(_alarm_event("tutormail-pause-escola-padrao-bounce")) == (
        "escola-padrao", "alarm tutormail-pause-escola-padrao-bounce: Threshold Crossed")
    assert decide(_alarm_event("tutormail-warn-escola-padrao-bounce")) is None
    assert decide(_alarm_event("tutormail-pause-escola-padrao-bounce", state="OK", previous="ALARM")) is None
    assert decide(_alarm_event("tutormail-pause-escola-padrao-bounce", previous="ALARM")) is None
    assert decide(_alarm_event("tutormail-pause-../x-bounce")) is None
    assert decide(_alarm_event("other-pause-a-bounce")) is None
    assert decide({"detail-type": "Something else", "detail": {}}) is None


def test_names_agree_with_the_plan(examples):
    from tutormail.plan.build import plan_for

    plan = plan_for(examples, "instituicao-xy")
    assert names.configuration_set(plan.slug) == plan.configuration_set
    assert names.secret_name(plan.slug) == plan.secret_name
    assert names.slug_of_pause_alarm(names.alarm_name(plan.slug, "pause", "complaint")) == plan.slug


def test_the_pause_mark_is_one_plain_bounded_line_under_a_mark_key():
    mark = PauseMark(True, "2026-01-05T12:00:00Z", "ana", "old list; <script> ação " + "x" * 300)
    value = mark.value()
    assert is_mark(PAUSED) and PAUSED == "tutormail:paused:switch"  # `tutormail:<kind>:<subject>`, like every mark
    assert len(value) <= 256 and "<" not in value and ";" not in value
    back = PauseMark.from_marks({PAUSED: value})
    assert back.paused and back.by == "ana" and back.reason.startswith("old list script")
    assert PauseMark.from_marks({}) is None and PauseMark.from_marks({PAUSED: "garbage"}) is None


def test_resume_is_refused_while_a_rate_or_pause_alarm_stands_at_the_pause_level():
    health = Health("a", Thresholds(), rates={"bounce": 0.04, "complaint": None})
    assert health.above_pause_level() == ["bounce rate 0.04 >= 0.04"]
    health = Health("a", Thresholds(), rates={"bounce": 0.01, "complaint": 0.0},
                    alarms={"tutormail-pause-a-complaint": "ALARM", "tutormail-warn-a-bounce": "ALARM"})
    assert health.above_pause_level() == ["alarm tutormail-pause-a-complaint is in ALARM"]
    assert Health("a", Thresholds(), rates={"bounce": 0.039}).above_pause_level() == []
