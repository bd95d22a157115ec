"""Fixes to moto's CloudFormation that a second `cdk deploy` needs."""

from __future__ import annotations

from moto.cloudformation.models import CloudFormationBackend


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
