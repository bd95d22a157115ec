"""CloudWatch Logs: a log group's lines in a window, and whether a log group exists."""

from __future__ import annotations

from typing import Any

from tutormail.aws import client as aws


def log_events(logs: Any, group: str, start_time_ms: int, pages: int) -> list[dict[str, Any]] | None:
    """The group's lines from `start_time_ms` on, oldest first, at most `pages` pages of 1000; None
    when the group does not exist. FilterLogEvents returns the window oldest first, a page at a time
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html):
    the newest are on the last page, so the pages are read to the end."""
    kwargs: dict[str, Any] = {"logGroupName": group, "limit": 1000, "startTime": start_time_ms}
    found: list[dict[str, Any]] = []
    for _ in range(pages):
        try:
            page = aws.call("CloudWatch Logs FilterLogEvents", logs.filter_log_events, **kwargs)
        except aws.ServiceError as exc:
            if aws.is_not_found(exc):
                return None
            raise
        found.extend(page.get("events", []))
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    return found


def log_group_exists(logs: Any, name: str) -> bool:
    """DescribeLogGroups by prefix, and the exact name among those listed
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogGroups.html)."""
    listed = aws.call(f"CloudWatch Logs DescribeLogGroups {name}", logs.describe_log_groups, logGroupNamePrefix=name)
    return any(g["logGroupName"] == name for g in listed.get("logGroups", []))
