"""`tutormail offboard` on an institution of its own, deployed into the sandbox by the real CDK CLI,
its RFC 2136 domain on a BIND server started here: stopped half-way (the DNS server down), then
resumed and finished; the example institutions deployed beside it are not touched. The same server
answers for its Cenário 2 address's domain, whose DMARC rejects unaligned mail: a risk accepted for
that address goes with its identity."""

from __future__ import annotations

import json
import shutil

import boto3
import pytest
from tutormail.dnsclient.resolver import ask

from sandbox import launcher
from sandbox.bind import Named, TsigKey, Zone, free_port
from tests import factory
from tests.conftest import DEPLOY, INSTITUTIONS, cdk
from tests.e2e.iam_calls import CallLog
from tests.lifecycle.rfc2136 import update_zone

SLUG, DOMAIN, ADDRESS = "saida-teste", "saidateste.com.br", "127.0.0.1"
AVISOS = "avisos@saida-outra.com.br"  # Cenário 2, at a domain whose DMARC rejects unaligned mail
FILE = factory.to_yaml(factory.institution(
    "Saída Teste", slug=SLUG, dns=[factory.rfc2136(DOMAIN, ADDRESS, SLUG)],
    companies=[factory.company("Saída Teste", {"comunicacao": f"comunicacao@{DOMAIN}", "avisos": AVISOS})]))
RISK = f"tutormail:dmarc-risk:{AVISOS}"
OTHERS = ("faculdade-delta", "instituicao-xy", "escola-padrao")
THEIR_DMARC = "v=DMARC1; p=reject; rua=mailto:dmarc@saidateste.com.br"
CALLS = CallLog()  # the CLI runs as the operator principal: IAM decides each call on tutormail-operator


@pytest.fixture(scope="module")
def world(deployed, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("offboard")
    institutions = tmp / "institutions"
    shutil.copytree(INSTITUTIONS, institutions)
    (institutions / f"{SLUG}.yaml").write_text(FILE)
    key = TsigKey.generate("tutormail-saida")
    port = free_port((ADDRESS,))
    zone = Zone(DOMAIN, update_keys=(key.name,), name_servers=(("ns1", ADDRESS),))
    theirs = Zone("saida-outra.com.br", records=[("_dmarc", 300, "TXT", '"v=DMARC1; p=reject"')],
                  name_servers=(("ns1", ADDRESS),))
    server = Named(tmp / "bind", ADDRESS, port, [zone, theirs], [key]).start()
    env = {**deployed["env"], "TUTORMAIL_INSTITUTIONS": str(institutions), "TUTORMAIL_DNS_PORT": str(port),
           "TUTORMAIL_RESOLVER": f"{ADDRESS}:{port}"}
    session = boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"], region_name="us-east-1",
                                    aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    clients = {name: session.client(name, endpoint_url=env["AWS_ENDPOINT_URL"])
               for name in ("sesv2", "iam", "cloudformation", "secretsmanager", "dynamodb")}
    clients["secretsmanager"].create_secret(Name=f"tutormail/{SLUG}/tsig", SecretString=json.dumps(
        {"name": key.name, "algorithm": key.algorithm, "secret": key.secret}))
    result = cdk(*DEPLOY, f"TutorMail-{SLUG}", "--exclusively", "-c", f"institutions_dir={institutions}",
                 "-c", f"institutions={SLUG}", env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    operator = {**deployed["operator_env"], **{k: env[k] for k in env if k.startswith("TUTORMAIL_")}}
    state = {"env": env, "operator": operator, "server": server, "key": key, "port": port,
             "institutions": institutions, "sandbox": deployed["state"], **clients}
    yield state
    server.stop()


def cli(world, *args):
    return CALLS.run(world["operator"], *args)


def shown(result, action, name):
    """A row of the changes table: its action, then the kind, then the name."""
    return any(line.startswith(action + " ") and f" {name} " in f"{line} " for line in result.stdout.splitlines())


def values(world, name, rtype):
    return sorted(ask(ADDRESS, name, rtype, port=world["port"]).values)


def sending_enabled(world, slug):
    answer = world["sesv2"].get_configuration_set(ConfigurationSetName=f"tutormail-{slug}")
    return answer.get("SendingOptions", {}).get("SendingEnabled", True)


def key_states(world, slug):
    keys = world["iam"].list_access_keys(UserName=f"tutormail-{slug}-smtp")["AccessKeyMetadata"]
    return {k["Status"] for k in keys}


def mark(world, key):
    item = world["dynamodb"].get_item(TableName="tutormail-progress", ConsistentRead=True, Key={
        "institution": {"S": SLUG}, "mark": {"S": key}}).get("Item")
    return item["value"]["S"] if item else None


def stored_record(world):
    stored = mark(world, "tutormail:offboard:record")
    return json.loads(stored) if stored else None


def verify_avisos(world):
    """The institution follows the link SES sent to the Cenário 2 address of the stack there now."""
    cli(world, "request-link", SLUG)
    status, _ = launcher.open_link(world["sandbox"], AVISOS)
    assert status == 200


def avisos_readiness(world):
    """(smtp-settings' exit code for the address, status's deliverability state of its row)."""
    settings = cli(world, "smtp-settings", SLUG, "--account", "avisos", "--output", "json")
    rows = json.loads(cli(world, "status", SLUG, "--output", "json").stdout)["rows"]
    return settings.returncode, next(r for r in rows if r["address"] == AVISOS)["deliverability"]["state"]


def identity_names(world):
    return {i["IdentityName"] for i in world["sesv2"].list_email_identities(PageSize=1000)["EmailIdentities"]}


def set_their_dmarc(world):
    """The institution tightened its DMARC after onboarding: that record is theirs now."""
    update_zone(world["key"], DOMAIN, ADDRESS, world["port"],
                lambda update: update.replace(f"_dmarc.{DOMAIN}.", 1800, "TXT", f'"{THEIR_DMARC}"'))


def others_state(world):
    stacks = {s: world["cloudformation"].describe_stacks(StackName=f"TutorMail-{s}")["Stacks"][0]["StackStatus"]
              for s in OTHERS}
    return stacks, {s: sending_enabled(world, s) for s in OTHERS}, {s: key_states(world, s) for s in OTHERS}


def test_offboarding_stopped_by_a_dns_server_down_then_resumed(world):
    verify_avisos(world)
    assert avisos_readiness(world) == (1, "blocked")
    accepted = cli(world, "smtp-settings", SLUG, "--account", "avisos", "--reveal", "--accept-dmarc-risk")
    assert accepted.returncode == 0 and "DMARC risk accepted by" in accepted.stderr, accepted.stderr
    assert mark(world, RISK).split(" ")[1] == "reject" and avisos_readiness(world) == (0, "accepted")
    assert cli(world, "dns-publish", SLUG).returncode == 0
    tokens = world["sesv2"].get_email_identity(EmailIdentity=DOMAIN)["DkimAttributes"]["Tokens"]
    dkim = [f"{t}._domainkey.{DOMAIN}" for t in tokens]
    assert values(world, dkim[0], "CNAME") == [f"{tokens[0]}.dkim.amazonses.com."]
    set_their_dmarc(world)
    others_before = others_state(world)
    ours = {DOMAIN, f"{SLUG}.sistematutor.com.br", "avisos@saida-outra.com.br"}
    assert ours <= identity_names(world)

    dry = cli(world, "offboard", SLUG)
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout and shown(dry, "would delete", f"{dkim[0]} CNAME")
    assert shown(dry, "keep", f"_dmarc.{DOMAIN} TXT")  # theirs now: left
    assert sending_enabled(world, SLUG) and key_states(world, SLUG) == {"Active"} and stored_record(world) is None

    world["server"].stop()  # the institution's DNS server is down: the run stops at the DNS step
    try:
        failed = cli(world, "offboard", SLUG, "--apply")
    finally:
        world["server"].start()
    # the restarted test server reloads its zone file, which may lack the dynamic updates: put the
    # records back as they were (ours published, theirs at _dmarc) before resuming
    assert cli(world, "dns-publish", SLUG).returncode == 0
    set_their_dmarc(world)
    assert failed.returncode == 4, failed.stdout + failed.stderr
    assert "did not answer" in failed.stderr and "Traceback" not in failed.stderr
    record = stored_record(world)
    assert sorted(record["steps"]) == ["keys-off", "sending-off"] and record["failed"]["step"] == "dns-records"
    assert record["finished"] is None and sorted(record["identities"]) == sorted(ours)
    assert not sending_enabled(world, SLUG) and key_states(world, SLUG) == {"Inactive"}
    assert values(world, dkim[0], "CNAME")  # the records are still there

    resumed = cli(world, "offboard", SLUG, "--apply", "--output", "json")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    record = json.loads(resumed.stdout)["record"]
    assert record == stored_record(world) and record["finished"] and "failed" not in record
    assert record["steps"]["sending-off"] == stored_record(world)["steps"]["sending-off"]
    removed = record["steps"]["dns-records"]["removed"]
    assert sorted(removed) == sorted([f"{n} CNAME" for n in dkim] + [f"bounce.{DOMAIN} MX", f"bounce.{DOMAIN} TXT"])
    assert [e for e in record["steps"]["dns-records"]["left"] if e.startswith(f"_dmarc.{DOMAIN} TXT")]
    for name in dkim:
        assert values(world, name, "CNAME") == []
    assert values(world, f"_dmarc.{DOMAIN}", "TXT") == [f'"{THEIR_DMARC}"']  # theirs: left in place
    assert [s for s in world["cloudformation"].describe_stacks()["Stacks"]
            if s["StackName"] == f"TutorMail-{SLUG}" and s["StackStatus"] != "DELETE_COMPLETE"] == []
    assert not ours & identity_names(world)
    assert sorted(record["steps"]["identities"]["removed"]) == sorted(f"identity {n}" for n in ours)
    assert mark(world, RISK) is None  # the acceptance went with the identity it was given for (issue 20)

    again = cli(world, "offboard", SLUG, "--apply")
    assert again.returncode == 0 and "done at" in again.stdout and stored_record(world) == record
    assert others_state(world) == others_before  # no other institution was touched


def deploy(world, slug):
    result = cdk(*DEPLOY, f"TutorMail-{slug}", "--exclusively", "-c", f"institutions_dir={world['institutions']}",
                 "-c", f"institutions={slug}", env=world["env"])
    return result.returncode, result.stdout[-3000:] + result.stderr[-3000:]


def stack_status(world, slug):
    stacks = [s for s in world["cloudformation"].describe_stacks()["Stacks"]
              if s["StackName"] == f"TutorMail-{slug}" and s["StackStatus"] != "DELETE_COMPLETE"]
    return stacks[0]["StackStatus"] if stacks else None


def test_offboarded_then_deployed_again_is_offboarded_anew(world):
    """The finished record above was for the stack that is gone; after a new deploy, offboard --apply
    must not replay it ("removed ..." with the old time, nothing removed): it plans and runs a new
    offboarding of the stack there now (issue 20)."""
    old = stored_record(world)
    assert old and old["finished"]
    code, output = deploy(world, SLUG)
    assert code == 0, output
    assert sending_enabled(world, SLUG) and key_states(world, SLUG) == {"Active"}
    verify_avisos(world)  # the stack made the address's identity anew: the old acceptance does not count
    assert avisos_readiness(world) == (1, "blocked")
    dry = cli(world, "offboard", SLUG)
    assert dry.returncode == 0 and "done at" not in dry.stdout and "earlier" not in dry.stdout, dry.stdout
    assert "another deployment" in dry.stderr and stored_record(world) == old  # a dry run writes nothing
    applied = cli(world, "offboard", SLUG, "--apply", "--output", "json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    record = json.loads(applied.stdout)["record"]
    assert record["started"] != old["started"] and record["finished"] and record == stored_record(world)
    assert record["deployment"]["stack_id"] != old["deployment"]["stack_id"]
    assert stack_status(world, SLUG) is None
    assert not {DOMAIN, f"{SLUG}.sistematutor.com.br", "avisos@saida-outra.com.br"} & identity_names(world)


def test_an_identity_made_by_hand_that_rolled_the_first_deploy_back_is_never_deleted(world):
    """Someone made an SES identity by hand; the institution's first deploy then rolls back ("already
    exists"). The rolled-back template names the identity, but tutor-mail never made it: offboard
    takes the failed stack away and leaves the identity (issue 20)."""
    slug, domain = "feito-teste", "feitoamao.com.br"
    (world["institutions"] / f"{slug}.yaml").write_text(factory.to_yaml(factory.institution(
        "Feito Teste", slug=slug, dns=[factory.manual(domain)])))
    world["sesv2"].create_email_identity(EmailIdentity=domain)  # by hand, outside tutor-mail
    code, output = deploy(world, slug)
    assert code != 0 and stack_status(world, slug) == "ROLLBACK_COMPLETE", output
    assert domain in identity_names(world)
    applied = cli(world, "offboard", slug, "--apply", "--output", "json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    record = json.loads(applied.stdout)["record"]
    assert domain not in record["identities"] and stack_status(world, slug) is None
    assert domain in identity_names(world)  # not ours: still there


def test_the_operator_table_is_exactly_what_offboard_called(world):
    """offboard ran above as the operator, through every step (stopped, resumed, re-run): each call
    was allowed by the policy built from tutormail.aws.permissions, and each of its rows was called."""
    missing, unused = CALLS.differences({"offboard"})
    assert not missing, f"called but not in tutormail.aws.permissions: {missing}"
    assert not unused, f"granted but never called by the command: {unused}"
