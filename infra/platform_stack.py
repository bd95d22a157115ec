"""`TutorMail-Platform`: what all institutions share."""

from __future__ import annotations

from aws_cdk import Acknowledgment, ArnFormat, CfnOutput, Stack, Validations
from aws_cdk import aws_iam as iam
from constructs import Construct
from tutormail.catalog.model import Platform

from .progress_table import ProgressTable
from .reputation import PlatformReputation


class PlatformStack(Stack):
    """The least privilege the `tutormail` scripts need, as one managed policy.

    Attach it to the support team's role and to the CI deploy role: it reads identities and the
    SMTP secrets, requests verification links, tags identities, and changes records only in the
    platform zone.
    """

    def __init__(self, scope: Construct, construct_id: str, *, platform: Platform, **kwargs) -> None:
        super().__init__(scope, construct_id, description="tutor-mail: shared by every institution",
                         **kwargs)
        identities = self.format_arn(service="ses", resource="identity", resource_name="*")
        secrets = self.format_arn(service="secretsmanager", resource="secret", resource_name="tutormail/*",
                                  arn_format=ArnFormat.COLON_RESOURCE_NAME)
        self.operator_policy = iam.ManagedPolicy(
            self, "OperatorPolicy", managed_policy_name="tutormail-operator",
            description="What the tutormail CLI needs: SES identities, SMTP secrets, platform DNS",
            statements=[
                iam.PolicyStatement(sid="ReadSes", actions=[
                    "ses:GetEmailIdentity", "ses:ListEmailIdentities", "ses:GetAccount"],
                    resources=["*"]),
                iam.PolicyStatement(sid="ManageIdentities", actions=[
                    "ses:CreateEmailIdentity", "ses:TagResource", "ses:UntagResource",
                    "ses:SendCustomVerificationEmail", "ses:VerifyEmailIdentity"],
                    resources=[identities]),
                iam.PolicyStatement(sid="ReadSmtpSecrets", actions=["secretsmanager:GetSecretValue"],
                                    resources=[secrets]),
                iam.PolicyStatement(sid="PlatformZone", actions=[
                    "route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"],
                    resources=[f"arn:{self.partition}:route53:::hostedzone/{platform.hosted_zone_id}"]),
            ])
        reason = ("SES read and list calls do not support resource-level permissions; the wildcard "
                  "ARNs are scoped to SES identities of this account and region and to the tutormail/ "
                  "secret prefix.")
        where = f"{platform.region}:{platform.account}"
        Validations.of(self.operator_policy).acknowledge(*(
            Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[{finding}]", reason=reason)
            for finding in ("Resource::*",
                            f"Resource::arn:<AWS::Partition>:ses:{where}:identity/*",
                            f"Resource::arn:<AWS::Partition>:secretsmanager:{where}:secret:tutormail/*")))
        CfnOutput(self, "OperatorPolicyArn", value=self.operator_policy.managed_policy_arn)
        self.progress = ProgressTable(self, "Progress")
        # issue 14: alarms' topic, pause action (writes its mark in the progress table), event log
        PlatformReputation(self, "Reputation", platform=platform, progress=self.progress.table)

