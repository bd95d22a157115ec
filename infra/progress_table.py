"""The progress table: where the CLI keeps each sender's progress (tutormail/aws/progress_store.py)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct
from tutormail.aws.progress_store import PARTITION_KEY, SORT_KEY, TABLE

from . import logical_ids


class ProgressTable(Construct):
    """Keyed by institution and mark; on demand, because the CLI writes a few items a day and the
    fleet sweep reads it in bursts. Kept when the stack goes: it is the history of every sender."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self, "Table", table_name=TABLE,
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            # Kept with the stack gone; deleted only if the deploy that created it rolls back, or every
            # retry of a first deploy would fail "already exists" (RetainExceptOnCreate,
            # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html).
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
        self.table.node.default_child.override_logical_id(logical_ids.PROGRESS_TABLE)
