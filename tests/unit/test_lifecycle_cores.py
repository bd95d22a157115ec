"""The pure cores of the lifecycle commands: out-of-date comparison and plan changes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from botocore.exceptions import ClientError
from tutormail.catalog.problems import ConfigurationError
from tutormail.clock import FixedClock
from tutormail.dnsclient.resolver import DnsEndpoints
from tutormail.lifecycle.changes import DeployedState, changes, key_problems, parse_template
from tutormail.lifecycle.offboard import offboarding, run_step, step_entry
from tutormail.lifecycle.out_of_date import NOT_RECORDED, Deployed, compare, template_hash
from tutormail.plan.build import plan_for
from tutormail.plan.loader import load_catalog

from tests.factory import company, institution
from tests.unit.fakes import FakeTable


def deployed(name, value, status="UPDATE_COMPLETE"):
    return {name: Deployed(name, status, value)}


def test_template_hash_ignores_key_order_only():
    assert template_hash({"a": 1, "b": [1, 2]}) == template_hash({"b": [1, 2], "a": 1})
    assert template_hash({"a": 1, "b": [1, 2]}) != template_hash({"a": 1, "b": [2, 1]})


@pytest.mark.parametrize(("stack", "reason"), [
    (None, "not deployed"),
    (Deployed("TutorMail-a", "UPDATE_COMPLETE", NOT_RECORDED), "no template hash recorded"),
    (Deployed("TutorMail-a", "UPDATE_COMPLETE", "old"), "template changed"),
    (Deployed("TutorMail-a", "UPDATE_ROLLBACK_COMPLETE", "new"), "last deploy left it UPDATE_ROLLBACK_COMPLETE"),
    (Deployed("TutorMail-a", "UPDATE_COMPLETE", "new"), None),
])
def test_each_reason_to_deploy(stack, reason):
    found = {"TutorMail-Platform": Deployed("TutorMail-Platform", "CREATE_COMPLETE", "p")}
    if stack:
        found[stack.name] = stack
    report = compare(["a"], {"TutorMail-Platform": "p", "TutorMail-a": "new"}, found)
    assert [d["reason"] for d in report.deploy] == ([reason] if reason else [])
    if reason:
        assert report.deploy[0]["parameter"] == "TutorMail-a:TemplateHash=new"


def test_deployed_stacks_without_a_file_are_to_offboard_and_a_partial_assembly_is_refused():
    found = {**deployed("TutorMail-Platform", "p"), **deployed("TutorMail-gone", "x")}
    assert compare([], {"TutorMail-Platform": "p"}, found).offboard == ["gone"]
    with pytest.raises(ConfigurationError, match="lacks TutorMail-a"):
        compare(["a"], {"TutorMail-Platform": "p"}, found)


def test_changes_split_identities_records_and_addresses(examples):
    plan = plan_for(examples, "instituicao-xy")
    identities = {**{i.name: i.mail_from for i in plan.identities}, "velho@example.com.br": None,
                  "old.example.com.br": "mail.old.example.com.br"}
    state = DeployedState(identities, (*plan.from_addresses, "velho@example.com.br"))
    found = changes(plan, state)

    def names(kind, action, changes=found):
        return [f"{c.name} {c.type}".strip() for c in changes if c.kind == kind and c.action == action]
    assert names("identity", "delete") == ["old.example.com.br", "velho@example.com.br"]
    assert names("identity", "create") == []
    assert "_dmarc.old.example.com.br TXT" in names("record", "delete")
    assert [c.of for c in found if c.name == "_dmarc.old.example.com.br"] == ["old.example.com.br"]
    assert names("from-address", "delete") == ["velho@example.com.br"]
    assert names("identity", "keep", changes(plan, None)) == []
    assert {c.outcome for c in found} == {None}  # a plan: nothing applied


def test_parse_template_reads_identities_and_the_from_address_condition():
    template = {"Resources": {
        "I": {"Type": "AWS::SES::EmailIdentity", "Properties": {
            "EmailIdentity": "a.com.br", "MailFromAttributes": {"MailFromDomain": "m.a.com.br"}}},
        "J": {"Type": "AWS::SES::EmailIdentity", "Properties": {"EmailIdentity": "x@b.com.br"}},
        "P": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": {"Statement": [
            {"Condition": {"StringEquals": {"ses:FromAddress": ["x@b.com.br", "y@a.com.br"]}}}]}}}}}
    state = parse_template(template)
    assert state.identities == {"a.com.br": "m.a.com.br", "x@b.com.br": None}
    assert state.from_addresses == ("x@b.com.br", "y@a.com.br")


def keyed(examples, generation, keep_previous):
    plan = plan_for(examples, "instituicao-xy")
    institution = replace(plan.institution, smtp_key_generation=generation, smtp_key_keep_previous=keep_previous)
    return type(plan)(institution, plan.platform, plan.identities, plan.senders)


@pytest.mark.parametrize(("deployed_keys", "generation", "keep_previous", "wanted"), [
    ((1,), 1, False, []),
    ((1,), 2, True, []),  # README's step 1: the new key beside the old
    ((1, 2), 2, False, []),  # step 3: the old key goes, Tutor holds the new one
    ((1, 2), 2, True, []),
    ((1,), 2, False, ["without smtp_key_keep_previous"]),  # the held key deleted with no overlap (issue 20)
    ((2,), 1, False, ["goes back from 2"]),
    ((1,), 3, True, ["jumps from 1", "3 access keys at once"]),
    ((1, 2), 3, True, ["3 access keys at once"]),  # a third key: IAM refuses it, the deploy rolls back (issue 23)
    ((1, 2), 3, False, ["without smtp_key_keep_previous", "3 access keys at once"]),
])
def test_key_rotations_that_delete_the_held_key_or_need_a_third_are_refused(examples, deployed_keys, generation,
                                                                           keep_previous, wanted):
    plan = keyed(examples, generation, keep_previous)
    problems = key_problems(plan, DeployedState({}, (), deployed_keys))
    assert len(problems) == len(wanted) and all(w in p for w, p in zip(wanted, problems, strict=True)), problems
    for problem in problems:  # each names the way out
        assert "smtp_key_keep_previous" in problem and "then" in problem


class IdentitySes:
    """SES v2 holding some identities: which were read and which deleted."""

    def __init__(self, names):
        self.names, self.deleted = set(names), []

    def get_email_identity(self, EmailIdentity):
        if EmailIdentity not in self.names:
            raise ClientError({"Error": {"Code": "NotFoundException", "Message": "gone"}}, "GetEmailIdentity")
        return {"IdentityType": "DOMAIN"}

    def delete_email_identity(self, EmailIdentity):
        self.deleted.append(EmailIdentity)
        self.names.discard(EmailIdentity)


@pytest.mark.parametrize("apply", [True, False])
def test_offboard_leaves_an_identity_another_file_claims_now(institution_files, apply):
    """The stack of `saida` was deployed with avisos@compartilhada.com.br; since then that address
    moved to `outra`'s file: offboarding `saida` must not delete what `outra` sends as."""
    catalog = load_catalog(institution_files(
        saida=institution("Saída", companies=[company("Saída", {"comunicacao": "comunicacao@saida.com.br"})]),
        outra=institution("Outra", companies=[company("Outra", {"comunicacao": "avisos@compartilhada.com.br"})])))
    ses = IdentitySes({"comunicacao@saida.com.br", "avisos@compartilhada.com.br"})
    job = offboarding(catalog, "saida", apply, DnsEndpoints(), FixedClock(), clients={"sesv2": ses,
                                                                                     "dynamodb": FakeTable()})
    assert "avisos@compartilhada.com.br" in job.claimed_elsewhere
    assert "comunicacao@saida.com.br" not in job.claimed_elsewhere  # its own file's are not "elsewhere"
    record = {"identities": ["avisos@compartilhada.com.br", "comunicacao@saida.com.br", "ja-removida@saida.com.br"]}
    result = step_entry(run_step(job, "identities", record), "2026-11-02T00:00:00Z")
    assert result["left"] == ["identity avisos@compartilhada.com.br: another institution's file claims it"]
    assert result["removed"] == ["identity comunicacao@saida.com.br", "mark ja-removida@saida.com.br: the marks "
                                 "given for it (a DMARC risk accepted)"]
    assert result["already_gone"] == ["identity ja-removida@saida.com.br"]
    assert ses.deleted == (["comunicacao@saida.com.br"] if apply else [])
    assert "avisos@compartilhada.com.br" in ses.names
    # the DMARC acceptances of what went (none of what another file claims), only when applied
    assert job.clients["dynamodb"].deleted == ([("saida", "tutormail:dmarc-risk:comunicacao@saida.com.br"),
                                                ("saida", "tutormail:dmarc-risk:ja-removida@saida.com.br")]
                                               if apply else [])
