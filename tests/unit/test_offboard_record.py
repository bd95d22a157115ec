"""offboard's record and ownership rules without AWS: a record speaks only for the deployment it was
made for, and only identities the deployed stack made (its configuration set) are taken (issue 20).
The sandbox runs: tests/lifecycle/test_offboard.py."""

from __future__ import annotations

from datetime import UTC, datetime

from tutormail.aws.ses import IdentityState
from tutormail.lifecycle import offboard
from tutormail.lifecycle.changes import DeployedState
from tutormail.plan.build import plan_for

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
