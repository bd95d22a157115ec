"""No secret leaves through a stream or file that should stay clean: every command that reads or
hands out the SMTP credentials is run here, as the operator, on the deployed sandbox (this file
builds what it scans and depends on no earlier test), and its stdout, stderr and every file it
writes are searched for each institution's secret access key and the SMTP passwords derived from
it. Only a `--reveal` may carry the password, and only where it was asked to go: stdout without
`--out`, the 0600 file with it; its stderr stays clean either way."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import boto3
import pytest
from tutormail.tutor_setup.smtp_password import smtp_password

from tests.conftest import TEST_RECIPIENT, run_cli

SLUGS = ("escola-padrao", "faculdade-delta", "instituicao-xy")
REVEALED = "escola-padrao"  # on the platform default: verified once its stack is deployed


@pytest.fixture(scope="module")
def runs(deployed, tmp_path_factory):
    """(args, stdout, stderr, {file: text}, where the password may be) of every command run here."""
    env, out = deployed["operator_env"], tmp_path_factory.mktemp("secret-scan")
    done = []

    def run(*args, files=(), allowed=None):
        result = run_cli(*args, env=env)
        written = {}
        for path in files:
            found = sorted(Path(path).rglob("*")) if Path(path).is_dir() else [Path(path)]
            written.update({p: p.read_text() for p in found if p.is_file()})
        done.append((args, result, written, allowed))
        return result

    waited = run("verify", REVEALED, "--wait", "--timeout", "60s", "--output", "json")
    assert waited.returncode == 0, waited.stdout + waited.stderr
    for slug in SLUGS:
        run("plan", slug, "--output", "json")
        run("dns-records", slug, "--format", "zone")
        run("verify", slug, "--output", "json")
        run("verify", slug)
        for output in ("table", "json"):
            run("smtp-settings", slug, "--output", output)
        run("smtp-settings", slug, "--format", "env")
        run("smtp-settings", slug, "--format", "json", "--out", str(out / f"{slug}-masked.json"),
            files=[out / f"{slug}-masked.json"])
        run("handoff", slug, "--out", str(out / f"handoff-{slug}"), files=[out / f"handoff-{slug}"])
        run("dns-publish", slug, "--dry-run")
        run("preflight", slug, "--output", "json")
        run("plan-changes", slug, "--output", "json")
    run("status", "--all")
    run("status", "--all", "--output", "json")
    run("status", "--all", "--format", "html", "--out", str(out / "status.html"), files=[out / "status.html"])
    run("status", "--all", "--drift", "--output", "json")
    run("reputation", "--output", "json")
    run("send-test", REVEALED, "--to", TEST_RECIPIENT, "--output", "json")
    for output in ("table", "json"):
        run("smtp-settings", REVEALED, "--reveal", "--output", output, allowed="stdout")
    run("smtp-settings", REVEALED, "--reveal", "--format", "env", allowed="stdout")
    for name, form in (("revealed.json", "json"), ("revealed.env", "env")):
        run("smtp-settings", REVEALED, "--reveal", "--format", form, "--out", str(out / name),
            files=[out / name], allowed=out / name)
    return done


@pytest.fixture(scope="module")
def secrets(runs, deployed):
    """What must never show: each institution's secret key, its SMTP password (its region's; and
    us-east-1's, the article's region) and every TSIG secret, read as the administrator once every
    command ran. `revealable`: the one password the reveals hand out."""
    admin = deployed["env"]
    assert admin["AWS_SECRET_ACCESS_KEY"].startswith("sandbox-fake")  # the sandbox's administrator
    client = boto3.session.Session(aws_access_key_id=admin["AWS_ACCESS_KEY_ID"], region_name=admin["AWS_REGION"],
                                   aws_secret_access_key=admin["AWS_SECRET_ACCESS_KEY"]).client(
        "secretsmanager", endpoint_url=admin["AWS_ENDPOINT_URL"])
    never, revealable = set(), None
    for page in client.get_paginator("list_secrets").paginate(Filters=[{"Key": "name", "Values": ["tutormail/"]}]):
        for entry in page["SecretList"]:
            text = client.get_secret_value(SecretId=entry["ARN"])["SecretString"]
            if not text.lstrip().startswith("{"):  # a TSIG key in its other form, name:algorithm:secret
                never.add(text.split(":", 2)[-1])
                continue
            value = json.loads(text)
            if "secret_access_key" in value:
                key = value["secret_access_key"]
                never |= {key, smtp_password(key, "us-east-1")}
                password = smtp_password(key, value["region"])
                if entry["Name"] == f"tutormail/{REVEALED}/smtp":
                    revealable = password
                else:
                    never.add(password)
            elif "secret" in value:  # a TSIG key
                never.add(value["secret"])
    assert revealable and len(never) > 2 * len(SLUGS)
    return never - {revealable}, revealable


def test_no_stream_or_file_holds_a_secret_unless_a_reveal_put_it_there(runs, secrets):
    never, revealable = secrets
    assert len(runs) >= 45  # the commands of the fixture above, each run through
    for args, result, written, allowed in runs:
        assert result.returncode != 4 and "Traceback" not in result.stderr, (args, result.stderr[-2000:])
        streams = {"stdout": result.stdout, "stderr": result.stderr, **{str(p): t for p, t in written.items()}}
        for where, text in streams.items():
            found = [s for s in (*never, revealable) if s in text and not (s == revealable and where == str(allowed))]
            assert not found, f"a secret in the {where} of tutormail {' '.join(args)}"


def test_each_reveal_put_the_password_where_it_was_asked(runs, secrets):
    _, revealable = secrets
    reveals = [(args, result, written, allowed) for args, result, written, allowed in runs if allowed]
    assert len(reveals) == 5
    for args, result, written, allowed in reveals:
        assert result.returncode == 0, (args, result.stderr[-2000:])
        where = result.stdout if allowed == "stdout" else written[allowed]
        assert revealable in where, f"no password where tutormail {' '.join(args)} put it"
        if allowed != "stdout":
            assert stat.S_IMODE(allowed.stat().st_mode) == 0o600 and result.stdout == ""
