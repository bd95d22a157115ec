"""Progress in the DynamoDB table of TutorMail-Platform (deployed by the real CDK CLI into the
sandbox): marks that no longer fit secret tags, the one-time migration from those tags, the
fleet read in one Scan, and a clear error where the table is missing."""

from __future__ import annotations

import json
import shutil

import boto3
import pytest
from tutormail.aws.client import ServiceError
from tutormail.aws.progress_marks import LINK, MIGRATED, RELEASED, TESTED, Progress, fleet_progress
from tutormail.aws.progress_store import TABLE, ProgressStore
from tutormail.plan.build import plan_for
from tutormail.plan.loader import load_catalog

from tests.conftest import INSTITUTIONS, run_cli

# Local parts RFC 5322 allows and Secrets Manager tag keys do not (' # !), and more addresses
# than 50 tags can hold: the case that broke request-link, smtp-settings and send-test.
ADDRESSES = [f"o'brien#{n}!@muitas.example.edu.br" for n in range(20)]


def counted(client, calls):
    client.meta.events.register("before-call.*.*", lambda event_name, **_: calls.append(event_name.split(".")[-1]))
    return client


def institution(directory, slug, accounts):
    lines = "\n".join(f"      conta{n}: \"{address}\"" for n, address in enumerate(accounts))
    (directory / f"{slug}.yaml").write_text(
        f"name: {slug}\nslug: {slug}\ncompanies:\n  - name: {slug}\n    accounts:\n"
        f"      comunicacao: comunicacao@{slug}.example.edu.br\n      news: comunicacao@{slug}.example.edu.br\n"
        f"{lines}\n")


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    directory = tmp_path_factory.mktemp("institutions")
    shutil.copy(INSTITUTIONS / "platform.yaml", directory)
    institution(directory, "muitas-contas", ADDRESSES)
    for slug in ("legado-um", "legado-dois", "ja-migrada"):
        institution(directory, slug, [])
    return load_catalog(directory)


@pytest.fixture
def aws_env(platform_deployed, monkeypatch):
    for key, value in platform_deployed["env"].items():
        monkeypatch.setenv(key, value)


def legacy_secret(plan, tags):
    """A secret as the earlier code left it: progress in its tags (and the stack's own tag)."""
    boto3.client("secretsmanager").create_secret(
        Name=plan.secret_name, SecretString="{}",
        Tags=[{"Key": k, "Value": v} for k, v in {**tags, "tutormail:institution": plan.slug}.items()])


def test_more_marks_than_tags_hold_with_characters_tags_refuse(aws_env, catalog):
    progress = Progress(plan_for(catalog, "muitas-contas"))
    assert progress.read() == {}
    marks = {**{RELEASED + a: "2026-01-02T03:04:05Z" for a in ADDRESSES},
             **{TESTED + a: "2026-01-02T04:04:05Z" for a in ADDRESSES},
             **{LINK + a: "1 2026-01-01T00:00:00Z" for a in ADDRESSES}}
    assert len(marks) > 50
    progress.write(marks)
    assert Progress(plan_for(catalog, "muitas-contas")).read() == marks


def test_the_secret_tags_migrate_once_and_never_overwrite_a_newer_mark(aws_env, catalog):
    plan = plan_for(catalog, "legado-um")
    address = f"comunicacao@{plan.slug}.example.edu.br"
    legacy_secret(plan, {LINK + address: "2 2026-01-01T00:00:00Z,2026-01-02T00:00:00Z",
                         RELEASED + address: "2026-01-03T00:00:00Z", TESTED + address: "2026-01-04T00:00:00Z"})
    ProgressStore(plan.platform.region).put({plan.slug: {TESTED + address: "2026-02-01T00:00:00Z"}})
    calls: list[str] = []
    secrets = counted(boto3.client("secretsmanager"), calls)
    first = Progress(plan, secrets_client=secrets).read()
    assert first == {LINK + address: "2 2026-01-01T00:00:00Z,2026-01-02T00:00:00Z",
                     RELEASED + address: "2026-01-03T00:00:00Z",
                     TESTED + address: "2026-02-01T00:00:00Z"}  # the table's newer mark stays
    assert calls == ["DescribeSecret"]
    stored = ProgressStore(plan.platform.region).institution(plan.slug)
    assert MIGRATED in stored and "tutormail:institution" not in stored
    assert Progress(plan, secrets_client=secrets).read() == first
    assert calls == ["DescribeSecret"]  # migrated: the tags are never read again


def test_the_fleet_is_one_scan_and_list_secrets_only_while_some_are_not_migrated(aws_env, catalog):
    two = plan_for(catalog, "legado-dois")
    legacy_secret(two, {RELEASED + f"comunicacao@{two.slug}.example.edu.br": "2026-01-05T00:00:00Z"})
    done = plan_for(catalog, "ja-migrada")
    Progress(done).read()
    names = {slug: plan_for(catalog, slug).secret_name for slug in catalog.institutions}
    calls: list[str] = []
    dynamodb = counted(boto3.client("dynamodb"), calls)
    secrets = counted(boto3.client("secretsmanager"), calls)
    fleet = fleet_progress(names, ProgressStore(two.platform.region, dynamodb), secrets)
    assert fleet["legado-dois"] == {RELEASED + f"comunicacao@{two.slug}.example.edu.br": "2026-01-05T00:00:00Z"}
    assert calls.count("Scan") == 1 and calls.count("ListSecrets") == 1
    assert set(calls) <= {"Scan", "ListSecrets", "BatchWriteItem"}
    calls.clear()
    assert fleet_progress(names, ProgressStore(two.platform.region, dynamodb), secrets) == fleet
    assert calls == ["Scan"]


def test_status_reads_the_table_through_the_installed_command(aws_env, catalog, platform_deployed):
    plan = plan_for(catalog, "muitas-contas")
    Progress(plan).read()
    result = run_cli("status", "muitas-contas", "--offline", "--output", "json",
                     env={**platform_deployed["operator_env"], "TUTORMAIL_INSTITUTIONS": str(catalog.directory)})
    assert result.returncode in (1, 3), result.stderr  # nothing deployed for it: pending or to act on
    rows = json.loads(result.stdout)["rows"]
    assert {r["address"] for r in rows} >= set(ADDRESSES)


def test_a_missing_table_names_the_stack_to_deploy(aws_env):
    with pytest.raises(ServiceError, match=f"the progress table {TABLE} does not exist: deploy TutorMail-Platform"):
        ProgressStore("eu-west-1").institution("qualquer")  # the table is regional; none was deployed there
