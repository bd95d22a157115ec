"""The AWS adapters offboard and cleanup write through, against fake clients that answer as AWS does:
a write whose target is gone, or changed since it was read, is an outcome, not an error."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from tutormail.aws.client import ServiceError
from tutormail.aws.cloudformation import deployment, live_stack, stack_dkim_names
from tutormail.aws.route53 import delete_record_set
from tutormail.aws.ses import delete_identity


def refuse(code, message="", operation="Operation"):
    def call(**kwargs):
        raise ClientError({"Error": {"Code": code, "Message": message}}, operation)
    return call


class Client:
    def __init__(self, **methods):
        self.calls = []
        for name, answer in methods.items():
            setattr(self, name, self._recorded(name, answer))

    def _recorded(self, name, answer):
        def call(**kwargs):
            self.calls.append((name, kwargs))
            return answer(**kwargs) if callable(answer) else answer
        return call


RRSET = {"Name": "velho._domainkey.x.com.br.", "Type": "CNAME", "TTL": 1800,
         "ResourceRecords": [{"Value": "velho.dkim.amazonses.com"}]}


def test_a_record_set_changed_since_it_was_listed_is_not_deleted_and_says_so():
    route53 = Client(change_resource_record_sets={})
    assert delete_record_set(route53, "Z1", RRSET, "tutor-mail cleanup") is True
    assert route53.calls == [("change_resource_record_sets", {"HostedZoneId": "Z1", "ChangeBatch": {
        "Comment": "tutor-mail cleanup", "Changes": [{"Action": "DELETE", "ResourceRecordSet": RRSET}]}})]
    changed = Client(change_resource_record_sets=refuse("InvalidChangeBatch", "values do not match"))
    assert delete_record_set(changed, "Z1", RRSET, "tutor-mail cleanup") is False
    with pytest.raises(ServiceError, match="Throttling"):  # any other refusal is a service error
        delete_record_set(Client(change_resource_record_sets=refuse("Throttling")), "Z1", RRSET, "c")


def test_an_identity_gone_already_is_not_an_error():
    assert delete_identity(Client(delete_email_identity={}), "x.com.br") is True
    assert delete_identity(Client(delete_email_identity=refuse("NotFoundException")), "x.com.br") is False
    with pytest.raises(ServiceError):
        delete_identity(Client(delete_email_identity=refuse("AccessDeniedException")), "x.com.br")


def test_a_deleted_or_missing_stack_is_none_and_its_outputs_name_its_dkim_records():
    gone = Client(describe_stacks=refuse("ValidationError", "Stack with id TutorMail-x does not exist"))
    assert live_stack(gone, "TutorMail-x") is None and deployment(gone, "TutorMail-x") is None
    assert stack_dkim_names(gone, "TutorMail-x") == set()
    deleted = Client(describe_stacks={"Stacks": [{"StackName": "TutorMail-x", "StackStatus": "DELETE_COMPLETE"}]})
    assert live_stack(deleted, "TutorMail-x") is None
    there = Client(describe_stacks={"Stacks": [{"StackName": "TutorMail-x", "StackStatus": "UPDATE_COMPLETE",
                                                "Outputs": [{"OutputValue": "A._domainkey.x.com.br.,b.x.com.br"}]}]})
    assert stack_dkim_names(there, "TutorMail-x") == {"a._domainkey.x.com.br"}
