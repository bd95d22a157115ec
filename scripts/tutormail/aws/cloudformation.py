"""CloudFormation reads: a stack's template as deployed, every stack's summary, one stack's status,
a stack's resources."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tutormail.aws import client as aws


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
