"""SES identities, one per distinct sender, with their DNS records where the zone is ours."""

from __future__ import annotations

from aws_cdk import CfnOutput, Fn, RemovalPolicy, Tags
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_ses as ses
from constructs import Construct
from tutormail.aws.permissions import IDENTITY_TAG
from tutormail.dnsclient.rdata import quote_txt
from tutormail.plan.build import RECORD_TTL, InstitutionPlan
from tutormail.plan.build import Identity as PlannedIdentity
from tutormail.vocabulary import Provider

from . import logical_ids


def _retain(identity: ses.EmailIdentity, name: str, slug: str) -> None:
    # Deleting an identity breaks live mail and loses its DKIM keys: keep it with the stack gone or
    # replaced. Except when the deploy that created it rolls back: a kept identity would make every
    # retry fail with "already exists" (RetainExceptOnCreate,
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html).
    identity.apply_removal_policy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
    cfn = identity.node.default_child
    cfn.override_logical_id(logical_ids.identity(name))
    # The mark IAM checks before the operator may delete it (tutormail.aws.permissions, OWN_IDENTITY).
    Tags.of(cfn).add(IDENTITY_TAG, slug)


class DomainSender(Construct):
    """A domain identity with Easy DKIM (RSA 2048) and a custom MAIL FROM.

    When its zone is in Route 53, the three DKIM CNAMEs, the MAIL FROM MX and SPF, and DMARC are
    created in that zone (imported by id: synthesis never looks a zone up).
    """

    def __init__(self, scope: Construct, construct_id: str, *, plan: InstitutionPlan,
                 identity: PlannedIdentity, configuration_set: ses.IConfigurationSet) -> None:
        super().__init__(scope, construct_id)
        self.email_identity = ses.EmailIdentity(
            self, "Identity",
            identity=ses.Identity.domain(identity.name),
            configuration_set=configuration_set,
            dkim_identity=ses.DkimIdentity.easy_dkim(ses.EasyDkimSigningKeyLength.RSA_2048_BIT),
            dkim_signing=True,
            mail_from_domain=identity.mail_from,
            mail_from_behavior_on_mx_failure=ses.MailFromBehaviorOnMxFailure.USE_DEFAULT_VALUE,
        )
        _retain(self.email_identity, identity.name, plan.slug)
        if identity.provider != Provider.ROUTE53:
            return
        # One record-set group per domain: Route 53 applies it as one change batch, and the zone is
        # referenced by the id in the files, never looked up.
        cfn_identity = self.email_identity.node.default_child
        tokens = (cfn_identity.attr_dkim_dns_token_name1, cfn_identity.attr_dkim_dns_token_name2,
                  cfn_identity.attr_dkim_dns_token_name3)
        values = (cfn_identity.attr_dkim_dns_token_value1, cfn_identity.attr_dkim_dns_token_value2,
                  cfn_identity.attr_dkim_dns_token_value3)
        record_sets = [route53.CfnRecordSetGroup.RecordSetProperty(
            name=name, type="CNAME", ttl=str(RECORD_TTL), resource_records=[value])
            for name, value in zip(tokens, values, strict=True)]
        record_sets.extend(route53.CfnRecordSetGroup.RecordSetProperty(
            name=record.name, type=record.type, ttl=str(record.ttl),
            resource_records=[quote_txt(record.value) if record.type == "TXT" else record.value])
            for record in plan.records(identity) if record.purpose != "dkim")
        route53.CfnRecordSetGroup(self, "Records", hosted_zone_id=identity.hosted_zone_id,
                                  comment=f"tutor-mail: DKIM, MAIL FROM and DMARC of {identity.name}",
                                  record_sets=record_sets)
        # The DKIM CNAMEs this group holds, as resolved at the stack's last deploy: when SES's tokens
        # change outside CloudFormation, cleanup must leave these (the group's next update deletes
        # them itself, and fails if they are already gone).
        CfnOutput(self, "DkimRecords", value=Fn.join(",", list(tokens)),
                  description=f"DKIM CNAMEs this stack wrote for {identity.name}")


class AddressSender(Construct):
    """An e-mail-address identity (Cenário 2): creating it makes SES mail the verification link."""

    def __init__(self, scope: Construct, construct_id: str, *, identity: PlannedIdentity,
                 configuration_set: ses.IConfigurationSet, slug: str) -> None:
        super().__init__(scope, construct_id)
        self.email_identity = ses.EmailIdentity(
            self, "Identity", identity=ses.Identity.email(identity.name), configuration_set=configuration_set)
        _retain(self.email_identity, identity.name, slug)
