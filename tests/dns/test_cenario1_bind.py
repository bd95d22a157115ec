"""Cenário 1 against real BIND servers started here, and the AWS side on the sandbox's moto server."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import urllib.request

import boto3
import dns.name
import dns.query
import dns.tsigkeyring
import dns.update
import pytest
from tutormail.dnsclient.resolver import ask

from sandbox.bind import Named, TsigKey, Zone, free_port, named_binary
from tests.conftest import run_cli
from tests.factory import institution, rfc2136, write_institutions
from tests.lifecycle.rfc2136 import publish_platform_records

PRIMARY, SECONDARY, OTHER_PRIMARY, NOBODY = "127.0.0.1", "127.0.0.3", "127.0.0.4", "127.0.0.5"


@pytest.fixture(scope="module")
def world(sandbox, platform_deployed, tmp_path_factory):  # verify keeps marks in its progress table
    """Two zones: dnsteste (a primary and a secondary) and dnsduplo (two independent primaries and
    a third name server that does not answer)."""
    tmp = tmp_path_factory.mktemp("cenario1")
    key = TsigKey.generate("tutormail-teste")
    other = TsigKey.generate("outra-chave")  # known to the servers, allowed to update nothing
    pairs = (("dns-teste", "DNS Teste", "dnsteste.com.br"), ("dns-duplo", "DNS Duplo", "dnsduplo.com.br"))
    institutions = write_institutions(tmp / "institutions", {
        slug: institution(name, dns=[rfc2136(domain, PRIMARY, slug)]) for slug, name, domain in pairs})
    port = free_port((PRIMARY, SECONDARY, OTHER_PRIMARY))
    teste = Zone("dnsteste.com.br", update_keys=(key.name,), name_servers=(("ns1", PRIMARY), ("ns2", SECONDARY)))
    duplo = Zone("dnsduplo.com.br", update_keys=(key.name,),
                 name_servers=(("ns1", PRIMARY), ("ns2", OTHER_PRIMARY), ("ns3", NOBODY)))
    platform = Zone("sistematutor.com.br", update_keys=(key.name,))  # what the stacks write there: below
    servers = [
        Named(tmp / "primary", PRIMARY, port, [teste, duplo, platform], [key, other], notify=(SECONDARY,)).start(),
        Named(tmp / "secondary", SECONDARY, port, [teste], [key, other], primary=(PRIMARY, port)).start(),
        Named(tmp / "other", OTHER_PRIMARY, port, [duplo], [key, other]).start(),
    ]
    env = {**sandbox["env"], "TUTORMAIL_RESOLVER": f"{PRIMARY}:{port}", "TUTORMAIL_DNS_PORT": str(port),
           "TUTORMAIL_INSTITUTIONS": str(institutions)}
    session = boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"], region_name=env["AWS_REGION"],
                                    aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    ses = session.client("sesv2", endpoint_url=env["AWS_ENDPOINT_URL"])
    secrets = session.client("secretsmanager", endpoint_url=env["AWS_ENDPOINT_URL"])
    state = {"env": env, "port": port, "key": key, "other": other, "tmp": tmp, "ses": ses,
             "sandbox_url": sandbox["env"]["TUTORMAIL_SANDBOX_URL"]}
    for slug, _, domain in pairs:  # what the stack would create: the two identities of each institution
        ses.create_email_identity(EmailIdentity=domain, DkimSigningAttributes={"NextSigningKeyLength": "RSA_2048_BIT"})
        ses.create_email_identity(EmailIdentity=f"{slug}.sistematutor.com.br")
        force(state, f"{slug}.sistematutor.com.br", "SUCCESS")
        secrets.create_secret(Name=f"tutormail/{slug}/tsig", SecretString=json.dumps(
            {"name": key.name, "algorithm": key.algorithm, "secret": key.secret}))
        publish_platform_records(env, slug, key, PRIMARY, port)
    yield state
    for server in servers:
        server.stop()


def force(world, identity, status):
    request = urllib.request.Request(f"{world['sandbox_url']}/_sandbox/identity", method="POST",  # noqa: S310
                                     data=json.dumps({"identity": identity, "status": status}).encode())
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (loopback)
        assert response.status == 200


def cli(world, *args):
    return run_cli(*args, env=world["env"])


def verify_json(world, slug):
    result = cli(world, "verify", slug, "--output", "json")
    return result.returncode, json.loads(result.stdout)


def rfc2136_domain(data):
    [institution] = data["institutions"]
    return next(d for d in institution["domains"] if d["provider"] == "rfc2136")


def findings(data, domain):
    [institution] = data["institutions"]
    return next(i for i in institution["identities"] if i["identity"] == domain)["dns"]["findings"]


def test_publish_then_verify_on_a_primary_and_its_secondary(world):
    code, data = verify_json(world, "dns-teste")
    assert code == 3 and {f["status"] for f in findings(data, "dnsteste.com.br")} == {"missing"}
    result = cli(world, "dns-publish", "dns-teste")
    assert result.returncode == 0, result.stderr
    assert "updated: 6 record set(s) written in one signed update" in result.stdout
    for _ in range(40):  # NOTIFY and transfer to the secondary: a bounded wait
        code, data = verify_json(world, "dns-teste")
        if {f["status"] for f in findings(data, "dnsteste.com.br")} == {"found"}:
            break
    found = findings(data, "dnsteste.com.br")
    assert {f["status"] for f in found} == {"found"}
    assert {(f["server"], f["address"]) for f in found} == {("ns1.dnsteste.com.br", PRIMARY),
                                                           ("ns2.dnsteste.com.br", SECONDARY)}
    assert len(found) == 12  # six record sets on each server
    assert code == 3  # SES (the sandbox) has not said SUCCESS for this domain yet
    force(world, "dnsteste.com.br", "SUCCESS")
    code, _ = verify_json(world, "dns-teste")
    assert code == 0


def test_a_second_publish_changes_nothing(world):
    result = cli(world, "dns-publish", "dns-teste", "--output", "json")
    data = json.loads(result.stdout)
    domain = rfc2136_domain(data)
    assert domain["result"] == "nothing to do: every record is already there"
    assert {c["action"] for c in domain["changes"]} == {"keep"}


def test_wrong_value_on_one_server_and_an_unreachable_one_are_named(world):
    assert cli(world, "dns-publish", "dns-duplo").returncode == 0
    tokens = world["ses"].get_email_identity(EmailIdentity="dnsduplo.com.br")["DkimAttributes"]["Tokens"]
    key = world["key"]
    update = dns.update.UpdateMessage("dnsduplo.com.br", keyring=dns.tsigkeyring.from_text({key.name: key.secret}),
                                      keyname=key.name, keyalgorithm=key.algorithm)
    for token in tokens:  # the other primary: right values, except one
        target = "wrong.dkim.example.net." if token == tokens[0] else f"{token}.dkim.amazonses.com."
        update.replace(f"{token}._domainkey.dnsduplo.com.br.", 1800, "CNAME", target)
    assert dns.query.tcp(update, OTHER_PRIMARY, port=world["port"], timeout=5).rcode() == 0
    _, data = verify_json(world, "dns-duplo")
    found = findings(data, "dnsduplo.com.br")
    wrong = [f for f in found if f["status"] == "wrong"]
    assert len(wrong) == 1
    assert wrong[0]["server"] == "ns2.dnsduplo.com.br" and wrong[0]["address"] == OTHER_PRIMARY
    assert wrong[0]["record"] == f"{tokens[0]}._domainkey.dnsduplo.com.br"
    assert wrong[0]["expected"] == [f"{tokens[0]}.dkim.amazonses.com."]
    assert wrong[0]["found"] == ["wrong.dkim.example.net."]
    assert {f["status"] for f in found if f["server"] == "ns3.dnsduplo.com.br"} == {"unreachable"}
    assert {f["status"] for f in found if f["server"] == "ns1.dnsduplo.com.br"} == {"found"}
    table = cli(world, "verify", "dns-duplo").stdout
    assert "ns2.dnsduplo.com.br (127.0.0.4)" in table and "wrong.dkim.example.net." in table


def test_bad_tsig_keys_get_a_clear_message_and_exit_2(world):
    right = world["key"]
    cli(world, "dns-publish", "dns-duplo")  # make sure there is something to change
    world["ses"].delete_email_identity(EmailIdentity="dnsduplo.com.br")
    world["ses"].create_email_identity(EmailIdentity="dnsduplo.com.br")  # new tokens: records must change
    cases = {
        "BADSIG": f"{right.name}:{right.algorithm}:{TsigKey.generate('x').secret}",
        "BADKEY": f"chave-desconhecida:{right.algorithm}:{right.secret}",
        "REFUSED": world["other"].as_text(),
    }
    malformed = {  # key files that must be refused before any update is attempted
        "not-a-key": "not a key at all",
        "bad-base64": f"{right.name}:{right.algorithm}:not*base64!",
        "unknown-algorithm": f"{right.name}:hmac-sha3-999:{right.secret}",
        "wrong-json-types": json.dumps({"name": 7, "algorithm": ["hmac-sha256"], "secret": {"a": 1}}),
        "json-not-an-object": "[1, 2, 3]",
        "empty-secret": f"{right.name}:{right.algorithm}:",
        "bad-name": f"{'x' * 64}.example:{right.algorithm}:{right.secret}",
    }
    for label, key_text in malformed.items():
        cases[f"TSIG key/{label}"] = key_text
    for expected, key_text in cases.items():
        key_file = world["tmp"] / f"{expected.replace('/', '-')}.key"
        key_file.write_text(key_text)
        result = cli(world, "dns-publish", "dns-duplo", "--tsig-key-file", str(key_file))
        assert result.returncode == 2, (expected, result.stdout, result.stderr)
        assert expected.split("/")[0] in result.stderr
        assert "Traceback" not in result.stderr
    binary = world["tmp"] / "binary.key"
    binary.write_bytes(bytes(range(256)))
    result = cli(world, "dns-publish", "dns-duplo", "--tsig-key-file", str(binary))
    assert result.returncode == 2 and "binary" in result.stderr and "Traceback" not in result.stderr
    missing = cli(world, "dns-publish", "dns-duplo", "--tsig-key-file", str(world["tmp"] / "nowhere.key"))
    assert missing.returncode == 2 and "cannot read the TSIG key file" in missing.stderr
    assert "Traceback" not in missing.stderr
    # in a batch, the institution that fails is reported and the next one still goes through
    batch = cli(world, "dns-publish", "dns-duplo", "dns-teste", "--tsig-key-file", str(world["tmp"] / "BADSIG.key"),
                "--output", "json")
    failed, went_on = json.loads(batch.stdout)["institutions"]
    assert batch.returncode == 2 and failed["exit_code"] == 2 and "BADSIG" in rfc2136_domain(
        {"institutions": [failed]})["result"]
    assert went_on["institution"] == "dns-teste" and went_on["exit_code"] == 0


def test_dry_run_shows_the_plan_and_writes_nothing(world):
    result = cli(world, "dns-publish", "dns-duplo", "--dry-run", "--output", "json")
    domain = rfc2136_domain(json.loads(result.stdout))
    assert domain["result"].startswith("dry run:") and {c["action"] for c in domain["changes"]} >= {"create"}
    again = json.loads(cli(world, "dns-publish", "dns-duplo", "--dry-run", "--output", "json").stdout)
    assert rfc2136_domain(again)["changes"] == domain["changes"]


def test_zone_output_passes_named_checkzone(world, tmp_path):
    records = cli(world, "dns-records", "dns-teste", "--format", "zone", "--domain", "dnsteste.com.br").stdout
    (tmp_path / "records.zone").write_text(records)
    zone = tmp_path / "dnsteste.com.br.zone"
    zone.write_text("$TTL 300\n@ IN SOA ns1.dnsteste.com.br. hostmaster.dnsteste.com.br. 1 3600 600 86400 60\n"
                    "@ IN NS ns1.dnsteste.com.br.\nns1 IN A 127.0.0.1\n"
                    f"$INCLUDE {tmp_path / 'records.zone'}\n")
    checkzone = shutil.which("named-checkzone") or named_binary().replace("named", "named-checkzone")
    result = subprocess.run([checkzone, "dnsteste.com.br", str(zone)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "loaded serial 1" in result.stdout and "ignoring" not in result.stdout


def test_failed_identity_exits_1_with_the_remediation(world):
    force(world, "dnsteste.com.br", "FAILED")
    result = cli(world, "verify", "dns-teste")
    force(world, "dnsteste.com.br", None)
    assert result.returncode == 1
    assert "72 h window" in result.stdout and "put-email-identity-dkim-signing-attributes" in result.stdout


def test_dns_faults_are_told_apart(world):
    port = world["port"]
    assert ask(PRIMARY, "nada.dnsteste.com.br", "TXT", port=port).outcome == "nxdomain"
    assert ask(PRIMARY, "dnsteste.com.br", "TXT", port=port).outcome == "nodata"
    assert ask(PRIMARY, "exemplo-fora.org", "TXT", port=port).outcome == "refused"
    assert ask(NOBODY, "dnsteste.com.br", "SOA", port=port, timeout=0.5).outcome == "timeout"
    broken = Zone("quebrado.com.br", records=[("@", 300, "MX", "not-a-preference mx.quebrado.com.br.")])
    server = Named(world["tmp"] / "broken", PRIMARY, free_port(), [broken], []).start(ready=())  # fails to load
    try:
        for _ in range(50):
            outcome = ask(PRIMARY, "quebrado.com.br", "SOA", port=server.port).outcome
            if outcome != "timeout":
                break
        assert outcome == "servfail"
    finally:
        server.stop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # takes the question, never answers
        silent.bind((PRIMARY, 0))
        answer = ask(PRIMARY, "dnsteste.com.br", "SOA", port=silent.getsockname()[1], timeout=0.3)
    assert answer.outcome == "timeout"


def _garbage_server(reply_for):
    """A UDP server on loopback that answers every question with reply_for(query bytes)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((PRIMARY, 0))
    sock.settimeout(5)

    def serve():
        try:
            while True:
                query, peer = sock.recvfrom(4096)
                sock.sendto(reply_for(query), peer)
        except OSError:
            return

    threading.Thread(target=serve, daemon=True).start()
    return sock


def test_malformed_answers_are_that_servers_failure(world):
    # Same id and question count, then a label of the reserved type 0b01 (RFC 6891 retired it):
    # dnspython raises BadLabelType while parsing, which must not escape as a traceback.
    header = b"\x84\x00\x00\x01\x00\x00\x00\x00\x00\x00"
    bad_label = _garbage_server(lambda q: q[:2] + header + b"\x45abc\x00\x00\x10\x00\x01")
    truncated = _garbage_server(lambda q: q[:2] + b"\x84")
    try:
        for sock in (bad_label, truncated):
            answer = ask(PRIMARY, "dnsteste.com.br", "TXT", port=sock.getsockname()[1], timeout=1)
            assert answer.outcome == "error" and "malformed" in answer.detail, answer
    finally:
        bad_label.close()
        truncated.close()


def test_a_clock_off_by_hours_gets_badtime(world, monkeypatch):
    import time as real_time

    import dns.message
    from tutormail.dnsclient.rfc2136 import PublishError, TsigKey, send_update

    from tests.unit.fakes import record_change

    class Skewed:  # this machine's clock two hours behind the server's
        @staticmethod
        def time():
            return real_time.time() - 7200

    monkeypatch.setattr(dns.message, "time", Skewed)
    key = world["key"]
    change = record_change("badtime.dnsteste.com.br", "TXT", "add", ('"x"',), ())
    with pytest.raises(PublishError, match="BADTIME") as raised:
        send_update("dnsteste.com.br", [change], TsigKey(key.name, key.algorithm, key.secret), PRIMARY, world["port"])
    assert raised.value.exit_code == 2
