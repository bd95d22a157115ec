"""`TutorMail-<slug>`: everything one institution needs, deployable on its own."""

from __future__ import annotations

from aws_cdk import Aws, CfnOutput, Stack, Tags
from aws_cdk import aws_events as events
from aws_cdk import aws_ses as ses
from constructs import Construct
from tutormail.aws.permissions import IDENTITY_TAG
from tutormail.catalog.reputation_fields import thresholds_of
from tutormail.plan.build import InstitutionPlan
from tutormail.plan.smtp_policy import send_policies
from tutormail.vocabulary import IdentityKind

from . import logical_ids
from .receiving import InstitutionInbound, inbound_settings
from .reputation import InstitutionAlarms
from .senders import AddressSender, DomainSender
from .smtp_user import SmtpUser

# What each institution's reputation is watched by (EventBridge default bus, one rule per need).
WATCHED_EVENTS = (ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT,
                  ses.EmailSendingEvent.REJECT, ses.EmailSendingEvent.DELIVERY)


class InstitutionStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, plan: InstitutionPlan, **kwargs) -> None:
        super().__init__(scope, construct_id, description=f"tutor-mail sender for {plan.slug}", **kwargs)
        self.plan = plan
        Tags.of(self).add(IDENTITY_TAG, plan.slug)

        # No SendingOptions: the sending switch is `pause`'s, `resume`'s, `offboard`'s and the pause
        # action's (PutConfigurationSetSendingOptions). Whether an update re-applies a declared
        # SendingEnabled is not documented (the property is optional, "Update requires: No interruption":
        # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-ses-configurationset-sendingoptions.html);
        # a stack that declared it could switch a paused institution back on, so it does not own it.
        config = ses.ConfigurationSet(self, "ConfigurationSet", configuration_set_name=plan.configuration_set,
                                      reputation_metrics=True)
        config.node.default_child.override_logical_id(logical_ids.CONFIGURATION_SET)
        config.add_event_destination(
            "Events", configuration_set_event_destination_name="reputation-events",
            destination=ses.EventDestination.event_bus(
                events.EventBus.from_event_bus_name(self, "DefaultBus", "default")),
            events=list(WATCHED_EVENTS))
        InstitutionAlarms(self, "Reputation", slug=plan.slug, configuration_set=config,
                          thresholds=thresholds_of(plan.institution, plan.platform))

        for planned in plan.identities:
            if planned.kind == IdentityKind.DOMAIN:
                DomainSender(self, f"Domain-{planned.name}", plan=plan, identity=planned,
                             configuration_set=config)
            else:
                AddressSender(self, f"Address-{planned.name}", identity=planned, configuration_set=config,
                              slug=plan.slug)
        # Issue 25: replies to the platform address. Every plan holds the platform subdomain's domain
        # identity (verified, as SES's receiving needs: it is the domain the rule receives for).
        if plan.platform.receiving is not None:
            InstitutionInbound(self, "Inbound", slug=plan.slug, platform=plan.platform, settings=inbound_settings(plan))
        CfnOutput(self, "IdentityNames", value=",".join(i.name for i in plan.identities),
                  description="SES identities of the institution, comma-separated")

        smtp = SmtpUser(self, "Smtp", user_name=plan.smtp_user_name, secret_name=plan.secret_name,
                        region=plan.platform.region,
                        # ARNs as text (tutormail.plan.smtp_policy), not format_arn: each jsii call costs
                        # about a millisecond, and synthesis of hundreds of stacks is measured.
                        send_policies=send_policies(plan, Aws.PARTITION),
                        generations=plan.key_generations)
        CfnOutput(self, "SmtpSecretArn", value=smtp.secret.secret_arn,
                  description="Secrets Manager secret holding the SMTP key (read it, never print it)")
        CfnOutput(self, "SmtpUserName", value=smtp.user.user_name)
        CfnOutput(self, "ConfigurationSetName", value=plan.configuration_set)
