#!/usr/bin/env python3
"""`reputation --all` over many institutions on the sandbox, against a naive read in the same process.

Generates N institutions (default 1000), creates in the sandbox's emulated AWS their pause marks
(in the progress table), their four alarms, a bounce and a complaint rate each and a few
logged events, then times `tutormail.reputation.use_cases.fleet_health` (batched reads) and a
baseline (per institution: GetMetricData, DescribeAlarms, GetConfigurationSet, a Query of its marks),
counting every AWS call each makes.

    .venv/bin/python bench/reputation.py [--institutions 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
from botocore.config import Config

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from status_sweep import counted, generate  # noqa: E402
from tutormail import names  # noqa: E402
from tutormail.aws.progress_marks import PAUSED  # noqa: E402
from tutormail.aws.progress_store import ProgressStore  # noqa: E402
from tutormail.plan.loader import load_catalog  # noqa: E402
from tutormail.reputation.event_log import record  # noqa: E402
from tutormail.reputation.use_cases import fleet_health  # noqa: E402

from sandbox import launcher  # noqa: E402
from sandbox.progress_table import ensure_progress_table  # noqa: E402
from sandbox.reputation import ses_event  # noqa: E402

SERVICES = ("cloudwatch", "logs", "sesv2", "dynamodb")


def populate(slugs: list[str], region: str) -> None:
    # botocore gzips a large PutMetricData body; moto cannot read it and answers SignatureDoesNotMatch.
    # Only the bench's own seeding sends it (the product never puts metrics).
    cloudwatch = boto3.client("cloudwatch", region_name=region,
                              config=Config(disable_request_compression=True))
    ensure_progress_table(region)  # what TutorMail-Platform does
    sesv2 = boto3.client("sesv2", region_name=region)
    data = []
    for number, slug in enumerate(slugs):
        sesv2.create_configuration_set(ConfigurationSetName=names.configuration_set(slug))
        dimensions = [{"Name": names.DIMENSION, "Value": names.configuration_set(slug)}]
        for level in names.LEVELS:
            for kind in names.KINDS:
                cloudwatch.put_metric_alarm(AlarmName=names.alarm_name(slug, level, kind), Namespace="AWS/SES",
                                            MetricName=names.METRIC[kind], Dimensions=dimensions, Period=3600,
                                            EvaluationPeriods=1, Threshold=0.04, Statistic="Maximum",
                                            ComparisonOperator="GreaterThanOrEqualToThreshold")
        data += [{"MetricName": names.METRIC["bounce"], "Value": (number % 50) / 1000, "Dimensions": dimensions},
                 {"MetricName": names.METRIC["complaint"], "Value": (number % 7) / 10000, "Dimensions": dimensions}]
    ProgressStore(region).put({slug: {PAUSED: f"paused 2026-01-01T00:00:00Z bench reason {number}"}
                               for number, slug in enumerate(slugs) if number % 100 == 0})
    for start in range(0, len(data), 1000):  # PutMetricData takes 1000 datums a call
        cloudwatch.put_metric_data(Namespace="AWS/SES", MetricData=data[start:start + 1000])
    logs = boto3.client("logs", region_name=region)
    logs.create_log_group(logGroupName=names.EVENT_LOG_GROUP)
    logs.create_log_stream(logGroupName=names.EVENT_LOG_GROUP, logStreamName="bench")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=names.EVENT_LOG_GROUP, logStreamName="bench", logEvents=[
        {"timestamp": now, "message": json.dumps(record(ses_event("123456789012", region, slugs[n], "bounce",
                                                                  f"comunicacao@bench{n}.example.edu.br",
                                                                  f"aluno{n}@example.org")))}
        for n in range(0, len(slugs), 10)])


def baseline(slugs: list[str], clients: dict) -> int:
    """One institution at a time, every read on its own."""
    now = datetime.now(UTC)
    store = ProgressStore("", clients["dynamodb"])  # the region is the client's
    for slug in slugs:
        dimensions = [{"Name": names.DIMENSION, "Value": names.configuration_set(slug)}]
        clients["cloudwatch"].get_metric_data(StartTime=now - timedelta(hours=1), EndTime=now, MetricDataQueries=[
            {"Id": kind, "MetricStat": {"Metric": {"Namespace": "AWS/SES", "MetricName": names.METRIC[kind],
                                                   "Dimensions": dimensions}, "Period": 3600, "Stat": "Maximum"}}
            for kind in names.KINDS])
        clients["cloudwatch"].describe_alarms(AlarmNamePrefix=f"tutormail-warn-{slug}-")
        clients["cloudwatch"].describe_alarms(AlarmNamePrefix=f"tutormail-pause-{slug}-")
        clients["sesv2"].get_configuration_set(ConfigurationSetName=names.configuration_set(slug))
        store.institution(slug)
    return len(slugs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--institutions", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "institutions"
        generate(directory, args.institutions)
        state = Path(tmp) / "sandbox"
        os.environ.update(launcher.up(state, REPO / "institutions"))
        try:
            catalog = load_catalog(directory)
            region = catalog.platform.region
            slugs = list(catalog.institutions)
            started = time.perf_counter()
            populate(slugs, region)
            print(f"populated {len(slugs)} institutions in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            results = {}
            for name in ("baseline", "reputation"):
                calls: dict[str, int] = {}
                clients = {service: counted(boto3.client(service, region_name=region), calls) for service in SERVICES}
                started = time.perf_counter()
                if name == "reputation":
                    found = fleet_health(catalog, slugs, clients)
                    rated = sum(1 for h in found if h.rates.get("bounce") is not None)
                    assert rated == len(slugs), f"only {rated} of {len(slugs)} institutions have a rate"
                else:
                    baseline(slugs, clients)
                results[name] = (time.perf_counter() - started, calls)
        finally:
            launcher.down(state)
    print(f"{'case':<11} {'seconds':>8} {'AWS calls':>10}  calls by operation")
    for name, (elapsed, calls) in results.items():
        print(f"{name:<11} {elapsed:>8.2f} {sum(calls.values()):>10}  {json.dumps(calls, sort_keys=True)}")
    elapsed, calls = results["reputation"]
    metric_calls = calls.get("GetMetricData", 0) * 1000 / args.institutions
    print(f"reputation --all: {elapsed:.2f} s (target <= 5 s); GetMetricData calls per 1000 institutions "
          f"{metric_calls:.1f} (target <= 4); speed-up x{results['baseline'][0] / elapsed:.1f}")
    met = elapsed <= 5 and metric_calls <= 4
    print("targets met" if met else "targets NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
