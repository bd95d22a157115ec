"""SES receipt rule sets and rules: CloudFormation creates them, and SES checks a rule's permissions
when it is created (issue 25).

moto 5.2 keeps rule sets and rules (SES v1 API, one active set per account and region) but its
CloudFormation skips AWS::SES::ReceiptRuleSet and AWS::SES::ReceiptRule
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ses-receiptruleset.html,
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ses-receiptrule.html);
these models create them. CloudFormation has no property that makes a rule set active: that stays
SetActiveReceiptRuleSet's.

CreateReceiptRule and UpdateReceiptRule fail when SES could not carry out an action:
InvalidS3Configuration when it may not write to the bucket, InvalidLambdaFunction
when it may not invoke the function
(https://docs.aws.amazon.com/ses/latest/APIReference/API_CreateReceiptRule.html#API_CreateReceiptRule_Errors).
SES proves the bucket by writing `<prefix>AMAZON_SES_SETUP_NOTIFICATION` into it; the sandbox does the
same, decided as every delivery is (sandbox/receiving.py).
"""

from __future__ import annotations

from typing import Any, ClassVar

from moto.core.common_models import CloudFormationModel
from moto.ses import models as ses_models
from moto.ses.exceptions import InvalidLambdaFunctionException, InvalidS3ConfigurationException

SETUP_NOTIFICATION = "AMAZON_SES_SETUP_NOTIFICATION"


def _config(account_id: str, region_name: str):
    from dataclasses import replace

    from ..config import SandboxConfig

    return replace(SandboxConfig.from_env(), account=account_id, region=region_name)


def check_actions(backend: Any, rule_set_name: str, rule: dict[str, Any]) -> None:
    """SES's own try of the rule's S3 and Lambda actions, with the rule's ARN."""
    from .. import receiving

    config = _config(backend.account_id, backend.region_name)
    arn = receiving.rule_arn(config, rule_set_name, rule["Name"])
    for action in rule.get("Actions") or []:
        if "S3Action" in action:
            try:
                receiving.put_as_ses(config, action["S3Action"], arn, SETUP_NOTIFICATION,
                                     b"Amazon SES setup notification\r\n")
            except receiving.ActionFailed as exc:
                raise InvalidS3ConfigurationException(
                    f"Could not write to bucket: {action['S3Action']['BucketName']}") from exc
        if "LambdaAction" in action:
            try:
                receiving.may_invoke(config, action["LambdaAction"]["FunctionArn"], arn)
            except receiving.ActionFailed as exc:
                raise InvalidLambdaFunctionException(
                    f"Could not invoke Lambda function: {action['LambdaAction']['FunctionArn']}") from exc


def patch_permission_checks() -> None:
    create, update = ses_models.SESBackend.create_receipt_rule, ses_models.SESBackend.update_receipt_rule

    def create_receipt_rule(self, rule_set_name: str, rule: dict[str, Any], after: str | None) -> None:
        if rule_set_name in self.receipt_rule_set:
            check_actions(self, rule_set_name, rule)
        create(self, rule_set_name, rule, after)

    def update_receipt_rule(self, rule_set_name: str, rule: dict[str, Any]) -> None:
        if rule_set_name in self.receipt_rule_set:
            check_actions(self, rule_set_name, rule)
        update(self, rule_set_name, rule)

    ses_models.SESBackend.create_receipt_rule = create_receipt_rule
    ses_models.SESBackend.update_receipt_rule = update_receipt_rule


class SesReceiptRuleSet(CloudFormationModel):
    def __init__(self, name: str):
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.name  # Ref: the rule set's name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "RuleSetName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SES::ReceiptRuleSet"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> SesReceiptRuleSet:
        ses_models.ses_backends[account_id][region_name].create_receipt_rule_set(resource_name)
        return cls(resource_name)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: SesReceiptRuleSet, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> SesReceiptRuleSet:
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str) -> None:
        # An active rule set cannot be deleted (CannotDeleteException): the stack's deletion fails, as in AWS.
        ses_models.ses_backends[account_id][region_name].delete_receipt_rule_set(resource_name)


def _rule(cloudformation_json: dict[str, Any], resource_name: str) -> dict[str, Any]:
    rule = dict(cloudformation_json["Properties"]["Rule"])
    rule.setdefault("Name", resource_name)
    return rule


class SesReceiptRule(CloudFormationModel):
    # The rule set of each rule a stack made: a deletion gets the template's unresolved RuleSetName.
    RULE_SETS: ClassVar[dict[str, str]] = {}

    def __init__(self, rule_set: str, name: str):
        self.rule_set, self.name = rule_set, name
        self.RULE_SETS[name] = rule_set

    @property
    def physical_resource_id(self) -> str:
        return self.name  # Ref: the rule's name

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SES::ReceiptRule"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> SesReceiptRule:
        props = cloudformation_json["Properties"]
        rule = _rule(cloudformation_json, resource_name)
        ses_models.ses_backends[account_id][region_name].create_receipt_rule(props["RuleSetName"], rule,
                                                                             props.get("After"))
        return cls(props["RuleSetName"], rule["Name"])

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: SesReceiptRule, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> SesReceiptRule:
        rule = {**_rule(cloudformation_json, original_resource.name), "Name": original_resource.name}
        ses_models.ses_backends[account_id][region_name].update_receipt_rule(original_resource.rule_set, rule)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str) -> None:
        rule_set = ses_models.ses_backends[account_id][region_name].receipt_rule_set.get(
            cls.RULE_SETS.pop(resource_name, ""))
        if rule_set is not None:
            rule_set.rules = [rule for rule in rule_set.rules if rule["Name"] != resource_name]
