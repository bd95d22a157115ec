"""Where one identity stands: the state, who acts, the command they run, the link's deadline.

The prose around the commands is not pinned; what a person acts on is (docs/TESTING.md).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from tutormail.aws.progress_marks import LINK
from tutormail.aws.ses import IdentityState
from tutormail.clock import FixedClock, iso
from tutormail.exitcodes import Exit
from tutormail.verification.identity_check import INSTITUTION, PLATFORM, check_identity
from tutormail.vocabulary import Scenario

from tests.unit.fakes import pending

ADDRESS = "contato@colegioteste.com.br"


def fields(check):
    return check.identity, check.scenario, check.state, check.verified, check.actor, check.link_expires_at


@pytest.mark.parametrize(("name", "scenario"), [("escolateste.com.br", Scenario.DNS), (ADDRESS, Scenario.LINK)])
def test_an_identity_missing_from_ses_is_deployed_by_the_platform(plans, name, scenario):
    plan = plans["escola"]
    check = check_identity(plan, name, IdentityState(name, False), FixedClock(), {})
    assert fields(check) == (name, scenario, "missing", False, PLATFORM, None)
    assert "SES" in check.missing and "cdk deploy TutorMail-escola --exclusively" in check.next_action


@pytest.mark.parametrize("state", [IdentityState("escolateste.com.br", True, "PENDING", True),
                                   IdentityState("escolateste.com.br", True, "SUCCESS", False)])
def test_verified_for_sending_or_success_is_verified(plans, state):
    check = check_identity(plans["escola"], state.name, state, FixedClock(), {})
    assert fields(check) == (state.name, Scenario.DNS, "verified", True, PLATFORM, None)
    assert (check.missing, check.next_action, check.exit_code) == ("", "none: go on to phase 2", Exit.OK)


@pytest.mark.parametrize("status", ["FAILED", "TEMPORARY_FAILURE"])
def test_a_domain_ses_stopped_checking_needs_its_records_and_a_restart(plans, status):
    plan, name = plans["escola"], "escolateste.com.br"
    check = check_identity(plan, name, IdentityState(name, True, status), FixedClock(), {})
    assert fields(check) == (name, Scenario.DNS, "failed", False, PLATFORM, None)
    assert f"{plan.platform.dkim_window_hours} h" in check.missing and check.exit_code == Exit.ACTION_NEEDED
    assert "tutormail dns-records escola" in check.next_action
    assert ("aws sesv2 put-email-identity-dkim-signing-attributes --email-identity escolateste.com.br "
            "--signing-attributes-origin AWS_SES") in check.next_action


@pytest.mark.parametrize(("name", "command", "actor"), [
    ("escolateste.com.br", "tutormail verify escola --wait", PLATFORM),
    ("rede.escolateste.edu.br", "tutormail dns-publish escola, then tutormail verify escola --wait", PLATFORM),
    ("manual.escolateste.org.br", "tutormail dns-records escola", INSTITUTION),
])
def test_a_pending_domain_waits_on_whoever_publishes_its_records(plans, name, command, actor):
    check = check_identity(plans["escola"], name, pending(name), FixedClock(), {})
    assert fields(check) == (name, Scenario.DNS, "pending", False, actor, None)
    assert command in check.next_action and "DKIM" in check.missing


def test_an_address_never_sent_a_link_waits_on_the_institution(plans):
    check = check_identity(plans["escola"], ADDRESS, IdentityState(ADDRESS, True, "PENDING"), FixedClock(), {})
    assert fields(check) == (ADDRESS, Scenario.LINK, "pending", False, INSTITUTION, None)
    assert ADDRESS in check.missing
    assert ADDRESS in check.next_action and "tutormail request-link escola" in check.next_action


def test_an_address_with_a_valid_link_shows_the_time_left(plans):
    plan, clock = plans["escola"], FixedClock()
    sent = clock.now() - timedelta(hours=plan.platform.link_validity_hours) + timedelta(hours=23, minutes=59)
    expires = sent + timedelta(hours=plan.platform.link_validity_hours)
    sent_once = {LINK + ADDRESS: f"1 {iso(sent)}"}
    check = check_identity(plan, ADDRESS, IdentityState(ADDRESS, True, "PENDING"), clock, sent_once)
    assert fields(check) == (ADDRESS, Scenario.LINK, "pending", False, INSTITUTION, expires)
    assert ADDRESS in check.missing
    assert f"before {iso(expires)} (23 h 59 min left)" in check.next_action


@pytest.mark.parametrize(("status", "late"), [("PENDING", True), ("FAILED", False)])
def test_an_expired_link_is_requested_again_by_the_platform(plans, status, late):
    plan, clock = plans["escola"], FixedClock()
    sent = clock.now() - timedelta(hours=plan.platform.link_validity_hours + (1 if late else -1))
    expires = sent + timedelta(hours=plan.platform.link_validity_hours)
    sent_once = {LINK + ADDRESS: f"1 {iso(sent)}"}
    check = check_identity(plan, ADDRESS, IdentityState(ADDRESS, True, status), clock, sent_once)
    assert fields(check) == (ADDRESS, Scenario.LINK, "expired", False, PLATFORM, expires)
    assert "expired" in check.missing and check.exit_code == Exit.ACTION_NEEDED
    assert "tutormail request-link escola" in check.next_action
    assert f"within {plan.platform.link_validity_hours} h" in check.next_action
