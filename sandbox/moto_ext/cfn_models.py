"""CloudFormation types moto 5.2 does not create: SES configuration sets and their event
destinations, Secrets Manager secrets, S3 bucket policies; and Route 53 record-set groups mirrored
into BIND."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import dns.name
import dns.query
import dns.rcode
import dns.tsigkeyring
import dns.update
from moto.core.common_models import CloudFormationModel
from moto.route53 import models as route53_models
from moto.secretsmanager.models import secretsmanager_backends
from moto.sesv2.models import sesv2_backends
from tutormail.dnsclient.rdata import zone_rdata

from ..config import SandboxConfig
from . import route53_conflicts


class SesConfigurationSet(CloudFormationModel):
    def __init__(self, name: str):
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SES::ConfigurationSet"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> SesConfigurationSet:
        backend = sesv2_backends[account_id][region_name]
        if resource_name not in backend.core_backend.config_sets:
            backend.create_configuration_set(resource_name, {}, {}, {}, {}, [], {}, {})
        return cls(resource_name)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: SesConfigurationSet, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> SesConfigurationSet:
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str) -> None:
        sesv2_backends[account_id][region_name].core_backend.config_sets.pop(resource_name, None)


class SesEventDestination(CloudFormationModel):
    """Kept as declared; the sandbox does not emit sending events."""

    def __init__(self, configuration_set: str, destination: dict[str, Any]):
        self.configuration_set = configuration_set
        self.destination = destination

    @property
    def physical_resource_id(self) -> str:
        return f"{self.configuration_set}|{self.destination.get('Name', 'events')}"

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SES::ConfigurationSetEventDestination"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> SesEventDestination:
        props = cloudformation_json["Properties"]
        return cls(props["ConfigurationSetName"], props.get("EventDestination", {}))

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: SesEventDestination, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> SesEventDestination:
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str) -> None:
        return None


class SecretsManagerSecret(CloudFormationModel):
    def __init__(self, arn: str, name: str):
        self.arn = arn
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.arn  # Ref of AWS::SecretsManager::Secret is its ARN

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::Secret"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> SecretsManagerSecret:
        props = cloudformation_json["Properties"]
        backend = secretsmanager_backends[account_id][region_name]
        name = props.get("Name", resource_name)
        if backend.secrets.get(name) is not None:
            backend.put_secret_value(secret_id=name, secret_string=props.get("SecretString"), secret_binary=None,
                                     client_request_token=None, version_stages=["AWSCURRENT"])
        else:
            backend.create_secret(name=name, secret_string=props.get("SecretString"), secret_binary=None,
                                  description=props.get("Description"), tags=props.get("Tags"), kms_key_id=None,
                                  client_request_token=None, replica_regions=[], force_overwrite=False)
        return cls(backend.secrets[name].arn, name)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: SecretsManagerSecret, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> SecretsManagerSecret:
        # A key rotation changes the secret's value: store it as the new current version.
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str) -> None:
        backend = secretsmanager_backends[account_id][region_name]
        if backend.secrets.get(resource_name) is not None:
            backend.delete_secret(secret_id=resource_name, recovery_window_in_days=None,
                                  force_delete_without_recovery=True)


class S3BucketPolicy(CloudFormationModel):
    """AWS::S3::BucketPolicy: the bucket's policy, which SES receiving's S3 action is decided on
    (sandbox/receiving.py); the sandbox's IAM enforcement of API calls does not read bucket policies
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-s3-bucketpolicy.html)."""

    def __init__(self, bucket: str):
        self.bucket = bucket

    @property
    def physical_resource_id(self) -> str:
        return self.bucket

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> S3BucketPolicy:
        from moto.s3.models import s3_backends

        props = cloudformation_json["Properties"]
        document = props["PolicyDocument"]
        s3_backends[account_id]["aws"].put_bucket_policy(
            props["Bucket"], (document if isinstance(document, str) else json.dumps(document)).encode())
        return cls(props["Bucket"])

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: S3BucketPolicy, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> S3BucketPolicy:
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str) -> None:
        from moto.s3.models import s3_backends

        # resource_name is the physical id (the bucket): a deletion gets the template's unresolved Ref.
        backend = s3_backends[account_id]["aws"]
        if resource_name in backend.buckets:
            backend.delete_bucket_policy(resource_name)


def patch_bucket_policy_check() -> None:
    """moto checks a bucket policy's principal-* statements on S3 requests without their conditions
    (moto/s3/models.py FakeBucket.get_permission), which turns CDK's bootstrap "Deny unless
    aws:SecureTransport" into a deny of every upload, and a conditional Allow into an unconditional one.
    Its check keeps the statements without a condition only; the conditional ones are decided where
    the sandbox evaluates them with their context (SES receiving's writes, sandbox/receiving.py)."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self, action: str, resource: str):
        if self.policy is None:
            return PermissionResult.NEUTRAL
        document = json.loads(self.policy)
        statements = document.get("Statement", [])
        kept = [s for s in (statements if isinstance(statements, list) else [statements]) if "Condition" not in s]
        if not kept:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps({**document, "Statement": kept})).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission


def _dns_update(zone_name: str) -> tuple[dns.update.UpdateMessage, str, int] | None:
    config = SandboxConfig.from_env()
    if not config.dns_server or not config.dns_update_key:
        return None
    key_name, algorithm, secret = config.dns_update_key.split(":", 2)
    update = dns.update.UpdateMessage(zone_name, keyring=dns.tsigkeyring.from_text({key_name: secret}),
                                      keyname=key_name, keyalgorithm=algorithm)
    host, _, port = config.dns_server.rpartition(":")
    return update, host, int(port)


def _record_values(record: dict[str, Any]) -> list[str]:
    return [zone_rdata(record["Type"], v if isinstance(v, str) else v["Value"])
            for v in record.get("ResourceRecords", [])]


def mirror_to_dns(zone_name: str, added: list[dict[str, Any]], removed: list[dict[str, Any]] = ()) -> None:
    """Writes records that a stack put in (emulated) Route 53 into the sandbox BIND, so they resolve
    as they would from Route 53's name servers. It never overwrites: each added record set carries
    the RFC 2136 prerequisite "RRset does not exist" (section 2.4.3), and a removal deletes only the
    values the stack had written."""
    prepared = _dns_update(zone_name)
    if prepared is None or not (added or removed):
        return
    update, host, port = prepared
    for record in removed:
        name = dns.name.from_text(record["Name"])
        for value in _record_values(record):
            update.delete(name, record["Type"], value)
    for record in added:
        name = dns.name.from_text(record["Name"])
        update.absent(name, record["Type"])
        for value in _record_values(record):
            update.add(name, int(record.get("TTL", 300)), record["Type"], value)
    response = dns.query.tcp(update, host, port=port, timeout=5)
    if response.rcode() == dns.rcode.YXRRSET:
        raise route53_conflicts.InvalidChangeBatch(
            f"a record set to create already exists in the sandbox DNS of {zone_name}")
    if response.rcode() != dns.rcode.NOERROR:
        raise RuntimeError(f"sandbox DNS refused the mirror of {zone_name}: {dns.rcode.to_text(response.rcode())}")


class OwnRecordSetGroup(route53_models.RecordSetGroup):
    """moto names every group after its zone, and a deletion gets the template's unresolved record
    sets: a physical id of its own lets the deletion find the values the group wrote."""

    WRITTEN: ClassVar[dict[str, list[dict[str, Any]]]] = {}

    def __init__(self, physical_id: str, region_name: str, hosted_zone_id: str, record_sets: list):
        super().__init__(region_name, hosted_zone_id, record_sets)
        self._physical_id = physical_id
        self.WRITTEN[physical_id] = record_sets

    @property
    def physical_resource_id(self) -> str:
        return self._physical_id


def patch_route53() -> None:
    """AWS::Route53::RecordSetGroup creates its record sets (route53_conflicts: never overwrites),
    mirrored into BIND; an update replaces the group's own record sets; a deletion removes them."""

    def _zone(account_id: str, properties: dict[str, Any]):
        backend = route53_models.route53_backends[account_id]["aws"]
        return backend.get_hosted_zone(properties["HostedZoneId"])

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        zone = _zone(account_id, properties)
        to_add = route53_conflicts.check_create(zone, properties["RecordSets"])
        mirror_to_dns(zone.name, to_add)
        for record in to_add:
            zone.add_rrset(record)
        return OwnRecordSetGroup(resource_name, region_name, zone.resource_id, properties["RecordSets"])

    def update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        properties = cloudformation_json["Properties"]
        zone = _zone(account_id, properties)
        old = [r for r in original_resource.record_sets if r not in properties["RecordSets"]]
        route53_conflicts.release(zone, old)
        to_add = route53_conflicts.check_create(zone, properties["RecordSets"])
        mirror_to_dns(zone.name, to_add, old)
        for record in to_add:
            zone.add_rrset(record)
        physical_id = getattr(original_resource, "_physical_id", new_resource_name)
        return OwnRecordSetGroup(physical_id, region_name, zone.resource_id, properties["RecordSets"])

    def delete(cls, resource_name, cloudformation_json, account_id, region_name):
        written = OwnRecordSetGroup.WRITTEN.pop(resource_name, [])
        zone = _zone(account_id, cloudformation_json["Properties"])
        route53_conflicts.release(zone, written)
        mirror_to_dns(zone.name, [], written)

    route53_models.RecordSetGroup.create_from_cloudformation_json = classmethod(create)
    route53_models.RecordSetGroup.update_from_cloudformation_json = classmethod(update)
    route53_models.RecordSetGroup.delete_from_cloudformation_json = classmethod(delete)
