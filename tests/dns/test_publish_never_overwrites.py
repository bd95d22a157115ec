"""dns-publish never weakens, duplicates or removes what an institution already publishes (issue 12).

RFC 7489 6.6.3: with two DMARC records no policy applies, so `dmarc: publish` meeting one is a conflict
(nothing written) and `dmarc: keep` leaves it as it is, byte for byte;
RFC 7208 3.2: two SPF records are an error; SES wants exactly one MX at the MAIL FROM domain, which
must not receive mail. Writes carry RFC 2136 prerequisites (section 2.4.3).
"""

from __future__ import annotations

import json

import boto3
import pytest
from tutormail.dnsclient.resolver import ask

from sandbox.bind import Named, TsigKey, Zone, free_port
from tests.conftest import run_cli
from tests.dns.test_cenario1_bind import force
from tests.factory import institution, rfc2136, write_institutions

PRIMARY = "127.0.0.1"
STRICT = '"v=DMARC1; p=reject; rua=mailto:dmarc@politica.com.br"'
OTHER_TXT = '"google-site-verification=obviously-fake-token"'


@pytest.fixture(scope="module")
def world(sandbox, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("keeps")
    institutions = write_institutions(tmp / "institutions", {
        slug: institution(slug.title(), dns=[rfc2136(domain, PRIMARY, slug)])
        for slug, domain in (("politica", "politica.com.br"), ("ocupado", "ocupado.com.br"))})
    keeps = write_institutions(tmp / "keeps", {"politica": institution(
        "Politica", dns=[{**rfc2136("politica.com.br", PRIMARY, "politica"), "dmarc": "keep"}])})
    key = TsigKey.generate("tutormail-keeps")
    zones = [Zone("politica.com.br", update_keys=(key.name,), name_servers=(("ns1", PRIMARY),),
                  records=[("_dmarc", 300, "TXT", STRICT), ("bounce", 300, "TXT", OTHER_TXT)]),
             Zone("ocupado.com.br", update_keys=(key.name,), name_servers=(("ns1", PRIMARY),),
                  records=[("bounce", 300, "CNAME", "webmail.provedor.example.")])]
    port = free_port((PRIMARY,))
    server = Named(tmp / "primary", PRIMARY, port, zones, [key]).start()
    env = {**sandbox["env"], "TUTORMAIL_RESOLVER": f"{PRIMARY}:{port}", "TUTORMAIL_DNS_PORT": str(port),
           "TUTORMAIL_INSTITUTIONS": str(institutions)}
    session = boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"], region_name="us-east-1",
                                    aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    ses = session.client("sesv2", endpoint_url=env["AWS_ENDPOINT_URL"])
    secrets = session.client("secretsmanager", endpoint_url=env["AWS_ENDPOINT_URL"])
    state = {"env": env, "port": port, "sandbox_url": sandbox["env"]["TUTORMAIL_SANDBOX_URL"], "keeps": keeps}
    for slug, domain in (("politica", "politica.com.br"), ("ocupado", "ocupado.com.br")):
        ses.create_email_identity(EmailIdentity=domain, DkimSigningAttributes={"NextSigningKeyLength": "RSA_2048_BIT"})
        ses.create_email_identity(EmailIdentity=f"{slug}.sistematutor.com.br")
        force(state, f"{slug}.sistematutor.com.br", "SUCCESS")
        secrets.create_secret(Name=f"tutormail/{slug}/tsig", SecretString=json.dumps(
            {"name": key.name, "algorithm": key.algorithm, "secret": key.secret}))
    yield state
    server.stop()


def domain_entry(result, name):
    return next(d for d in json.loads(result.stdout)["institutions"][0]["domains"] if d["domain"] == name)


def txt(world, name):
    return ask(PRIMARY, name, "TXT", port=world["port"]).values


def test_publish_meeting_a_dmarc_policy_is_a_conflict_and_keep_leaves_it_byte_for_byte(world):
    refused = run_cli("dns-publish", "politica", "--output", "json", env=world["env"])
    assert refused.returncode == 1, refused.stdout + refused.stderr
    domain = domain_entry(refused, "politica.com.br")
    actions = {(c["name"], c["type"]): c["action"] for c in domain["changes"]}
    assert actions[("_dmarc.politica.com.br", "TXT")] == "person" and "dmarc: keep" in domain["result"]
    assert txt(world, "bounce.politica.com.br") == (OTHER_TXT,)  # nothing written while a person decides

    kept = {**world["env"], "TUTORMAIL_INSTITUTIONS": str(world["keeps"])}
    result = run_cli("dns-publish", "politica", "--output", "json", env=kept)
    assert result.returncode == 0, result.stdout + result.stderr
    domain = domain_entry(result, "politica.com.br")
    assert "_dmarc.politica.com.br" not in {c["name"] for c in domain["changes"]}  # not ours: never asked to write
    assert txt(world, "_dmarc.politica.com.br") == (STRICT,)  # byte for byte, and only one DMARC record
    assert set(txt(world, "bounce.politica.com.br")) == {OTHER_TXT, '"v=spf1 include:amazonses.com ~all"'}
    again = run_cli("dns-publish", "politica", "--output", "json", env=kept)
    assert domain_entry(again, "politica.com.br")["result"].startswith("nothing to do")
    shown = json.loads(run_cli("preflight", "politica", "--output", "json", env=kept).stdout)
    [dmarc] = [d for d in shown["institutions"][0]["dmarc"] if d["identity"] == "politica.com.br"]
    assert (dmarc["mode"], dmarc["record"], dmarc["policy"]) == ("keep", STRICT.strip('"'), "reject")


def test_a_taken_mail_from_name_is_a_conflict_and_nothing_is_written(world):
    result = run_cli("dns-publish", "ocupado", "--output", "json", env=world["env"])
    assert result.returncode == 1, result.stdout + result.stderr
    domain = domain_entry(result, "ocupado.com.br")
    assert "CNAME" in domain["result"] and "mail_from" in domain["result"]
    assert ask(PRIMARY, "_dmarc.ocupado.com.br", "TXT", port=world["port"]).outcome in ("nxdomain", "nodata")


def test_preflight_names_the_taken_mail_from_and_identities_made_outside_the_stack(world):
    result = run_cli("preflight", "ocupado", "--output", "json", env=world["env"])
    assert result.returncode == 1, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["account"]["in_ses_sandbox"] is True
    [report] = data["institutions"]
    taken = [n for n in report["names"] if n["name"] == "bounce.ocupado.com.br"]
    assert taken and {n["action"] for n in taken} == {"conflict"}
    assert any("ocupado.com.br exists in SES outside TutorMail-ocupado" in c for c in report["conflicts"])
    table = run_cli("preflight", "ocupado", env=world["env"])
    assert table.returncode == 1 and "CONFLICT: " in table.stdout
