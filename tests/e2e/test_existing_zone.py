"""A first deploy into an institution's own Route 53 zone that already holds a strict DMARC policy and a
CNAME at the default MAIL FROM name (issue 12, "done when").

The preflight lists both conflicts (exit 1): `dmarc: publish` meets a DMARC record (RFC 7489 6.6.3: two
records mean no policy), and SES's MAIL FROM needs its one MX where a CNAME may have no other record
(https://docs.aws.amazon.com/ses/latest/dg/mail-from.html). Once the file says `dmarc: keep` and moves
`mail_from`, the preflight is clear, the stack deploys, `dns-publish` runs, and the DMARC record is the
same, byte for byte, in Route 53 and on the name server. The platform domain publishes p=reject: its
subdomain inherits it (no `_dmarc.<slug>.<platform>` written), and a `platform_dmarc: none` that would
override it is a third conflict.
"""

from __future__ import annotations

import json
import shutil

import boto3
import pytest
from tutormail.dnsclient.resolver import ask

from sandbox import launcher
from tests.conftest import DEPLOY, EXISTING_RECORDS, EXISTING_ZONE, EXISTING_ZONE_ID, INSTITUTIONS, cdk, run_cli
from tests.factory import institution, route53, to_yaml

SLUG = "escola-estrita"
DMARC = f"_dmarc.{EXISTING_ZONE}"
STRICT = EXISTING_RECORDS[0][3]
TAKEN = f"bounce.{EXISTING_ZONE}"
MOVED = f"envio.{EXISTING_ZONE}"
PLATFORM_ZONE_ID, SUB = "Z0123456789ABCDEFGHIJ", f"{SLUG}.sistematutor.com.br"
PLATFORM_DMARC = '"v=DMARC1; p=reject; rua=mailto:dmarc@sistematutor.com.br"'


def write(directory, platform_dmarc: str | None = None, **dns_fields) -> None:
    doc = institution("Escola Estrita", slug=SLUG, dns=[{**route53(EXISTING_ZONE, EXISTING_ZONE_ID), **dns_fields}])
    if platform_dmarc:
        doc["platform_dmarc"] = platform_dmarc
    (directory / f"{SLUG}.yaml").write_text(to_yaml(doc), encoding="utf-8")


def record_sets(client, zone=EXISTING_ZONE_ID) -> dict[tuple[str, str], dict]:
    found = client.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    return {(r["Name"].rstrip("."), r["Type"]): r for r in found}


def platform_policy(action: str) -> dict:
    return {"Changes": [{"Action": action, "ResourceRecordSet": {
        "Name": "_dmarc.sistematutor.com.br.", "Type": "TXT", "TTL": 300,
        "ResourceRecords": [{"Value": PLATFORM_DMARC}]}}]}


@pytest.fixture
def world(platform_deployed, tmp_path):
    admin = platform_deployed["env"]
    session = boto3.session.Session(aws_access_key_id=admin["AWS_ACCESS_KEY_ID"], region_name=admin["AWS_REGION"],
                                    aws_secret_access_key=admin["AWS_SECRET_ACCESS_KEY"])
    route53_api = session.client("route53", endpoint_url=admin["AWS_ENDPOINT_URL"])
    # The institution's records, as its Route 53 zone holds them (the sandbox DNS serves the same).
    route53_api.change_resource_record_sets(HostedZoneId=EXISTING_ZONE_ID, ChangeBatch={"Changes": [
        {"Action": "UPSERT", "ResourceRecordSet": {"Name": f"{label}.{EXISTING_ZONE}.", "Type": rtype, "TTL": ttl,
                                                   "ResourceRecords": [{"Value": value}]}}
        for label, ttl, rtype, value in EXISTING_RECORDS]})
    # The platform domain's own strict policy, which its subdomains inherit (in Route 53 only, read by its API).
    route53_api.change_resource_record_sets(HostedZoneId=PLATFORM_ZONE_ID, ChangeBatch=platform_policy("UPSERT"))
    directory = tmp_path / "institutions"
    directory.mkdir()
    shutil.copy(INSTITUTIONS / "platform.yaml", directory)
    write(directory, platform_dmarc="none")
    env = {**platform_deployed["operator_env"], "TUTORMAIL_INSTITUTIONS": str(directory)}
    yield {"dir": directory, "env": env, "admin": admin, "route53": route53_api, "session": session}
    route53_api.change_resource_record_sets(HostedZoneId=PLATFORM_ZONE_ID, ChangeBatch=platform_policy("DELETE"))
    session.client("cloudformation", endpoint_url=admin["AWS_ENDPOINT_URL"]).delete_stack(
        StackName=f"TutorMail-{SLUG}")
    ses = session.client("sesv2", endpoint_url=admin["AWS_ENDPOINT_URL"])
    for name in (EXISTING_ZONE, f"{SLUG}.sistematutor.com.br"):  # retained by the stack's deletion
        try:
            ses.delete_email_identity(EmailIdentity=name)
        except ses.exceptions.NotFoundException:
            pass


def test_preflight_names_both_conflicts_then_keep_deploys_with_the_dmarc_record_unchanged(world):
    env = world["env"]
    before = run_cli("preflight", SLUG, "--output", "json", env=env)
    assert before.returncode == 1, before.stdout + before.stderr
    [report] = json.loads(before.stdout)["institutions"]
    conflicts = report["conflicts"]
    assert any(c.startswith(f"{DMARC} TXT") and "dmarc: keep" in c and STRICT in c for c in conflicts), conflicts
    assert any(c.startswith(f"{TAKEN} ") and "CNAME" in c and "mail_from" in c for c in conflicts), conflicts
    # platform_dmarc: none would override the platform domain's p=reject for its subdomain: never weaker
    assert any(c.startswith(f"_dmarc.{SUB} TXT") and "remove platform_dmarc" in c for c in conflicts), conflicts
    planned = run_cli("plan", SLUG, env=env)  # plan runs the same preflight
    assert planned.returncode == 1 and f"CONFLICT: {DMARC} TXT" in planned.stdout, planned.stdout + planned.stderr
    offline = run_cli("plan", SLUG, "--offline", env=env)
    assert offline.returncode == 0 and "skipped (--offline)" in offline.stdout

    write(world["dir"], dmarc="keep", mail_from=MOVED)
    clear = run_cli("preflight", SLUG, "--output", "json", env=env)
    assert clear.returncode == 0, clear.stdout + clear.stderr
    dmarc = {d["identity"]: d for d in json.loads(clear.stdout)["institutions"][0]["dmarc"]}
    assert (dmarc[EXISTING_ZONE]["mode"], dmarc[EXISTING_ZONE]["record"], dmarc[EXISTING_ZONE]["policy"],
            dmarc[EXISTING_ZONE]["publishes"]) == ("keep", STRICT.strip('"'), "reject", None)
    assert MOVED in dmarc[EXISTING_ZONE]["alignment"]
    assert (dmarc[SUB]["mode"], dmarc[SUB]["record_name"], dmarc[SUB]["policy"], dmarc[SUB]["publishes"]) == (
        "inherit", "_dmarc.sistematutor.com.br", "reject", None)  # RFC 7489 6.6.3 step 3

    deployer = launcher.principal(world["admin"], "deployer-estrita", ["tutormail-deploy"])
    deployed = cdk(*DEPLOY, f"TutorMail-{SLUG}", "--exclusively", "-c", f"institutions_dir={world['dir']}",
                   env=deployer)
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
    published = run_cli("dns-publish", SLUG, "--output", "json", env=env)
    assert published.returncode == 0, published.stdout + published.stderr

    sets = record_sets(world["route53"])
    assert sets[(DMARC, "TXT")]["ResourceRecords"] == [{"Value": STRICT}] and sets[(DMARC, "TXT")]["TTL"] == 300
    assert sets[(TAKEN, "CNAME")]["ResourceRecords"] == [{"Value": "webmail.provedor.example."}]
    assert (MOVED, "MX") in sets and (MOVED, "TXT") in sets  # the MAIL FROM the stack wrote, moved
    platform_sets = record_sets(world["route53"], PLATFORM_ZONE_ID)
    assert (f"bounce.{SUB}", "MX") in platform_sets and (f"_dmarc.{SUB}", "TXT") not in platform_sets
    port = int(env["TUTORMAIL_DNS_PORT"])
    assert ask("127.0.0.1", DMARC, "TXT", port=port).values == (STRICT,)  # what receivers are served
    assert ask("127.0.0.1", MOVED, "MX", port=port).outcome == "ok"
    again = run_cli("preflight", SLUG, "--output", "json", env=env)  # after the deploy: still clear
    assert again.returncode == 0, again.stdout + again.stderr
