"""Fixes to moto's CloudFormation that a second `cdk deploy` needs."""

from __future__ import annotations

from moto.cloudformation.models import CloudFormationBackend
from moto.cloudformation.parsing import ResourceMap, get_references_from_template


def patch_update_parameters() -> None:
    """The CDK CLI updates a stack with UsePreviousValue for BootstrapVersion; moto 5.2 looks the
    previous value up among the parameters passed at creation only, which do not hold a
    parameter left at its default (KeyError). Leave such a parameter to its default instead."""

    def resolve(self, instance, incoming_params):
        parameters = {p["ParameterKey"]: p["ParameterValue"] for p in incoming_params if "ParameterValue" in p}
        for parameter in incoming_params:
            key = parameter["ParameterKey"]
            if parameter.get("UsePreviousValue", False) and key in instance.parameters:
                parameters[key] = instance.parameters[key]
        return parameters

    CloudFormationBackend._resolve_update_parameters = resolve



def patch_metadata_only_changes() -> None:
    """A resource whose declaration differs only in its `Metadata` (the CDK CLI writes
    `aws:cdk:path`, an in-process synthesis does not) is not updated by CloudFormation: metadata
    alone cannot even make an update
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/metadata-section-structure.html).
    moto 5.2 updates it, and for a type it cannot update (AWS::DynamoDB::Table, AWS::Logs::LogGroup)
    keeps None in its place, so a later Fn::GetAtt on it fails the whole update. A resource that
    refers to a parameter whose value changes is still updated (moto's own rule)."""
    original = ResourceMap.build_resource_diff

    def build_resource_diff(self, other_template, parameters=None):
        actions = original(self, other_template, parameters)
        old, new = self._resource_json_map, other_template["Resources"]
        changed = [p for p in parameters or {} if self.input_parameters.get(p) != parameters[p]]
        actions["Modify"] = [name for name in actions["Modify"]
                             if _without_metadata(new[name]) != _without_metadata(old[name])
                             or any(p in get_references_from_template(new[name]) for p in changed)]
        return actions

    ResourceMap.build_resource_diff = build_resource_diff


def _without_metadata(resource: dict) -> dict:
    return {k: v for k, v in resource.items() if k != "Metadata"}
