"""The progress table in TutorMail-Platform, asserted on the synthesized template."""

from aws_cdk.assertions import Template
from tutormail.aws.progress_store import PARTITION_KEY, SORT_KEY, TABLE

from infra import logical_ids


def test_progress_table_is_keyed_by_institution_and_mark_and_kept(example_app):
    template = Template.from_stack(example_app.node.find_child("TutorMail-Platform"))
    found = template.to_json()["Resources"]
    table = found[logical_ids.PROGRESS_TABLE]  # pinned: a new logical id would replace the table and its history
    assert logical_ids.PROGRESS_TABLE == "ProgressTable"
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert table["DeletionPolicy"] == "RetainExceptOnCreate" and table["UpdateReplacePolicy"] == "Retain"
    properties = table["Properties"]
    assert properties["TableName"] == TABLE
    assert properties["KeySchema"] == [{"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
                                       {"AttributeName": SORT_KEY, "KeyType": "RANGE"}]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
