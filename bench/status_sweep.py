#!/usr/bin/env python3
"""`status` over many institutions on the sandbox, against a naive sweep in the same process.

Generates N institutions (default 1000: a platform identity, an own domain and a Cenário 2
address each), creates their identities and SMTP secrets in the sandbox's emulated AWS, then
times `tutormail.fleet.status.sweep` (batched list calls, concurrent DNS) and a baseline (one
GetEmailIdentity per identity, DNS checks one after another), counting every AWS call each makes.
Progress starts as the earlier code left it, in tags on each SMTP secret: the first sweep
migrates it into the DynamoDB progress table (`migrate`), the next one reads only the table
(`sweep`: one Scan page per 1 MB).

    .venv/bin/python bench/status_sweep.py [--institutions 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

import boto3

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tutormail.aws.progress_marks import fleet_marks, fleet_progress  # noqa: E402
from tutormail.aws.progress_store import ProgressStore  # noqa: E402
from tutormail.aws.ses import Ses  # noqa: E402
from tutormail.cenario2.dmarc import preflight  # noqa: E402
from tutormail.clock import Clock  # noqa: E402
from tutormail.fleet.status import sweep  # noqa: E402
from tutormail.plan.build import build_plan  # noqa: E402
from tutormail.plan.loader import load_catalog  # noqa: E402
from tutormail.runtime import Runtime  # noqa: E402
from tutormail.services import Services  # noqa: E402
from tutormail.verification.identity_check import check_identity  # noqa: E402

from sandbox import launcher  # noqa: E402
from sandbox.progress_table import ensure_progress_table  # noqa: E402
from tests import factory  # noqa: E402


def counted(client, counter: dict):
    def count(event_name, **_):
        operation = event_name.split(".")[-1]
        counter[operation] = counter.get(operation, 0) + 1

    client.meta.events.register("before-call.*.*", count)
    return client


def generate(directory: Path, count: int) -> None:
    factory.write_institutions(directory, {f"bench-{n}": factory.institution(
        f"Bench {n}", dns=[factory.manual(f"bench{n}.example.edu.br")], companies=[factory.company(
            f"Bench {n}", {"comunicacao": f"comunicacao@bench{n}.example.edu.br",
                           "atendimento": f"atendimento@colegio{n}.example.com.br"})]) for n in range(count)})


def populate(catalog, region: str) -> None:
    ensure_progress_table(region)  # what TutorMail-Platform does
    ses = boto3.client("sesv2", region_name=region)
    secrets = boto3.client("secretsmanager", region_name=region)
    for slug, institution in catalog.institutions.items():
        plan = build_plan(institution, catalog.platform)
        for identity in plan.identities:
            ses.create_email_identity(EmailIdentity=identity.name)
        secrets.create_secret(Name=plan.secret_name, SecretString=json.dumps(
            {"access_key_id": "BENCHFAKEKEYID", "secret_access_key": "bench-fake", "region": region}),
            Tags=[{"Key": f"tutormail:released:comunicacao@bench{slug.split('-')[1]}.example.edu.br",
                   "Value": "2026-01-01T00:00:00Z"}])


def baseline(catalog, ses_client, clock, endpoints) -> int:
    """One GetEmailIdentity per identity, DNS look-ups one after another (progress tags not read:
the baseline is given that for free)."""
    ses = Ses(catalog.platform, sesv2=ses_client)
    rows = 0
    for institution in catalog.institutions.values():
        plan = build_plan(institution, catalog.platform)
        for identity in plan.identities:
            state = ses.identity(identity.name)
            check_identity(plan, identity.name, state, clock, {})
            if identity.kind == "email":
                preflight(identity.name.split("@", 1)[1], endpoints)
        rows += len(plan.senders)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--institutions", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "institutions"
        generate(directory, args.institutions)
        state = Path(tmp) / "sandbox"
        env = launcher.up(state, REPO / "institutions")
        os.environ.update(env)
        try:
            catalog = load_catalog(directory)
            region = catalog.platform.region
            started = time.perf_counter()
            populate(catalog, region)
            print(f"populated {args.institutions} institutions in {time.perf_counter() - started:.1f} s",
                  file=sys.stderr)
            clock = Clock()
            # The sandbox's DNS, as the CLI reads it (runtime.py): never the machine's resolver.
            endpoints = Runtime.from_environ(os.environ).dns
            results = {}
            for name in ("baseline", "migrate", "sweep", "table"):
                calls: dict[str, int] = {}
                ses_client = counted(boto3.client("sesv2", region_name=region), calls)
                secrets_client = counted(boto3.client("secretsmanager", region_name=region), calls)
                store = ProgressStore(region, counted(boto3.client("dynamodb", region_name=region), calls))
                started = time.perf_counter()
                if name == "table":  # the progress part of the sweep alone
                    names = {s: build_plan(i, catalog.platform).secret_name for s, i in catalog.institutions.items()}
                    count = len(fleet_progress(names, store, secrets_client))
                elif name != "baseline":
                    services = replace(Services.of(clock, endpoints),
                                       ses=lambda platform, client=ses_client: Ses(platform, sesv2=client),
                                       fleet_marks=partial(fleet_marks, store=store, secrets_client=secrets_client))
                    rows, _ = sweep(catalog, list(catalog.institutions), services)
                    count = len(rows)
                else:
                    count = baseline(catalog, ses_client, clock, endpoints)
                results[name] = (time.perf_counter() - started, calls, count)
        finally:
            launcher.down(state)
    identities = args.institutions * 3
    base_time, base_calls, _ = results["baseline"]
    sweep_time, sweep_calls, rows = results["sweep"]
    list_calls = sweep_calls.get("ListEmailIdentities", 0)
    table_reads = sweep_calls.get("Scan", 0) + sweep_calls.get("Query", 0)
    print(f"{'case':<10} {'seconds':>8} {'AWS calls':>10}  calls by operation")
    for name, (elapsed, calls, _) in results.items():
        print(f"{name:<10} {elapsed:>8.2f} {sum(calls.values()):>10}  {json.dumps(calls, sort_keys=True)}")
    ratio = sum(base_calls.values()) / max(1, sum(sweep_calls.values()))
    print(f"rows {rows}; identities {identities}; speed-up x{base_time / sweep_time:.1f}; "
          f"AWS calls {ratio:.0f}x fewer (target >= 10x); SES list calls per 1000 identities "
          f"{list_calls * 1000 / identities:.1f} (target <= 3); sweep {sweep_time:.2f} s (target <= 5 s); "
          f"progress table reads {table_reads} for {args.institutions} institutions (target: one Scan page per "
          f"1 MB, no call per institution)")
    met = (ratio >= 10 and list_calls * 1000 / identities <= 3 and sweep_time <= 5
           and sweep_calls.get("ListSecrets", 0) == 0 and table_reads <= 1 + args.institutions // 5000)
    print("targets met" if met else "targets NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
