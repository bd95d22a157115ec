"""`tutormail cleanup` after an edited file is deployed, on an institution of its own deployed into the
sandbox by the real CDK CLI, its RFC 2136 domains on a BIND server started here. One edit makes the
three changes of issue 15: a company removed (its Cenário 2 address), a domain change (the old
domain's identity and records), and a Cenário 2 address whose domain becomes a `dns` entry. The CLI
runs as the operator principal; a neighbour's identity and one tutor-mail never made stay."""

from __future__ import annotations

import json
import shutil

import boto3
import pytest
from tutormail.dnsclient.resolver import ask

from sandbox.bind import Named, TsigKey, Zone, free_port
from tests.conftest import DEPLOY, INSTITUTIONS, cdk, run_cli
from tests.e2e.iam_calls import CallLog
from tests.lifecycle.rfc2136 import update_zone

SLUG, OLD, NEW, ADDRESS = "limpeza-teste", "limpezaantiga.com.br", "limpezanova.com.br", "127.0.0.1"
DROPPED, PROMOTED = "contato@colegiolimpeza.com.br", f"contato@{NEW}"
NEIGHBOUR, STRANGER = "ola@vizinhalimpeza.com.br", "alguem@semdono.com.br"
PLATFORM_ZONE, SUBDOMAIN = "Z0123456789ABCDEFGHIJ", f"{SLUG}.sistematutor.com.br"
STALE = f"velhotoken._domainkey.{SUBDOMAIN}"  # a DKIM CNAME of a token SES no longer uses
SELECTOR = f"google._domainkey.{SUBDOMAIN}"  # another signer's: never ours
RISK = "tutormail:dmarc-risk:"


def institution_file(domain, *more_companies):
    """Our institution with its one RFC 2136 domain, the address whose domain becomes one, and more."""
    return (f"name: Limpeza Teste\nslug: {SLUG}\ndns:\n  - domain: {domain}\n    provider: rfc2136\n"
            f"    server: {ADDRESS}\n    tsig_key: tutormail/{SLUG}/tsig\ncompanies:\n  - name: Limpeza Teste\n"
            f"    accounts:\n      comunicacao: comunicacao@{domain}\n      news: {PROMOTED}\n"
            + "".join(more_companies))


BEFORE = institution_file(OLD, f"  - name: Colégio Limpeza\n    accounts:\n      comunicacao: {DROPPED}\n")
AFTER = institution_file(NEW)  # the company dropped, the domain changed, PROMOTED's domain now a dns entry
NEIGHBOUR_FILE = f"""name: Vizinha Limpeza
slug: vizinha-limpeza
companies:
  - name: Vizinha Limpeza
    accounts:
      comunicacao: {NEIGHBOUR}
"""
THEIR_DMARC = f"v=DMARC1; p=reject; rua=mailto:dmarc@{OLD}"


def directory(tmp, name, text):
    path = tmp / name
    path.mkdir()
    shutil.copy(INSTITUTIONS / "platform.yaml", path)
    (path / f"{SLUG}.yaml").write_text(text)
    (path / "vizinha-limpeza.yaml").write_text(NEIGHBOUR_FILE)
    return path


def deploy(env, institutions):
    result = cdk(*DEPLOY, f"TutorMail-{SLUG}", "--exclusively", "-c", f"institutions_dir={institutions}",
                 "-c", f"institutions={SLUG}", env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


CALLS = CallLog()  # the CLI runs as the operator principal: IAM decides each call on tutormail-operator


def cleanup(world, *args, previous=False):
    extra = ("--previous", str(world["previous"])) if previous else ()
    return CALLS.run(world["operator"], "cleanup", SLUG, "--output", "json", *extra, *args)


def items(result):
    """cleanup's changes by (kind, name): a record's name with its type."""
    data = json.loads(result.stdout)
    assert data["schema_version"] == 2 and data["exit_code"] == result.returncode
    return {(c["kind"], " ".join(filter(None, (c["name"], c["type"])))): c for c in data["changes"]}


def did(change):
    """(action, outcome): ("delete", None) is a dry run's "would delete", ("delete", "done") its apply."""
    return change["action"], change["outcome"]


@pytest.fixture(scope="module")
def world(platform_deployed, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cleanup")
    previous, current = directory(tmp, "before", BEFORE), directory(tmp, "after", AFTER)
    key = TsigKey.generate("tutormail-limpeza")
    port = free_port((ADDRESS,))
    zones = [Zone(domain, update_keys=(key.name,), name_servers=(("ns1", ADDRESS),)) for domain in (OLD, NEW)]
    server = Named(tmp / "bind", ADDRESS, port, zones, [key]).start()
    ours = {"TUTORMAIL_DNS_PORT": str(port), "TUTORMAIL_RESOLVER": f"{ADDRESS}:{port}"}
    admin = {**platform_deployed["env"], **ours, "TUTORMAIL_INSTITUTIONS": str(previous)}
    session = boto3.session.Session(aws_access_key_id=admin["AWS_ACCESS_KEY_ID"], region_name="us-east-1",
                                    aws_secret_access_key=admin["AWS_SECRET_ACCESS_KEY"])
    ses = session.client("sesv2", endpoint_url=admin["AWS_ENDPOINT_URL"])
    session.client("secretsmanager", endpoint_url=admin["AWS_ENDPOINT_URL"]).create_secret(
        Name=f"tutormail/{SLUG}/tsig", SecretString=key.as_text())
    deploy(admin, previous)
    assert run_cli("dns-publish", SLUG, env=admin).returncode == 0
    # the neighbour's identity, wrongly pointing at our configuration set, and one nobody made with us
    ses.create_email_identity(EmailIdentity=NEIGHBOUR, ConfigurationSetName=f"tutormail-{SLUG}")
    ses.create_email_identity(EmailIdentity=STRANGER)
    world_route53 = session.client("route53", endpoint_url=admin["AWS_ENDPOINT_URL"])
    route53_change(world_route53, "CREATE")
    world = {"previous": previous, "server": server, "key": key, "port": port, "ses": ses,
             "route53": world_route53, "dynamodb": session.client("dynamodb", endpoint_url=admin["AWS_ENDPOINT_URL"]),
             "operator": {**platform_deployed["operator_env"], **ours, "TUTORMAIL_INSTITUTIONS": str(current)}}
    world["before_deploy"] = cleanup(world)  # the edited file, not deployed yet
    deploy({**admin, "TUTORMAIL_INSTITUTIONS": str(current)}, current)
    assert run_cli("dns-publish", SLUG, env={**admin, "TUTORMAIL_INSTITUTIONS": str(current)}).returncode == 0
    yield world
    server.stop()


def route53_change(route53, action, names=(STALE, SELECTOR)):
    values = {STALE: "velhotoken.dkim.amazonses.com", SELECTOR: "google.dkim.example.net"}
    route53.change_resource_record_sets(HostedZoneId=PLATFORM_ZONE, ChangeBatch={"Changes": [
        {"Action": action, "ResourceRecordSet": {"Name": name, "Type": "CNAME", "TTL": 1800,
                                                 "ResourceRecords": [{"Value": values[name]}]}} for name in names]})


def cnames(world):
    listed = world["route53"].list_resource_record_sets(HostedZoneId=PLATFORM_ZONE)["ResourceRecordSets"]
    names = {r["Name"].rstrip(".") for r in listed if r["Type"] == "CNAME"}
    return names & {STALE, SELECTOR}


def identity_names(world):
    return {i["IdentityName"] for i in world["ses"].list_email_identities(PageSize=1000)["EmailIdentities"]}


def values(world, name, rtype):
    return sorted(ask(ADDRESS, name, rtype, port=world["port"]).values)


def risk_marks(world):
    """The DMARC acceptances recorded for this institution, by address (the progress table)."""
    items = world["dynamodb"].query(TableName="tutormail-progress", ConsistentRead=True,
                                    KeyConditionExpression="institution = :i",
                                    ExpressionAttributeValues={":i": {"S": SLUG}})["Items"]
    return {i["mark"]["S"].removeprefix(RISK) for i in items if i["mark"]["S"].startswith(RISK)}


def set_their_dmarc(world):
    """The institution tightened the old domain's DMARC: that record is theirs now."""
    update_zone(world["key"], OLD, ADDRESS, world["port"],
                lambda update: update.replace(f"_dmarc.{OLD}.", 1800, "TXT", f'"{THEIR_DMARC}"'))


def test_before_the_deploy_nothing_the_stack_declares_is_touched(world):
    result = world["before_deploy"]
    assert result.returncode == 1, result.stdout + result.stderr
    found = items(result)
    for name in (OLD, DROPPED):
        assert found[("identity", name)]["action"] == "person" and "deploy" in found[("identity", name)]["reason"]
    assert not [k for k, i in found.items() if k[0] == "record" and i["of"] != SUBDOMAIN]


def test_cleanup_shows_then_removes_what_the_edit_left_behind(world):
    tokens = world["ses"].get_email_identity(EmailIdentity=OLD)["DkimAttributes"]["Tokens"]
    dkim = [f"{t}._domainkey.{OLD}" for t in tokens]
    new_tokens = world["ses"].get_email_identity(EmailIdentity=NEW)["DkimAttributes"]["Tokens"]
    assert {OLD, DROPPED, PROMOTED, NEW, NEIGHBOUR, STRANGER} <= identity_names(world)
    assert values(world, dkim[0], "CNAME") == [f"{tokens[0]}.dkim.amazonses.com."]
    set_their_dmarc(world)

    # dry run, without the file before the change: the old domain's DNS is not known to be ours to write
    dry = cleanup(world)
    assert dry.returncode == 1, dry.stdout + dry.stderr
    found = items(dry)
    assert {k for k in found if k[0] == "identity"} == {("identity", n) for n in (OLD, DROPPED, PROMOTED)}
    assert did(found[("identity", DROPPED)]) == did(found[("identity", PROMOTED)]) == ("delete", None)
    assert did(found[("identity", OLD)]) == ("keep", None)  # its records still name its tokens
    assert found[("record", f"{dkim[0]} CNAME")]["action"] == "person"
    assert ("record", f"_dmarc.{OLD} TXT") not in found  # theirs, not ours to ask about
    assert did(found[("record", f"{STALE} CNAME")]) == ("delete", None)
    assert ("record", f"{SELECTOR} CNAME") not in found
    assert {OLD, DROPPED, PROMOTED} <= identity_names(world)

    table = run_cli("cleanup", SLUG, env=world["operator"])
    assert table.returncode == 1 and "dry run" in table.stdout and "would delete" in table.stdout

    # the dropped company's address had its DMARC risk accepted, as had an address the file still claims
    world["dynamodb"].batch_write_item(RequestItems={"tutormail-progress": [{"PutRequest": {"Item": {
        "institution": {"S": SLUG}, "mark": {"S": RISK + name}, "value": {"S": "2026-01-05T12:00:00Z reject arn:x"}}}}
        for name in (DROPPED, NEW)]})
    applied = cleanup(world, "--apply", previous=True)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    # an acceptance goes with its identity: the company added back gets a new one, blocked again (issue 20)
    assert risk_marks(world) == {NEW}
    found = items(applied)
    assert did(found[("record", f"{STALE} CNAME")]) == ("delete", "done")
    assert cnames(world) == {SELECTOR}  # the stale one went, another signer's stays
    assert {k[1] for k, i in found.items() if k[0] == "identity" and did(i) == ("delete", "done")} == {
        OLD, DROPPED, PROMOTED}
    assert {f"{n} CNAME" for n in dkim} <= {k[1] for k, i in found.items() if did(i) == ("delete", "done")}
    assert did(found[("record", f"_dmarc.{OLD} TXT")]) == ("keep", None)
    for name in dkim:
        assert values(world, name, "CNAME") == []
    assert values(world, f"_dmarc.{OLD}", "TXT") == [f'"{THEIR_DMARC}"']
    assert values(world, f"{new_tokens[0]}._domainkey.{NEW}", "CNAME")  # the new domain's stay
    left = identity_names(world)
    assert not {OLD, DROPPED, PROMOTED} & left and {NEW, NEIGHBOUR, STRANGER} <= left

    again = cleanup(world, "--apply")
    assert again.returncode == 0 and json.loads(again.stdout)["changes"] == []
    assert run_cli("cleanup", SLUG, env=world["operator"]).stdout.strip().endswith(f"nothing to clean up for {SLUG}")
    # as the operator: exactly what its rows of the table grant (tutormail.aws.permissions)
    missing, unused = CALLS.differences({"cleanup"})
    assert not missing and not unused, (missing, unused)



def test_the_operator_may_delete_only_dkim_cnames_in_route53(world):
    """The operator's Route 53 write (cleanup's) is a DELETE of a CNAME named *._domainkey.*, nothing else."""
    env = world["operator"]
    route53 = boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"], region_name="us-east-1",
                                    aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"]).client(
        "route53", endpoint_url=env["AWS_ENDPOINT_URL"])
    for action, name, rtype, value in (("CREATE", f"novo._domainkey.{SUBDOMAIN}", "CNAME", "novo.dkim.amazonses.com"),
                                       ("DELETE", f"_dmarc.{SUBDOMAIN}", "TXT", '"v=DMARC1; p=none;"'),
                                       ("DELETE", f"www.{SUBDOMAIN}", "CNAME", "outro.example.com")):
        with pytest.raises(route53.exceptions.ClientError, match="AccessDenied"):
            route53.change_resource_record_sets(HostedZoneId=PLATFORM_ZONE, ChangeBatch={"Changes": [
                {"Action": action, "ResourceRecordSet": {"Name": name, "Type": rtype, "TTL": 1800,
                                                         "ResourceRecords": [{"Value": value}]}}]})
