"""`TutorMail-Platform`: what all institutions share."""

from __future__ import annotations

from aws_cdk import Acknowledgment, ArnFormat, CfnOutput, Stack, Validations
from aws_cdk import aws_iam as iam
from constructs import Construct
from tutormail.aws import permissions
from tutormail.catalog.model import Platform


class PlatformStack(Stack):
    """The least privilege the `tutormail` scripts need, as one managed policy.

    Attach it to the support team's role and to the CI roles: it reads identities and the tutormail
    secrets, requests verification links and keeps progress marks in the secrets' tags; nothing else.
    """

    def __init__(self, scope: Construct, construct_id: str, *, platform: Platform, **kwargs) -> None:
        super().__init__(scope, construct_id, description="tutor-mail: shared by every institution",
                         **kwargs)
        identities = self.format_arn(service="ses", resource="identity", resource_name="*")
        secrets = self.format_arn(service="secretsmanager", resource="secret", resource_name="tutormail/*",
                                  arn_format=ArnFormat.COLON_RESOURCE_NAME)
        resources = {permissions.IDENTITY: identities, permissions.SECRET: secrets, permissions.ANY: "*"}
        sids = {permissions.IDENTITY: "SesIdentities", permissions.SECRET: "TutormailSecrets",
                permissions.ANY: "NotResourceScoped"}
        # Built from the one table of what each command calls (tutormail.aws.permissions).
        self.operator_policy = iam.ManagedPolicy(
            self, "OperatorPolicy", managed_policy_name="tutormail-operator",
            description="What the tutormail CLI calls: SES identities, tutormail secrets",
            statements=[iam.PolicyStatement(sid=sids[kind], actions=actions, resources=[resources[kind]])
                        for kind, actions in permissions.actions_by_resource().items()])
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

        # `cdk deploy` does its work through the roles `cdk bootstrap` made (the CloudFormation
        # execution role holds the rights to create what the stacks declare); the deploy principal
        # only needs to assume them.
        # https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html
        cdk_roles = [f"arn:{self.partition}:iam::{self.account}:role/cdk-hnb659fds-{role}-role-{self.account}-"
                     f"{self.region}" for role in ("deploy", "file-publishing", "lookup")]
        self.deploy_policy = iam.ManagedPolicy(
            self, "DeployPolicy", managed_policy_name="tutormail-deploy",
            description="cdk deploy of the tutor-mail stacks through the CDK bootstrap roles",
            statements=[iam.PolicyStatement(sid="CdkBootstrapRoles", actions=["sts:AssumeRole"],
                                            resources=cdk_roles)])

