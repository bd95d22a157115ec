"""CloudFormation: a stack's template as deployed, every stack's summary, one stack's status and
resources, one institution's stack as offboard and cleanup read it, and its deletion."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tutormail.aws import client as aws
from tutormail.clock import iso


def original_template(cfn: Any, stack: str) -> dict[str, Any] | None:
    """The template the stack was last deployed with (GetTemplate, one call:
    https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_GetTemplate.html); None when
    the stack does not exist."""
    try:
        answer = aws.call(f"CloudFormation GetTemplate {stack}", cfn.get_template, StackName=stack,
                          TemplateStage="Original")
    except aws.ServiceError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    body = answer["TemplateBody"]
    return json.loads(body) if isinstance(body, str) else body


def every_stack(cfn: Any) -> Iterator[dict[str, Any]]:
    """Every stack of the account and Region: with no StackName DescribeStacks describes them all, a
    page ends at 1 MB (NextToken), so 1000 stacks take a handful of calls, never one per stack
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html)."""
    kwargs: dict[str, Any] = {}
    while True:
        page = aws.call("CloudFormation DescribeStacks", cfn.describe_stacks, **kwargs)
        yield from page.get("Stacks", [])
        if not page.get("NextToken"):
            return
        kwargs["NextToken"] = page["NextToken"]


def stack_status(cfn: Any, stack: str) -> str:
    """`STATUS: reason` of one stack, "not created" when it does not exist, or the error that stopped
    the read (what a failed deploy is explained with, never a reason to fail again)."""
    try:
        found = aws.call(f"CloudFormation DescribeStacks {stack}", cfn.describe_stacks, StackName=stack)["Stacks"]
    except aws.ServiceError as exc:
        return "not created" if "does not exist" in str(exc) else str(exc)
    status = found[0]["StackStatus"] if found else "missing"
    reason = found[0].get("StackStatusReason", "") if found else ""
    return f"{status}: {reason}" if reason else status


def stack_physical_ids(cloudformation: Any, stack_name: str, resource_type: str | None = None) -> set[str]:
    """Physical ids of a stack's resources (of one type), every page: DescribeStackResources returns
    only the first 100, ListStackResources pages with NextToken
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackResources.html,
    https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ListStackResources.html).
    A stack that does not exist holds nothing."""
    found: set[str] = set()
    kwargs: dict[str, Any] = {"StackName": stack_name}
    while True:
        try:
            page = aws.call(f"CloudFormation ListStackResources {stack_name}", cloudformation.list_stack_resources,
                            **kwargs)
        except aws.ServiceError as exc:
            if "does not exist" in str(exc):
                return found
            raise
        found.update(r.get("PhysicalResourceId") for r in page.get("StackResourceSummaries", [])
                     if resource_type is None or r.get("ResourceType") == resource_type)
        if not page.get("NextToken"):
            return found
        kwargs["NextToken"] = page["NextToken"]

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
