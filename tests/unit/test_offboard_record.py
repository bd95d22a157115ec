"""offboard's record and ownership rules without AWS: a record speaks only for the deployment it was
made for, and only identities the deployed stack made (its configuration set) are taken (issue 20).
The sandbox runs: tests/lifecycle/test_offboard.py."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError
from tutormail.aws.ses import IdentityState
from tutormail.exitcodes import Exit
from tutormail.lifecycle import offboard
from tutormail.lifecycle.changes import DeployedState
from tutormail.plan.build import plan_for
from tutormail.plan.change import Action, Change, Kind, Outcome

from tests.unit.fakes import FakeTable

CREATED = datetime(2026, 11, 1, tzinfo=UTC)


class FakeCfn:
    def __init__(self, stacks):
        self.stacks = stacks

    def describe_stacks(self, StackName):
        return {"Stacks": self.stacks}


def stack(stack_id="arn:aws:cloudformation:us-east-1:123456789012:stack/TutorMail-x/1", status="CREATE_COMPLETE",
          template_hash="h1"):
    return {"StackId": stack_id, "StackStatus": status, "CreationTime": CREATED,
            "Parameters": [{"ParameterKey": "TemplateHash", "ParameterValue": template_hash}]}


def test_the_deployment_there_now_is_named_by_id_creation_and_template_hash():
    now = offboard.deployment(FakeCfn([stack()]), "TutorMail-x")
    assert now == {"stack_id": stack()["StackId"], "created": "2026-11-01T00:00:00Z", "template_hash": "h1",
                   "status": "CREATE_COMPLETE"}
    assert offboard.deployment(FakeCfn([stack(status="DELETE_COMPLETE")]), "TutorMail-x") is None


def test_a_record_speaks_only_for_the_deployment_it_was_made_for():
    made_for = offboard.deployment(FakeCfn([stack()]), "TutorMail-x")
    record = {"deployment": {k: v for k, v in made_for.items() if k != "status"}, "finished": "2026-11-02T00:00:00Z"}
    assert offboard._same(record, made_for)
    assert offboard._same(record, None)  # nothing deployed now: the record stands (done, or resumed)
    assert offboard._same(record, {**made_for, "status": "UPDATE_IN_PROGRESS"})
    for other in ({"stack_id": "arn:...:stack/TutorMail-x/2"}, {"created": "2026-11-05T00:00:00Z"},
                  {"template_hash": "h2"}):
        assert not offboard._same(record, {**made_for, **other}), other
    assert not offboard._same({"finished": "2026-11-02T00:00:00Z"}, made_for)  # a record that names none


def test_only_identities_with_the_institutions_configuration_set_are_ours(examples, monkeypatch):
    plan = plan_for(examples, "instituicao-xy")
    mine, by_hand, elsewhere, gone = "uni-xy.edu.br", "instituicaoxy.com.br", "outra.com.br", "velho@x.com.br"
    states = {mine: IdentityState(mine, True, "SUCCESS", True, configuration_set=plan.configuration_set),
              by_hand: IdentityState(by_hand, True, "SUCCESS", True, configuration_set=None)}
    monkeypatch.setattr(offboard, "deployed_state", lambda cfn, name: DeployedState(
        {mine: None, by_hand: None, elsewhere: None, gone: None}, ()))
    monkeypatch.setattr(offboard, "Ses", lambda platform, sesv2: type("S", (), {
        "identity": staticmethod(lambda name: states.get(name, IdentityState(name, exists=False)))})())
    job = offboard.Offboarding(plan, frozenset({elsewhere}), False, {"cloudformation": None, "sesv2": None})
    ours, others = offboard.owned_identities(job, {"status": "UPDATE_COMPLETE"})
    assert ours == [mine, gone]
    assert set(others) == {by_hand, elsewhere} and "not made by tutor-mail" in others[by_hand]
    assert offboard.owned_identities(job, {"status": "ROLLBACK_COMPLETE"}) == ([], {})  # its creation rolled back
    assert offboard.owned_identities(job, None) == ([], {})


class FakeSesv2:
    def __init__(self, names):
        self.names, self.deleted = set(names), []

    def get_email_identity(self, EmailIdentity):
        if EmailIdentity not in self.names:
            raise ClientError({"Error": {"Code": "NotFoundException"}}, "GetEmailIdentity")
        return {}

    def delete_email_identity(self, EmailIdentity):
        self.deleted.append(EmailIdentity)
        self.names.discard(EmailIdentity)


def test_identities_deleted_take_their_dmarc_acceptance_along(examples):
    """A risk accepted for an address must not outlive its identity: redeployed, the stack makes a new
    one, which is blocked again until someone accepts anew (issue 20). An identity already gone (a run
    that failed after deleting it) loses its mark too; one another file claims keeps it."""
    plan = plan_for(examples, "instituicao-xy")
    here, gone, claimed = "a@x.com.br", "b@x.com.br", "c@x.com.br"
    sesv2, table = FakeSesv2({here, claimed}), FakeTable()
    job = offboard.Offboarding(plan, frozenset({claimed}), True, {"sesv2": sesv2, "dynamodb": table,
                                                                         "secretsmanager": None})
    changes = offboard.run_step(job, "identities", {"identities": [here, gone, claimed], "not_ours": {}})
    entry = offboard.step_entry(changes, "2026-11-02T00:00:00Z")
    assert sesv2.deleted == [here] and entry["already_gone"] == [f"identity {gone}"]
    assert entry["removed"] == [f"identity {here}", f"mark {gone}: the marks given for it (a DMARC risk accepted)"]
    assert entry["left"] == [f"identity {claimed}: another institution's file claims it"]
    assert sorted(table.deleted) == [(plan.slug, f"tutormail:dmarc-risk:{n}") for n in (here, gone)]
    dry_table = FakeTable()
    dry = offboard.run_step(offboard.Offboarding(plan, frozenset(), False, {"sesv2": FakeSesv2({here}),
                                                                           "dynamodb": dry_table,
                                                                           "secretsmanager": None}),
                            "identities", {"identities": [here], "not_ours": {}})
    assert dry_table.deleted == [] and [(c.action, c.outcome) for c in dry] == [("delete", None)]  # nothing done


def test_a_step_that_leaves_something_for_a_person_makes_offboard_exit_1():
    """A record set the institution changed while offboarding removed it is left in place, for a person:
    exit 1, as cleanup exits (before, offboard exited 0); what it only leaves as not ours is 0."""
    ours = Change(Kind.RECORD, "t1._domainkey.x.com.br", Action.DELETE, type="CNAME", of="x.com.br")
    theirs = Change(Kind.RECORD, "_dmarc.x.com.br", Action.KEEP, "holds theirs, not our values", type="TXT")
    changed = ours.applied(Outcome.CHANGED, offboard.CHANGED_WHILE_REMOVING)
    entry = offboard.step_entry([changed, theirs], "2026-11-02T00:00:00Z")
    assert entry["left"] == [f"t1._domainkey.x.com.br CNAME: {offboard.CHANGED_WHILE_REMOVING}",
                             "_dmarc.x.com.br TXT: holds theirs, not our values"]
    assert offboard.outcome([entry]) == Exit.ACTION_NEEDED
    assert offboard.outcome([offboard.step_entry([ours.applied(), theirs], "2026-11-02T00:00:00Z")]) == Exit.OK
    assert offboard.outcome([offboard.step_entry([ours], "2026-11-02T00:00:00Z")]) == Exit.OK  # a dry run
    assert offboard.outcome([{"at": "2026-11-01T00:00:00Z", "removed": [], "left": ["x"], "already_gone": []}]) \
        == Exit.OK  # a step recorded before the record kept its changes


@pytest.mark.parametrize("output", ["json", "table"])
def test_the_offboard_command_exits_1_and_shows_the_change_left_for_a_person(monkeypatch, capsys, output):
    from tutormail.cli import offboard as command

    changed = Change(Kind.RECORD, "t1._domainkey.x.com.br", Action.DELETE, type="CNAME").applied(
        Outcome.CHANGED, offboard.CHANGED_WHILE_REMOVING)
    entry = offboard.step_entry([changed], "2026-11-02T00:00:00Z")

    def run(job, on_step):
        on_step("dns-records", entry)
        return {"finished": None, "steps": {"dns-records": entry}}

    monkeypatch.setattr(command, "load_catalog", lambda path: None)
    monkeypatch.setattr(command, "offboarding", lambda *args: None)
    monkeypatch.setattr(command, "run", run)
    args = argparse.Namespace(institutions=".", slug="x", apply=True, output=output,
                              runtime=argparse.Namespace(dns=None, clock=None))
    assert command.cmd_offboard(args) == Exit.ACTION_NEEDED
    shown = capsys.readouterr().out
    if output == "json":
        data = json.loads(shown)
        assert data["exit_code"] == 1 and data["steps"]["dns-records"]["changes"][0]["outcome"] == "changed"
    else:
        assert "changed since read: left, a person must act" in shown and "t1._domainkey.x.com.br CNAME" in shown
