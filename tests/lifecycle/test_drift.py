"""Drift reported by `verify`: a record removed at the institution's server after verification
(a BIND server started here) and an SMTP key older than platform.yaml's maximum age (a deployed
example institution, seen from a clock 91 days ahead in this test's process only)."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import urllib.request

import boto3
import pytest

from sandbox.bind import Named, TsigKey, Zone, free_port
from tests import factory
from tests.conftest import INSTITUTIONS, run_cli
from tests.lifecycle.rfc2136 import publish_platform_records, update_zone

SLUG, DOMAIN, ADDRESS = "deriva-teste", "derivateste.com.br", "127.0.0.1"
FILE = factory.to_yaml(factory.institution(
    "Deriva Teste", slug=SLUG, dns=[{**factory.rfc2136(DOMAIN, ADDRESS, SLUG), "dmarc_policy": "quarantine"}],
    companies=[factory.company("Deriva Teste", {"comunicacao": f"comunicacao@{DOMAIN}"})]))


def force(env, identity, status):
    request = urllib.request.Request(f"{env['TUTORMAIL_SANDBOX_URL']}/_sandbox/identity", method="POST",  # noqa: S310
                                     data=json.dumps({"identity": identity, "status": status}).encode())
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (loopback)
        assert response.status == 200


@pytest.fixture(scope="module")
def world(platform_deployed, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("drift")
    institutions = tmp / "institutions"
    institutions.mkdir()
    shutil.copy(INSTITUTIONS / "platform.yaml", institutions)
    (institutions / f"{SLUG}.yaml").write_text(FILE)
    key = TsigKey.generate("tutormail-deriva")
    port = free_port((ADDRESS,))
    zones = [Zone(DOMAIN, update_keys=(key.name,)), Zone("sistematutor.com.br", update_keys=(key.name,))]
    server = Named(tmp / "bind", ADDRESS, port, zones, [key]).start()
    env = {**platform_deployed["env"], "TUTORMAIL_INSTITUTIONS": str(institutions), "TUTORMAIL_DNS_PORT": str(port),
           "TUTORMAIL_RESOLVER": f"{ADDRESS}:{port}"}
    session = boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"], region_name="us-east-1",
                                    aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    ses = session.client("sesv2", endpoint_url=env["AWS_ENDPOINT_URL"])
    for identity in (DOMAIN, f"{SLUG}.sistematutor.com.br"):  # what the stack would create
        ses.create_email_identity(EmailIdentity=identity)
    session.client("secretsmanager", endpoint_url=env["AWS_ENDPOINT_URL"]).create_secret(
        Name=f"tutormail/{SLUG}/tsig", SecretString=key.as_text())
    publish_platform_records(env, SLUG, key, ADDRESS, port)  # what the stack writes into the platform zone
    yield {"env": env, "key": key, "port": port, "ses": ses}
    server.stop()


def verify(env, slug, codes=(0, 1, 3)):
    result = run_cli("verify", slug, "--output", "json", env=env)
    assert result.returncode in codes, [(e["identity"], e["exit_code"], e.get("dns", {}).get("problem"))
                                        for i in json.loads(result.stdout)["institutions"] for e in i["identities"]]
    [institution] = json.loads(result.stdout)["institutions"]
    return result.returncode, institution


def test_a_record_removed_after_verification_is_drift_not_verified(world):
    env = world["env"]
    assert run_cli("dns-publish", SLUG, env=env).returncode == 0
    for identity in (DOMAIN, f"{SLUG}.sistematutor.com.br"):
        force(env, identity, "SUCCESS")
    code, institution = verify(env, SLUG)
    assert code == 0 and all(entry["drift"] == [] for entry in institution["identities"])
    token = world["ses"].get_email_identity(EmailIdentity=DOMAIN)["DkimAttributes"]["Tokens"][0]
    # someone at the institution removed it
    update_zone(world["key"], DOMAIN, ADDRESS, world["port"],
                lambda update: update.delete(f"{token}._domainkey.{DOMAIN}.", "CNAME"))
    code, institution = verify(env, SLUG)
    entry = next(e for e in institution["identities"] if e["identity"] == DOMAIN)
    assert code == 1 and entry["verified"] is True
    assert entry["drift"] == [f"{token}._domainkey.{DOMAIN} CNAME is missing at ns1.{DOMAIN} ({ADDRESS})"]
    text = run_cli("verify", SLUG, env=env)
    assert text.returncode == 1 and f"drift: {token}._domainkey.{DOMAIN} CNAME is missing" in text.stdout
    # status reports the same drift, only when asked (--drift), on the rows of that identity's senders
    plain = run_cli("status", SLUG, "--output", "json", env=env)
    assert {row["drift"] for row in json.loads(plain.stdout)["rows"]} == {None}
    status = run_cli("status", SLUG, "--drift", "--output", "json", env=env)
    assert status.returncode == 1, status.stdout + status.stderr
    [row] = [r for r in json.loads(status.stdout)["rows"] if r["address"] == f"comunicacao@{DOMAIN}"]
    assert row["drift"] == entry["drift"]
    table = run_cli("status", SLUG, "--drift", env=env)
    assert f"drift: {SLUG} comunicacao@{DOMAIN}: {token}._domainkey.{DOMAIN} CNAME is missing" in table.stdout


def test_an_smtp_key_older_than_the_maximum_age_is_drift(deployed, tmp_path):
    env = {**deployed["env"], "TUTORMAIL_INSTITUTIONS": str(INSTITUTIONS)}
    _, institution = verify(env, "faculdade-delta")
    assert institution["smtp_key_drift"] == []
    clock = tmp_path / "clock"
    clock.write_text(str(91 * 86400))  # this process's clock only: the sandbox's own clock does not move
    code, institution = verify({**env, "TUTORMAIL_CLOCK_FILE": str(clock)}, "faculdade-delta")
    [drift] = institution["smtp_key_drift"]
    assert code == 1 and "tutormail-faculdade-delta-smtp is 91 days old (more than 90)" in drift
    assert "smtp_key_generation" in drift
    status = run_cli("status", "faculdade-delta", "--drift", "--output", "json",
                     env={**env, "TUTORMAIL_CLOCK_FILE": str(clock)})
    assert status.returncode == 1 and all(drift in row["drift"] for row in json.loads(status.stdout)["rows"])


def set_dmarc(world, value):
    update_zone(world["key"], DOMAIN, ADDRESS, world["port"],
                lambda update: update.replace(f"_dmarc.{DOMAIN}.", 300, "TXT", f'"{value}"'))


def test_a_dmarc_record_weaker_than_the_file_is_wrong_not_found(world):
    """The file says quarantine; someone at the institution lowered it to p=none (issue 20). Their
    own stronger record still passes: it is theirs, and no weaker."""
    env = world["env"]
    assert run_cli("dns-publish", SLUG, env=env).returncode == 0
    for identity in (DOMAIN, f"{SLUG}.sistematutor.com.br"):
        force(env, identity, "SUCCESS")
    try:
        set_dmarc(world, "v=DMARC1; p=none; rua=mailto:d@derivateste.com.br")
        code, institution = verify(env, SLUG)
        entry = next(e for e in institution["identities"] if e["identity"] == DOMAIN)
        [finding] = [f for f in entry["dns"]["findings"] if f["record"] == f"_dmarc.{DOMAIN}"]
        assert code == 1 and finding["status"] == "wrong", finding
        assert "weaker than the file's p=quarantine" in finding["detail"] and "dns-publish" in finding["detail"]
        assert any(f"_dmarc.{DOMAIN} TXT is wrong" in d for d in entry["drift"])
        set_dmarc(world, "v=DMARC1; p=reject; rua=mailto:d@derivateste.com.br")
        code, institution = verify(env, SLUG)
        entry = next(e for e in institution["identities"] if e["identity"] == DOMAIN)
        assert code == 0 and entry["drift"] == [], entry
    finally:
        set_dmarc(world, "v=DMARC1; p=quarantine;")


def _garbage(sock):
    """Answers every question with a DNS header cut short (dnspython: ShortHeader)."""
    try:
        while True:
            query, peer = sock.recvfrom(4096)
            sock.sendto(query[:2] + b"\x84", peer)
    except OSError:
        return


@pytest.mark.parametrize("server", ["hangs", "garbage"])
def test_dns_that_cannot_be_checked_is_exit_4_never_verified_nor_no_drift(world, server):
    """The resolver and the servers hang (or answer garbage) while a wrong MX is in place: verify and
    status --drift cannot check the records, so they say so and exit 4 (issue 20)."""
    env = world["env"]
    assert run_cli("dns-publish", SLUG, env=env).returncode == 0
    for identity in (DOMAIN, f"{SLUG}.sistematutor.com.br"):
        force(env, identity, "SUCCESS")
    assert verify(env, SLUG)[0] == 0
    update_zone(world["key"], DOMAIN, ADDRESS, world["port"], lambda update: update.replace(
        f"bounce.{DOMAIN}.", 300, "MX", "10 mx.elsewhere.example."))
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((ADDRESS, 0))
            if server == "garbage":
                threading.Thread(target=_garbage, args=(sock,), daemon=True).start()
            port = str(sock.getsockname()[1])
            # the default 3 s a question would only make the same exit 4 slower
            broken = {**env, "TUTORMAIL_DNS_PORT": port, "TUTORMAIL_RESOLVER": f"{ADDRESS}:{port}",
                      "TUTORMAIL_DNS_TIMEOUT": "0.5"}
            _, institution = verify(broken, SLUG, codes=(4,))
            entry = next(e for e in institution["identities"] if e["identity"] == DOMAIN)
            assert entry["exit_code"] == 4 and entry["dns"]["problem"], entry["dns"]
            status = run_cli("status", SLUG, "--drift", "--output", "json", env=broken)
            assert status.returncode == 4, status.stdout + status.stderr
            [row] = [r for r in json.loads(status.stdout)["rows"] if r["address"] == f"comunicacao@{DOMAIN}"]
            assert row["drift_unchecked"] and "cannot find the authoritative servers" in row["drift_unchecked"][0]
            table = run_cli("status", SLUG, "--drift", env=broken)
            assert table.returncode == 4 and f"drift not checked: {SLUG} comunicacao@{DOMAIN}" in table.stdout
        assert verify(env, SLUG)[0] == 1  # with DNS back, the wrong MX is found
    finally:  # ours put back, whatever happened above
        update_zone(world["key"], DOMAIN, ADDRESS, world["port"],
                    lambda update: update.delete(f"bounce.{DOMAIN}.", "MX"))
        assert run_cli("dns-publish", SLUG, env=env).returncode == 0
