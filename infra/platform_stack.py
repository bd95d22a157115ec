"""`TutorMail-Platform`: what all institutions share."""

from __future__ import annotations

from aws_cdk import Acknowledgment, ArnFormat, CfnOutput, Duration, Stack, Validations
from aws_cdk import aws_iam as iam
from constructs import Construct
from tutormail import names
from tutormail.aws import permissions
from tutormail.catalog.model import Platform
from tutormail.names import EVENT_LOG_GROUP, FAILED_PAUSES_QUEUE
from tutormail.pipeline.credentials import AUDIENCE, SESSION_SECONDS

from .progress_table import ProgressTable
from .receiving import PlatformInbound
from .reputation import PlatformReputation

GITHUB_ISSUER = "token.actions.githubusercontent.com"


class PlatformStack(Stack):
    """The least privilege the `tutormail` scripts need, as one managed policy.

    Attach it to the support team's role and to the CI roles: it reads identities and the tutormail
    secrets, requests verification links, keeps progress marks in the progress table and reads the
    tutor-mail stacks' templates; nothing else.
    """

    def __init__(self, scope: Construct, construct_id: str, *, platform: Platform, **kwargs) -> None:
        super().__init__(scope, construct_id, description="tutor-mail: shared by every institution",
                         **kwargs)
        identities = self.format_arn(service="ses", resource="identity", resource_name="*")
        secrets = self.format_arn(service="secretsmanager", resource="secret", resource_name=names.SECRET_WILDCARD,
                                  arn_format=ArnFormat.COLON_RESOURCE_NAME)
        self.progress = ProgressTable(self, "Progress")
        inbound = names.inbound_bucket(platform.account, platform.region)
        # The table's fixed name, not a GetAtt: moto's stack updates lose the table's attributes.
        progress = self.format_arn(service="dynamodb", resource="table", resource_name=names.PROGRESS_TABLE)
        stacks = self.format_arn(service="cloudformation", resource="stack",
                                 resource_name=f"{names.STACK_WILDCARD}{names.STACK_ID_SUFFIX}")
        resources = {permissions.IDENTITY: identities, permissions.OWN_IDENTITY: identities,
                     permissions.SECRET: secrets, permissions.PROGRESS: progress, permissions.STACK: stacks,
                     permissions.ZONE: f"arn:{self.partition}:route53:::hostedzone/*", permissions.ANY: "*",
                     permissions.STALE_DKIM: f"arn:{self.partition}:route53:::hostedzone/*",
                     permissions.SMTP_USER: self.format_arn(service="iam", region="", resource="user",
                                                            resource_name=names.SMTP_USER_WILDCARD),
                     permissions.CONFIGURATION_SET: self.format_arn(service="ses", resource="configuration-set",
                                                                    resource_name=names.CONFIGURATION_SET_WILDCARD),
                     permissions.ALARM: self.format_arn(service="cloudwatch", resource="alarm",
                                                        resource_name=names.ALARM_WILDCARD,
                                                        arn_format=ArnFormat.COLON_RESOURCE_NAME),
                     permissions.LOG_GROUP: self.format_arn(service="logs", resource="log-group",
                                                            resource_name=f"{EVENT_LOG_GROUP}{names.LOG_GROUP_ARN_SUFFIX}",
                                                            arn_format=ArnFormat.COLON_RESOURCE_NAME),
                     permissions.FAILED_PAUSES: self.format_arn(service="sqs", resource=FAILED_PAUSES_QUEUE),
                     # Issue 25: named whether or not the platform receives (a grant on nothing is harmless).
                     permissions.INBOUND_BUCKET: f"arn:{self.partition}:s3:::{inbound}",
                     permissions.CHECK_MESSAGES: f"arn:{self.partition}:s3:::{inbound}/{names.CHECK_WILDCARD}",
                     permissions.INBOUND: self.format_arn(service="dynamodb", resource="table",
                                                          resource_name=names.INBOUND_TABLE)}
        resources[permissions.SMTP_SECRET] = self.format_arn(
            service="secretsmanager", resource="secret",
            resource_name=f"{names.SMTP_SECRET_WILDCARD}{names.SECRET_ARN_SUFFIX}",
            arn_format=ArnFormat.COLON_RESOURCE_NAME)
        self._resources = resources
        sids = {permissions.IDENTITY: "SesIdentities", permissions.OWN_IDENTITY: "OwnSesIdentityDeletes",
                permissions.SECRET: "TutormailSecrets",
                permissions.PROGRESS: "ProgressTable", permissions.STACK: "TutormailStacks",
                permissions.ZONE: "HostedZoneReads", permissions.SMTP_USER: "SmtpUsers",
                permissions.CONFIGURATION_SET: "ConfigurationSets", permissions.ALARM: "ReputationAlarms",
                permissions.LOG_GROUP: "SendingEventsLog", permissions.STALE_DKIM: "StaleDkimCnameDeletes",
                permissions.FAILED_PAUSES: "FailedPauses",
                permissions.INBOUND_BUCKET: "CheckMessagesList", permissions.CHECK_MESSAGES: "CheckMessagesRead",
                permissions.INBOUND: "InboundCounts", permissions.ANY: "NotResourceScoped"}
        # Built from the one table of what each command calls (tutormail.aws.permissions).
        self.operator_policy = iam.ManagedPolicy(
            self, "OperatorPolicy", managed_policy_name=names.OPERATOR_POLICY,
            description="What the tutormail CLI calls: SES identities, tutormail secrets, progress table, stacks",
            statements=[iam.PolicyStatement(sid=sids[kind], actions=actions, resources=[resources[kind]],
                                            conditions=permissions.CONDITIONS.get(kind))
                        for kind, actions in permissions.actions_by_resource().items()])
        self._acknowledge_wildcards(self.operator_policy, platform)
        CfnOutput(self, "OperatorPolicyArn", value=self.operator_policy.managed_policy_arn)
        # Alarms' topic, the pause action (writes its mark in the progress table), the event log.
        PlatformReputation(self, "Reputation", platform=platform, progress=self.progress.table)
        if platform.receiving is not None:  # issue 25: the check address and the replies handler
            self.inbound = PlatformInbound(self, "Inbound", platform=platform)

        # `cdk deploy` does its work through the roles `cdk bootstrap` made (the CloudFormation
        # execution role holds the rights to create what the stacks declare); the deploy principal
        # only needs to assume them.
        # https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html
        cdk_roles = [f"arn:{self.partition}:iam::{self.account}:role/cdk-hnb659fds-{role}-role-{self.account}-"
                     f"{self.region}" for role in ("deploy", "file-publishing", "lookup")]
        self.deploy_policy = iam.ManagedPolicy(
            self, "DeployPolicy", managed_policy_name=names.DEPLOY_POLICY,
            description="cdk deploy of the tutor-mail stacks through the CDK bootstrap roles",
            statements=[iam.PolicyStatement(sid="CdkBootstrapRoles", actions=["sts:AssumeRole"],
                                            resources=cdk_roles)])
        if platform.github is not None:
            self._ci_roles(platform, lookup_role=cdk_roles[2])

    def _ci_roles(self, platform: Platform, *, lookup_role: str) -> None:
        """GitHub's OIDC provider and the roles .github/workflows/institutions.yml assumes, each
        trusting only its own subject of this repository (platform.yaml `github`):
        https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services
        https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html"""
        github = platform.github
        provider_arn = self._github_provider(github.oidc_provider)
        # The plan job's reads only (out-of-date, preflight, plan-changes, the offboarding dry run),
        # from the same table as the operator's policy: never a write, never a secret's value.
        read_only = iam.ManagedPolicy(
            self, "PlanPolicy", managed_policy_name=names.PLAN_POLICY,
            description="tutormail pipeline plan and cdk diff: reads only",
            statements=[iam.PolicyStatement(sid="CdkLookupRole", actions=["sts:AssumeRole"], resources=[lookup_role]),
                        *(iam.PolicyStatement(sid=f"Read{n}", actions=actions, resources=[self._resources[kind]])
                          for n, (kind, actions) in enumerate(permissions.actions_by_resource(
                              permissions.read_only(permissions.job_rows("plan"))).items()))])
        self._acknowledge_wildcards(read_only, platform)
        # The offboard and cleanup jobs' rows of the same table, with their conditions: no deploy (no
        # CDK role, no stack update), no identity made, and never an SMTP key.
        offboarding = iam.ManagedPolicy(
            self, "OffboardPolicy", managed_policy_name=names.OFFBOARD_POLICY,
            description="tutormail pipeline offboard and cleanup",
            statements=[*(iam.PolicyStatement(sid=f"Offboard{n}", actions=actions, resources=[self._resources[kind]],
                                              conditions=permissions.CONDITIONS.get(kind))
                          for n, (kind, actions) in enumerate(permissions.actions_by_resource(
                              permissions.job_rows("offboard")).items())),
                        iam.PolicyStatement(sid="NoSmtpKeys", effect=iam.Effect.DENY,
                                            actions=["secretsmanager:GetSecretValue"],
                                            resources=[self._resources[permissions.SMTP_SECRET]])])
        self._acknowledge_wildcards(offboarding, platform)
        # GitHub puts the job's environment in `sub` when it has one, else the pull_request event or
        # the ref (https://docs.github.com/en/actions/reference/security/oidc): one role per subject.
        subjects = {"Plan": ("pull_request", [read_only]),
                    "Deploy": (f"environment:{github.environment}", [self.deploy_policy, self.operator_policy]),
                    "Offboard": (f"environment:{github.offboarding_environment}", [offboarding]),
                    "Watch": (f"ref:refs/heads/{github.branch}", [self.operator_policy])}
        for name, (subject, policies) in subjects.items():
            # The pipeline renews its session before each stack operation (tutormail/pipeline/credentials.py)
            # and asks for exactly this long.
            role = iam.Role(self, f"{name}Role", role_name=names.ci_role(name),
                            description=f"GitHub Actions {name.lower()} job of {github.repository}",
                            managed_policies=policies, max_session_duration=Duration.seconds(SESSION_SECONDS),
                            assumed_by=iam.FederatedPrincipal(provider_arn, {"StringEquals": {
                                f"{GITHUB_ISSUER}:aud": AUDIENCE,
                                f"{GITHUB_ISSUER}:sub": f"repo:{github.repository}:{subject}"}},
                                "sts:AssumeRoleWithWebIdentity"))
            CfnOutput(self, f"{name}RoleArn", value=role.role_arn,
                      description=f"vars.TUTORMAIL_{'OPERATOR' if name == 'Watch' else name.upper()}_ROLE_ARN")


    def _github_provider(self, how: str) -> str:
        """IAM holds one OIDC provider per URL and refuses a second (EntityAlreadyExists), and an
        account that already uses GitHub Actions has it: `existing` trusts that one, named by the
        ARN IAM gives every provider (oidc-provider/<URL without https://>).
        https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html
        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns"""
        if how == "existing":
            return f"arn:{self.partition}:iam::{self.account}:oidc-provider/{GITHUB_ISSUER}"
        return iam.CfnOIDCProvider(self, "GitHubOidc", url=f"https://{GITHUB_ISSUER}",
                                   client_id_list=[AUDIENCE]).attr_arn

    @staticmethod
    def _acknowledge_wildcards(policy: iam.ManagedPolicy, platform: Platform) -> None:
        reason = ("SES read and list calls do not support resource-level permissions; the wildcard "
                  "ARNs are scoped to SES identities of this account and region (named by the institutions' "
                  "own domains, which no prefix covers), to the tutormail/ secret prefix and to the "
                  "tutor-mail stacks (named by institution, each with a stack id); hosted zones are only "
                  "listed (preflight), in zones the institution files name, and only DKIM CNAMEs deleted "
                  "(cleanup: DELETE of CNAME *._domainkey.*, by condition); configuration sets and SMTP users "
                  "are those of the tutormail- prefix (offboard turns them off, verify reads key ages), and so are the "
                  "reputation alarms `reputation` reads; the event record's log group is named in full (the "
                  "trailing :* is the form IAM policies take for a log group's ARN); send-test --check reads only "
                  "the objects under check/ of the received-mail bucket (its test messages, never a reply).")
        where = f"{platform.region}:{platform.account}"
        Validations.of(policy).acknowledge(*(
            Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[{finding}]", reason=reason)
            for finding in ("Resource::*",
                            f"Resource::arn:<AWS::Partition>:ses:{where}:identity/*",
                            f"Resource::arn:<AWS::Partition>:secretsmanager:{where}:secret:{names.SECRET_WILDCARD}",
                            f"Resource::arn:<AWS::Partition>:cloudformation:{where}:stack/{names.STACK_WILDCARD}{names.STACK_ID_SUFFIX}",
                            "Resource::arn:<AWS::Partition>:route53:::hostedzone/*",
                            f"Resource::arn:<AWS::Partition>:ses:{where}:configuration-set/{names.CONFIGURATION_SET_WILDCARD}",
                            f"Resource::arn:<AWS::Partition>:iam::{platform.account}:user/{names.SMTP_USER_WILDCARD}",
                            f"Resource::arn:<AWS::Partition>:cloudwatch:{where}:alarm:{names.ALARM_WILDCARD}",
                            f"Resource::arn:<AWS::Partition>:logs:{where}:log-group:{EVENT_LOG_GROUP}{names.LOG_GROUP_ARN_SUFFIX}",
                            "Resource::arn:<AWS::Partition>:s3:::"
                            f"{names.inbound_bucket(platform.account, platform.region)}/{names.CHECK_WILDCARD}")))
