"""SES identities, one per distinct sender, with their DNS records where the zone is ours."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_ses as ses
from constructs import Construct
from tutormail.plan import Identity as PlannedIdentity
from tutormail.plan import InstitutionPlan, Record

from . import logical_ids


def _retain(identity: ses.EmailIdentity, name: str) -> None:
    # Deleting an identity breaks live mail and loses its DKIM keys: keep it with the stack gone.
    identity.apply_removal_policy(RemovalPolicy.RETAIN)
    cfn = identity.node.default_child
    cfn.override_logical_id(logical_ids.identity(name))


def _txt(value: str) -> str:
    return '"' + value.replace('"', '\\"') + '"'


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
        _retain(self.email_identity, identity.name)
        if identity.provider != "route53":
            return
        zone = route53.HostedZone.from_hosted_zone_attributes(
            self, "Zone", hosted_zone_id=identity.hosted_zone_id, zone_name=identity.zone_name)
        for index, dkim in enumerate(self.email_identity.dkim_records, start=1):
            route53.CfnRecordSet(self, f"Dkim{index}", hosted_zone_id=zone.hosted_zone_id, name=dkim.name,
                                 type="CNAME", ttl="1800", resource_records=[dkim.value])
        for record in plan.records(identity):
            if record.purpose != "dkim":
                self._record(zone, record)

    def _record(self, zone: route53.IHostedZone, record: Record) -> None:
        value = _txt(record.value) if record.type == "TXT" else record.value
        construct_id = {"mail-from-mx": "MailFromMx", "mail-from-spf": "MailFromSpf", "dmarc": "Dmarc"}
        route53.CfnRecordSet(self, construct_id[record.purpose], hosted_zone_id=zone.hosted_zone_id,
                             name=record.name, type=record.type, ttl=str(record.ttl),
                             resource_records=[value])


class AddressSender(Construct):
    """An e-mail-address identity (Cenário 2): creating it makes SES mail the verification link."""

    def __init__(self, scope: Construct, construct_id: str, *, identity: PlannedIdentity,
                 configuration_set: ses.IConfigurationSet) -> None:
        super().__init__(scope, construct_id)
        self.email_identity = ses.EmailIdentity(
            self, "Identity", identity=ses.Identity.email(identity.name), configuration_set=configuration_set)
        _retain(self.email_identity, identity.name)
