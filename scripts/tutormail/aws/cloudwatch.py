"""CloudWatch reads for a fleet in batches: each institution's bounce and complaint rates, and the
state of its alarms.

GetMetricData takes 500 queries a call and two are made per institution, so 4 calls per 1000
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html);
DescribeAlarms by name, 100 a call
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tutormail import names
from tutormail.aws import client as aws

QUERIES_PER_CALL = 500  # GetMetricData's limit
ALARMS_PER_CALL = 100  # DescribeAlarms' limit


def read_rates(cloudwatch: Any, slugs: list[str], now: datetime) -> dict[str, dict[str, float | None]]:
    queries = [{"Id": f"q{index}_{kind}", "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace": "AWS/SES", "MetricName": names.METRIC[kind],
                   "Dimensions": [{"Name": names.DIMENSION, "Value": names.configuration_set(slug)}]},
        "Period": 3600, "Stat": "Maximum"}} for index, slug in enumerate(slugs) for kind in names.KINDS]
    rates: dict[str, dict[str, float | None]] = {slug: dict.fromkeys(names.KINDS) for slug in slugs}
    for start in range(0, len(queries), QUERIES_PER_CALL):
        kwargs: dict[str, Any] = {"MetricDataQueries": queries[start:start + QUERIES_PER_CALL],
                                  "StartTime": now - timedelta(hours=1), "EndTime": now + timedelta(minutes=1),
                                  "ScanBy": "TimestampDescending"}
        while True:
            page = aws.call("CloudWatch GetMetricData", cloudwatch.get_metric_data, **kwargs)
            for result in page.get("MetricDataResults", []):
                index, kind = result["Id"][1:].split("_", 1)
                if result.get("Values"):
                    rates[slugs[int(index)]][kind] = float(result["Values"][0])
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
    return rates


def read_alarms(cloudwatch: Any, slugs: list[str]) -> dict[str, tuple[str, str]]:
    wanted = [names.alarm_name(s, level, kind) for s in slugs for level in names.LEVELS for kind in names.KINDS]
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(wanted), ALARMS_PER_CALL):
        page = aws.call("CloudWatch DescribeAlarms", cloudwatch.describe_alarms,
                        AlarmNames=wanted[start:start + ALARMS_PER_CALL], MaxRecords=ALARMS_PER_CALL)
        for alarm in page.get("MetricAlarms", []):
            found[alarm["AlarmName"]] = (alarm["StateValue"], alarm.get("StateReason", ""))
    return found
