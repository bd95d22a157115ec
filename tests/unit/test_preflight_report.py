"""The preflight's result as JSON (`as_dict()`: `preflight --output json` and `plan`'s `preflight`
key) and its exit code: a conflict is 1, a check that could not run is 4 and wins over 1."""

from __future__ import annotations

from tutormail.exitcodes import Exit
from tutormail.preflight.check import ExistingIdentity, NameCheck, Preflight, PreflightRun

FAILED = Preflight("ordem", error="Route 53 ListResourceRecordSets Z1: Throttling: slow down")
CLEAR = Preflight("clara", [ExistingIdentity("clara.com.br", True, True, "")],
                  [NameCheck("clara.com.br", "_dmarc.clara.com.br", "TXT", "dmarc", "Route 53 API",
                             ('"v=DMARC1; p=reject;"',), "nothing", "")])
TAKEN = Preflight("ocupada", conflicts=["bounce.ocupada.com.br MX: taken"])


def test_a_preflight_that_could_not_run_shows_its_error_and_no_checks():
    assert FAILED.as_dict() == {"institution": "ordem", "error": "Route 53 ListResourceRecordSets Z1: Throttling: "
                                "slow down", "conflicts": [], "exit_code": 4}


def test_a_preflight_that_ran_shows_every_check_with_its_exit_code():
    data = CLEAR.as_dict()
    assert set(data) == {"institution", "identities", "names", "dmarc", "conflicts", "exit_code"}
    assert data["identities"] == [{"identity": "clara.com.br", "exists": True, "managed_by_stack": True,
                                   "conflict": ""}]
    assert data["names"][0]["found"] == ['"v=DMARC1; p=reject;"'] and data["exit_code"] == 0
    assert TAKEN.as_dict()["exit_code"] == 1


def test_the_worst_institution_decides_the_run():
    run = PreflightRun({"region": "us-east-1"}, None, [CLEAR, TAKEN])
    data = run.as_dict()
    assert (data["exit_code"], [r["exit_code"] for r in data["institutions"]]) == (1, [0, 1])
    assert (data["account"], data["account_summary"]) == ({"region": "us-east-1"}, None)
    assert PreflightRun({}, "", [TAKEN, FAILED, CLEAR]).exit_code == Exit.SERVICE_ERROR
    assert PreflightRun({}, "", []).exit_code == Exit.OK
