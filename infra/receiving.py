"""Receiving on the platform domain (issue 25).

- `PlatformInbound` (in the platform stack): the bucket received mail is stored in, the receipt rule
  set, the check address's rule (S3 under check/, then stop), the MX of the check subdomain, the
  replies handler (a Lambda of the package, tutormail.inbound.replies) and its small table.
- the replies rule (in the platform stack): every `*@<slug>.<platform_domain>` stored under replies/,
  then the replies handler, which finds the institution from the recipient. One rule for all: a set
  holds 200 rules (https://docs.aws.amazon.com/ses/latest/dg/quotas.html), and a rule that listed
  institutions would be dropped by a fast-path synthesis of some of them.
- `InstitutionInbound` (in each institution's stack): the MX of `<slug>.<platform_domain>` and the
  handler's settings of that institution (an SSM parameter).

There is no CloudFormation property that activates a rule set (AWS::SES::ReceiptRuleSet has only its
name: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ses-receiptruleset.html),
and one set per account and region is active: `tutormail receiving-activate` does it, and refuses to
replace another active set (`preflight --platform` reports one before the first deploy).
"""

from __future__ import annotations

import json

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Tags, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ses as ses
from aws_cdk import aws_ssm as ssm
from constructs import Construct
from tutormail import names
from tutormail.aws.permissions import IDENTITY_TAG
from tutormail.aws.progress_store import PARTITION_KEY, SORT_KEY
from tutormail.catalog.entities import platform_default_address
from tutormail.catalog.model import Platform
from tutormail.catalog.receiving_fields import check_domain, inbound_endpoint
from tutormail.inbound.replies import EXPIRES
from tutormail.plan.build import RECORD_TTL, InstitutionPlan

from . import logical_ids
from .reputation import _function

MX_TTL = 300


def rule_arn(stack: Stack, rule: str) -> str:
    """The `aws:SourceArn` SES gives for a receipt rule
    (https://docs.aws.amazon.com/ses/latest/dg/receiving-email-permissions.html)."""
    return (f"arn:{stack.partition}:ses:{stack.region}:{stack.account}:receipt-rule-set/{names.RECEIPT_RULE_SET}:"
            f"receipt-rule/{rule}")


def _mx(name: str, region: str) -> route53.CfnRecordSetGroup.RecordSetProperty:
    # MX to the region's inbound endpoint (https://docs.aws.amazon.com/ses/latest/dg/regions.html#region-receive-email).
    return route53.CfnRecordSetGroup.RecordSetProperty(name=name, type="MX", ttl=str(MX_TTL),
                                                       resource_records=[f"10 {inbound_endpoint(region)}"])


class PlatformInbound(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, platform: Platform) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        receiving = platform.receiving
        self.bucket = self._bucket(platform, receiving.retention_days)
        rule_set = ses.CfnReceiptRuleSet(self, "RuleSet", rule_set_name=names.RECEIPT_RULE_SET)
        rule_set.override_logical_id(logical_ids.RECEIPT_RULE_SET)
        rule_set.apply_removal_policy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
        # SES may write only under each rule's own prefix, for its own rules (aws:SourceArn, aws:SourceAccount:
        # https://docs.aws.amazon.com/ses/latest/dg/receiving-email-permissions.html).
        self._allow_ses(names.CHECK_PREFIX, rule_arn(stack, names.CHECK_RULE), "CheckMessages")
        self._allow_ses(names.REPLIES_PREFIX, rule_arn(stack, names.REPLIES_RULE), "Replies")
        Rule = ses.CfnReceiptRule
        check = Rule(self, "CheckRule", rule_set_name=names.RECEIPT_RULE_SET, rule=Rule.RuleProperty(
            name=names.CHECK_RULE, enabled=True, recipients=[check_domain(platform)], scan_enabled=True,
            actions=[ses.CfnReceiptRule.ActionProperty(s3_action=ses.CfnReceiptRule.S3ActionProperty(
                         bucket_name=self.bucket.bucket_name, object_key_prefix=names.CHECK_PREFIX)),
                     ses.CfnReceiptRule.ActionProperty(stop_action=ses.CfnReceiptRule.StopActionProperty(
                         scope="RuleSet"))]))
        check.add_resource_dependency(rule_set)
        check.add_resource_dependency(self.bucket.policy.node.default_child)
        self._check_identity(platform)
        self.table = self._table()
        self.function = self._replies(platform)
        # One rule for every institution: `.<platform_domain>` matches the addresses of all its subdomains
        # (https://docs.aws.amazon.com/ses/latest/dg/receiving-email-receipt-rules-console-walkthrough.html),
        # so the set's 200 rules (https://docs.aws.amazon.com/ses/latest/dg/quotas.html) never bound the
        # fleet and the platform stack lists no institution. It comes after the check rule, whose
        # StopAction keeps the check subdomain's mail out of it; SES receives only for verified domains,
        # so only the subdomains of deployed institutions (their identities) get here.
        replies = Rule(self, "RepliesRule", rule_set_name=names.RECEIPT_RULE_SET, rule=Rule.RuleProperty(
            name=names.REPLIES_RULE, enabled=True, recipients=[f".{platform.platform_domain}"], scan_enabled=True,
            actions=[ses.CfnReceiptRule.ActionProperty(s3_action=ses.CfnReceiptRule.S3ActionProperty(
                         bucket_name=self.bucket.bucket_name, object_key_prefix=names.REPLIES_PREFIX)),
                     ses.CfnReceiptRule.ActionProperty(lambda_action=ses.CfnReceiptRule.LambdaActionProperty(
                         function_arn=self.function.function_arn, invocation_type="Event"))]),
            after=names.CHECK_RULE)
        replies.add_dependency(check)
        replies.add_resource_dependency(self.bucket.policy.node.default_child)
        # SES checks its permission to invoke the function when the rule is created
        replies.add_dependency(self.function.node.find_child("SesInvoke"))

    def _check_identity(self, platform: Platform) -> None:
        """SES receives only for verified domains (https://docs.aws.amazon.com/ses/latest/dg/receiving-email-verification.html):
        the check subdomain is a domain identity of its own, verified by its DKIM CNAMEs in the platform zone."""
        identity = ses.EmailIdentity(self, "CheckIdentity", identity=ses.Identity.domain(check_domain(platform)),
                                     dkim_identity=ses.DkimIdentity.easy_dkim(ses.EasyDkimSigningKeyLength.RSA_2048_BIT))
        cfn = identity.node.default_child
        tokens = ((cfn.attr_dkim_dns_token_name1, cfn.attr_dkim_dns_token_value1),
                  (cfn.attr_dkim_dns_token_name2, cfn.attr_dkim_dns_token_value2),
                  (cfn.attr_dkim_dns_token_name3, cfn.attr_dkim_dns_token_value3))
        # One group, as the senders' records are (one change batch; the sandbox mirrors groups into its DNS).
        route53.CfnRecordSetGroup(self, "CheckRecords", hosted_zone_id=platform.hosted_zone_id,
                                  comment=f"tutor-mail: DKIM and MX of {check_domain(platform)} (receiving only)",
                                  record_sets=[*(route53.CfnRecordSetGroup.RecordSetProperty(
                                      name=name, type="CNAME", ttl=str(RECORD_TTL), resource_records=[value])
                                      for name, value in tokens), _mx(check_domain(platform), platform.region)])

    def _bucket(self, platform: Platform, days: int) -> s3.Bucket:
        bucket = s3.Bucket(self, "Bucket", bucket_name=names.inbound_bucket(platform.account, platform.region),
                           encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
                           block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                           object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
                           lifecycle_rules=[s3.LifecycleRule(id="expire-received-mail",
                                                             expiration=Duration.days(days))],
                           removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
        bucket.node.default_child.override_logical_id(logical_ids.INBOUND_BUCKET)
        Validations.of(bucket).acknowledge(Acknowledgment(
            id="AwsSolutions-S1", reason="Received mail expires within days and only SES writes it; the "
            "readers (send-test --check, the replies handler) are logged by CloudTrail, not server access logs."))
        return bucket

    def _allow_ses(self, prefix: str, source_arn: str, sid: str) -> None:
        stack = Stack.of(self)
        self.bucket.add_to_resource_policy(iam.PolicyStatement(
            sid=f"SesPuts{sid}", actions=["s3:PutObject"], resources=[self.bucket.arn_for_objects(f"{prefix}*")],
            principals=[iam.ServicePrincipal("ses.amazonaws.com")],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account},
                        "ArnLike": {"aws:SourceArn": source_arn}}))

    def _table(self) -> dynamodb.Table:
        """Who was answered today (expiring items, DynamoDB TTL) and what each institution received."""
        table = dynamodb.Table(
            self, "Table", table_name=names.INBOUND_TABLE,
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST, time_to_live_attribute=EXPIRES,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
        table.node.default_child.override_logical_id(logical_ids.INBOUND_TABLE)
        return table

    def _replies(self, platform: Platform) -> lambda_.Function:
        stack = Stack.of(self)
        role = iam.Role(self, "RepliesRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description="tutormail replies: reads received replies, forwards or answers as the "
                        "platform addresses, counts them")
        role.add_to_policy(iam.PolicyStatement(sid="ReadReplies", actions=["s3:GetObject"],
                                               resources=[self.bucket.arn_for_objects(names.REPLIES_WILDCARD)]))
        # Only the platform subdomains' identities (<slug>.<platform_domain>) send the forward or the note.
        platform_identities = (f"arn:{stack.partition}:ses:{stack.region}:{stack.account}:identity/"
                               f"*.{platform.platform_domain}")
        role.add_to_policy(iam.PolicyStatement(sid="SendAsPlatform", actions=["ses:SendRawEmail"],
                                               resources=[platform_identities]))
        role.add_to_policy(iam.PolicyStatement(
            sid="InstitutionSettings", actions=["ssm:GetParameter"],
            resources=[f"arn:{stack.partition}:ssm:{stack.region}:{stack.account}:parameter{names.INBOUND_SETTINGS_WILDCARD}"]))
        role.add_to_policy(iam.PolicyStatement(
            sid="InstitutionConfigurationSets", actions=["ses:SendRawEmail"],
            resources=[f"arn:{stack.partition}:ses:{stack.region}:{stack.account}:configuration-set/"
                       f"{names.CONFIGURATION_SET_WILDCARD}"]))
        role.add_to_policy(iam.PolicyStatement(sid="Marks", actions=["dynamodb:PutItem", "dynamodb:UpdateItem"],
                                               resources=[self.table.table_arn]))
        Validations.of(role).acknowledge(
            Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[Resource::<{logical_ids.INBOUND_BUCKET}.Arn>/"
                              f"{names.REPLIES_WILDCARD}]",
                           reason="Replies are stored one object per message under replies/."),
            Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:{stack.region}:"
                              f"{stack.account}:identity/*.{platform.platform_domain}]",
                           reason="Every institution's platform subdomain identity, and no other identity."),
            Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:{stack.region}:"
                              f"{stack.account}:parameter{names.INBOUND_SETTINGS_WILDCARD}]",
                           reason="Each institution's replies settings, one parameter each, written by its stack."),
            Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:{stack.region}:"
                              f"{stack.account}:configuration-set/{names.CONFIGURATION_SET_WILDCARD}]",
                           reason="The answer goes through the institution's own configuration set (its reputation)."))
        function, _ = _function(self, "Replies", names.REPLIES_FUNCTION, "tutormail.inbound.replies.handler", role,
                                platform.reputation.event_retention_days,
                                "Forwards replies to the platform addresses, or answers them once a day")
        function.add_environment("TUTORMAIL_INBOUND_BUCKET", self.bucket.bucket_name)
        function.add_environment("TUTORMAIL_PLATFORM_DOMAIN", platform.platform_domain)
        # SES invokes it for the institutions' reply rules only (https://docs.aws.amazon.com/ses/latest/dg/receiving-email-permissions.html).
        function.add_permission("SesInvoke", principal=iam.ServicePrincipal("ses.amazonaws.com"),
                                source_account=stack.account, source_arn=rule_arn(stack, names.REPLIES_RULE))
        return function


def inbound_settings(plan: InstitutionPlan) -> dict:
    """The replies handler's settings of one institution: who answers (the platform address, with the
    institution's name), where replies go (`replies_to`), and the address the note points to (the
    first of the institution's own addresses, when it has one)."""
    institution, platform = plan.institution, plan.platform
    own = [a.address.ascii for c in institution.companies for a in c.accounts if not a.is_platform_default]
    return {"name": institution.name, "from_address": platform_default_address(plan.slug, platform),
            "replies_to": institution.replies_to, "contact": own[0] if own else None}


class InstitutionInbound(Construct):
    """The platform subdomain's MX and the replies handler's settings; the platform's one replies rule
    receives for every platform subdomain."""

    def __init__(self, scope: Construct, construct_id: str, *, slug: str, platform: Platform, settings: dict) -> None:
        super().__init__(scope, construct_id)
        domain = f"{slug}.{platform.platform_domain}"
        # What the handler needs of the file (it carries no catalogue): names and addresses only.
        parameter = ssm.StringParameter(self, "Settings", parameter_name=names.inbound_settings(slug),
                                        string_value=json.dumps(settings, sort_keys=True, ensure_ascii=False),
                                        description=f"tutormail replies settings of {slug}")
        # Untagged: moto's CloudFormation reads AWS::SSM::Parameter's Tags as a list, where the type
        # takes a map, and fails the stack; the parameter's name already says whose it is.
        Tags.of(parameter).remove(IDENTITY_TAG, priority=200)
        route53.CfnRecordSetGroup(self, "Mx", hosted_zone_id=platform.hosted_zone_id,
                                  comment=f"tutor-mail: MX of {domain} (replies to the platform address)",
                                  record_sets=[_mx(domain, platform.region)])
