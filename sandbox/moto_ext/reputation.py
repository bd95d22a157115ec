"""What moto 5.2 lacks for issue 14: SES v2 PutConfigurationSetSendingOptions, a configuration set
that reports its sending state as a boolean, CloudFormation's AWS::CloudWatch::Alarm, and its
AWS::SNS::TopicPolicy (moto skips the type, so a topic kept SNS's default policy whatever the
template said; the policy now replaces it, as in AWS, and decides whether an alarm may publish) and
AWS::SNS::Subscription (skipped too: the topic had no subscriber); AWS::SQS::QueuePolicy (skipped:
the failed-pauses queue had no policy) and a function's DeadLetterConfig (dropped by moto's
AWS::Lambda::Function: Lambda had nowhere to send a failed invocation).

https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_PutConfigurationSetSendingOptions.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-alarm.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sns-topicpolicy.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sns-subscription.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sqs-queuepolicy.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-function-deadletterconfig.html
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from typing import Any
from urllib.parse import unquote

from moto.awslambda.models import LambdaFunction
from moto.cloudformation.parsing import ResourceMap
from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends
from moto.core.common_models import CloudFormationModel
from moto.ses import models as ses_models
from moto.ses.exceptions import NotFoundException
from moto.sesv2 import urls as sesv2_urls
from moto.sesv2.models import sesv2_backends
from moto.sesv2.responses import SESV2Response
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends


def sending_enabled(config_set: Any) -> bool:
    # moto keeps what CloudFormation passed ({} when nothing): a configuration set sends by default.
    return config_set.enabled if isinstance(config_set.enabled, bool) else True


def find_configuration_set(name: str, account: str, region: str) -> Any:
    return sesv2_backends[account][region].core_backend.config_sets.get(name)


def _put_sending_options(self: SESV2Response) -> str:
    # PUT /v2/email/configuration-sets/{ConfigurationSetName}/sending
    name = unquote(self.path.rstrip("/").split("/")[-2])
    config_set = find_configuration_set(name, self.current_account, self.region)
    if config_set is None:
        raise NotFoundException(f"Configuration set <{name}> does not exist.")
    config_set.enabled = bool(json.loads(self.body or "{}").get("SendingEnabled", False))
    return "{}"


def _to_dict_v2(original):
    def to_dict_v2(self) -> dict[str, Any]:
        data = original(self)
        data["SendingOptions"] = {"SendingEnabled": sending_enabled(self)}
        return data
    return to_dict_v2


class SandboxAlarm(CloudFormationModel):
    """AWS::CloudWatch::Alarm as a moto alarm; the metric-math definition is kept for the sandbox's
    evaluator (sandbox/reputation.py), which is the only thing that moves its state."""

    def __init__(self, name: str):
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> SandboxAlarm:
        props = cloudformation_json["Properties"]
        backend = cloudwatch_backends[account_id][region_name]
        alarm = backend.put_metric_alarm(
            name=resource_name, namespace=props.get("Namespace"), metric_name=props.get("MetricName"),
            comparison_operator=props["ComparisonOperator"], evaluation_periods=props["EvaluationPeriods"],
            period=props.get("Period"), threshold=float(props["Threshold"]), statistic=props.get("Statistic"),
            description=props.get("AlarmDescription", ""), dimensions=props.get("Dimensions", []),
            alarm_actions=props.get("AlarmActions", []), treat_missing_data=props.get("TreatMissingData"))
        alarm.sandbox_metrics = props.get("Metrics", [])
        return cls(resource_name)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: SandboxAlarm, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> SandboxAlarm:
        state = cloudwatch_backends[account_id][region_name].alarms.get(original_resource.name)
        fresh = cls.create_from_cloudformation_json(original_resource.name, cloudformation_json, account_id,
                                                    region_name)
        if state is not None:  # a redeploy changes the definition, never the state
            alarm = cloudwatch_backends[account_id][region_name].alarms[original_resource.name]
            alarm.state_value, alarm.state_reason = state.state_value, state.state_reason
        return fresh

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str) -> None:
        cloudwatch_backends[account_id][region_name].alarms.pop(resource_name, None)


class SandboxTopicPolicy(CloudFormationModel):
    """AWS::SNS::TopicPolicy: the document becomes each listed topic's whole policy (it replaces the
    default one); deleting it gives the topics SNS's default policy back."""

    def __init__(self, name: str, topics: list[str]):
        self.name, self.topics = name, topics

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::TopicPolicy"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> SandboxTopicPolicy:
        props = cloudformation_json["Properties"]
        document = props["PolicyDocument"]
        backend = sns_backends[account_id][region_name]
        for arn in props["Topics"]:
            backend.get_topic(arn).policy = document if isinstance(document, str) else json.dumps(document)
        return cls(resource_name, list(props["Topics"]))

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: SandboxTopicPolicy, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> SandboxTopicPolicy:
        return cls.create_from_cloudformation_json(original_resource.name, cloudformation_json, account_id,
                                                   region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        """Called by moto's stack deletion and rollback with the resolved topics (its fallback,
        delete_from_cloudformation_json, gets the template's unresolved Refs)."""
        backend = sns_backends[account_id][region_name]
        for arn in self.topics:
            topic = backend.topics.get(arn)
            if topic is not None:
                topic._policy_json = topic._create_default_topic_policy(region_name, account_id, topic.name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str) -> None:
        cls(resource_name, [t for t in cloudformation_json["Properties"]["Topics"] if isinstance(t, str)]).delete(
            account_id, region_name)


class SandboxSubscription(CloudFormationModel):
    def __init__(self, arn: str):
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::Subscription"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> SandboxSubscription:
        props = cloudformation_json["Properties"]
        subscription = sns_backends[account_id][region_name].subscribe(props["TopicArn"], props["Endpoint"],
                                                                       props["Protocol"])
        return cls(subscription.arn)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: SandboxSubscription, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> SandboxSubscription:
        sns_backends[account_id][region_name].unsubscribe(original_resource.arn)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        sns_backends[account_id][region_name].unsubscribe(self.arn)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str) -> None:
        cls(resource_name).delete(account_id, region_name)  # moto passes the physical id, the ARN


class SandboxQueuePolicy(CloudFormationModel):
    """AWS::SQS::QueuePolicy: the document becomes each listed queue's policy (Queues are the queues'
    URLs, what Ref of AWS::SQS::Queue returns); deleting it leaves the queues without a policy."""

    def __init__(self, name: str, queues: list[str]):
        self.name, self.queues = name, queues

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SQS::QueuePolicy"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    @staticmethod
    def _set(queues: list[str], document: Any, account_id: str, region_name: str) -> None:
        backend = sqs_backends[account_id][region_name]
        for url in queues:
            queue = backend.queues.get(str(url).rstrip("/").rsplit("/", 1)[-1])
            if queue is not None:
                queue.policy = None if document is None else (
                    document if isinstance(document, str) else json.dumps(document))

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> SandboxQueuePolicy:
        props = cloudformation_json["Properties"]
        cls._set(props["Queues"], props["PolicyDocument"], account_id, region_name)
        return cls(resource_name, list(props["Queues"]))

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: SandboxQueuePolicy, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> SandboxQueuePolicy:
        return cls.create_from_cloudformation_json(original_resource.name, cloudformation_json, account_id,
                                                   region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        self._set(self.queues, None, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str) -> None:
        cls(resource_name, [q for q in cloudformation_json["Properties"]["Queues"] if isinstance(q, str)]).delete(
            account_id, region_name)


def dead_letter_target(function: Any) -> str | None:
    """The function's DeadLetterConfig.TargetArn as its stack declared it, or None."""
    return getattr(function, "sandbox_dead_letter_target", None)


def _keeping_dead_letter_config(create, update):
    def kept(function: Any, properties: dict[str, Any]) -> Any:
        function.sandbox_dead_letter_target = (properties.get("DeadLetterConfig") or {}).get("TargetArn")
        return function

    def create_keeping(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        return kept(create.__func__(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs),
                    cloudformation_json["Properties"])

    def update_keeping(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        return kept(update.__func__(cls, original_resource, new_resource_name, cloudformation_json, account_id,
                                    region_name), cloudformation_json["Properties"])

    return classmethod(create_keeping), classmethod(update_keeping)


_narrowed = threading.local()


def _metric_key(namespace: str, name: str, dimensions: Any) -> tuple:
    return namespace, name, tuple(sorted(dimensions))


def _indexed_get_metric_data(original):
    """moto scans every datum for every query (O(queries x datums)): 500 queries over a fleet's
    metrics take seconds. Each query is answered by moto's own code over only the datums of its
    metric (namespace, name and exact dimension set, as CloudWatch identifies a metric)."""
    all_metrics = CloudWatchBackend.get_all_metrics

    def get_all_metrics(self):
        narrowed = getattr(_narrowed, "data", None)
        return narrowed if narrowed is not None else all_metrics(self)

    def get_metric_data(self, queries, start_time, end_time, scan_by="TimestampAscending"):
        if any("MetricStat" not in q for q in queries):
            return original(self, queries, start_time, end_time, scan_by)
        index: dict[tuple, list] = defaultdict(list)
        for datum in all_metrics(self):
            index[_metric_key(datum.namespace, datum.name, ((d.name, d.value) for d in datum.dimensions))].append(datum)
        results = []
        try:
            for query in queries:
                metric = query["MetricStat"]["Metric"]
                _narrowed.data = index.get(_metric_key(metric["Namespace"], metric["MetricName"], (
                    (d["Name"], d["Value"]) for d in metric.get("Dimensions", []))), [])
                results.extend(original(self, [query], start_time, end_time, scan_by))
        finally:
            _narrowed.data = None
        return results

    CloudWatchBackend.get_all_metrics = get_all_metrics
    return get_metric_data


def _declared_sending(resource: dict[str, Any]) -> bool | None:
    if resource.get("Type") != "AWS::SES::ConfigurationSet":
        return None
    declared = (resource.get("Properties") or {}).get("SendingOptions", {}).get("SendingEnabled")
    return None if declared is None else str(declared).lower() == "true"


def _reapplying_sending_options(update):
    """Whether CloudFormation re-applies an unchanged SendingOptions.SendingEnabled on a stack update is
    not documented (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ses-configurationset.html):
    the sandbox takes the stricter reading, every update of a stack sets each configuration set it
    declares a SendingEnabled for back to that value, so a stack that owns the switch undoes a pause."""
    def update_reapplying(self, template: dict, parameters: dict | None = None) -> None:
        update(self, template, parameters)
        for resource in (template.get("Resources") or {}).values():
            declared = _declared_sending(resource)
            name = (resource.get("Properties") or {}).get("Name")
            config_set = find_configuration_set(name, self._account_id, self._region_name) if isinstance(
                name, str) else None
            if declared is not None and config_set is not None:
                config_set.enabled = declared
    return update_reapplying


def patch() -> None:
    LambdaFunction.create_from_cloudformation_json, LambdaFunction.update_from_cloudformation_json = (
        _keeping_dead_letter_config(LambdaFunction.create_from_cloudformation_json,
                                    LambdaFunction.update_from_cloudformation_json))
    ResourceMap.update = _reapplying_sending_options(ResourceMap.update)
    CloudWatchBackend.get_metric_data = _indexed_get_metric_data(CloudWatchBackend.get_metric_data)
    # moto's "/v2/.*" catch-all becomes a literal werkzeug rule: the operation needs its own path.
    sesv2_urls.url_paths["{0}/v2/email/configuration-sets/(?P<ConfigurationSetName>[^/]+)/sending$"] = (
        SESV2Response.dispatch)
    SESV2Response.put_configuration_set_sending_options = _put_sending_options
    ses_models.ConfigurationSet.to_dict_v2 = _to_dict_v2(ses_models.ConfigurationSet.to_dict_v2)
