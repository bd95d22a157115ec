"""CloudFormation: one institution's stack as offboard and cleanup read it, and its deletion."""

from __future__ import annotations

from typing import Any

from tutormail.aws import client as aws
from tutormail.clock import iso

# CloudFormation deletes a stack in minutes; wait up to 30 of them, asking every 5 seconds.
STACK_WAIT = {"Delay": 5, "MaxAttempts": 360}


def live_stack(cfn: Any, stack: str) -> dict | None:
    """The stack as DescribeStacks gives it, None when there is none (or only a deleted one)
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html)."""
    try:
        described = aws.call(f"CloudFormation DescribeStacks {stack}", cfn.describe_stacks, StackName=stack)
    except aws.ServiceError as exc:
        if "does not exist" in str(exc) or aws.is_not_found(exc):
            return None
        raise
    return next((s for s in described.get("Stacks", []) if s.get("StackStatus") != "DELETE_COMPLETE"), None)


def deployment(cfn: Any, stack: str) -> dict | None:
    """The deployment there now, as an offboarding record names it; None when no stack exists."""
    found = live_stack(cfn, stack)
    if found is None:
        return None
    parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in found.get("Parameters", [])}
    return {"stack_id": found["StackId"], "created": iso(found["CreationTime"]),
            "template_hash": parameters.get("TemplateHash"), "status": found["StackStatus"]}


def stack_dkim_names(cfn: Any, stack: str) -> set[str]:
    """The DKIM CNAMEs the deployed stack's record-set groups wrote, from its outputs (infra/senders.py),
    resolved at its last deploy: one of them looks stale when SES's tokens changed outside
    CloudFormation, yet the group's next update deletes it, and that update fails if it is gone."""
    found = live_stack(cfn, stack) or {}
    return {name.lower().rstrip(".") for output in found.get("Outputs", [])
            for name in str(output.get("OutputValue", "")).split(",") if "._domainkey." in name}


def delete_stack(cfn: Any, stack: str) -> None:
    """DeleteStack, then waited for until it is gone
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeleteStack.html)."""
    aws.call(f"CloudFormation DeleteStack {stack}", cfn.delete_stack, StackName=stack)
    aws.call(f"CloudFormation wait stack-delete-complete {stack}", cfn.get_waiter("stack_delete_complete").wait,
             StackName=stack, WaiterConfig=STACK_WAIT)
