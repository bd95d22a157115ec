"""dns-publish never weakens, duplicates or removes what an institution already publishes (issue 12).

RFC 7489 6.6.3: with two DMARC records no policy applies, so an existing one is kept as it is;
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
    key = TsigKey.generate("tutormail-keeps")
    zones = [Zone("politica.com.br", update_keys=(key.name,), name_servers=(("ns1", PRIMARY),),
                  records=[("_dmarc", 300, "TXT", STRICT), ("mail", 300, "TXT", OTHER_TXT)]),
             Zone("ocupado.com.br", update_keys=(key.name,), name_servers=(("ns1", PRIMARY),),
                  records=[("mail", 300, "CNAME", "webmail.provedor.example.")])]
    port = free_port((PRIMARY,))
    server = Named(tmp / "primary", PRIMARY, port, zones, [key]).start()
    env = {**sandbox["env"], "TUTORMAIL_RESOLVER": f"{PRIMARY}:{port}", "TUTORMAIL_DNS_PORT": str(port),
           "TUTORMAIL_INSTITUTIONS": str(institutions)}
    session = boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"], region_name="us-east-1",
                                    aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    ses = session.client("sesv2", endpoint_url=env["AWS_ENDPOINT_URL"])
    secrets = session.client("secretsmanager", endpoint_url=env["AWS_ENDPOINT_URL"])
    state = {"env": env, "port": port, "sandbox_url": sandbox["env"]["TUTORMAIL_SANDBOX_URL"]}
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


def test_an_existing_dmarc_policy_and_other_txt_are_kept(world):
    result = run_cli("dns-publish", "politica", "--output", "json", env=world["env"])
    assert result.returncode == 0, result.stdout + result.stderr
    domain = domain_entry(result, "politica.com.br")
    actions = {(c["name"], c["type"]): c["action"] for c in domain["changes"]}
    assert actions[("_dmarc.politica.com.br", "TXT")] == "keep"
    assert txt(world, "_dmarc.politica.com.br") == (STRICT,)  # byte for byte, and only one DMARC record
    assert set(txt(world, "mail.politica.com.br")) == {OTHER_TXT, '"v=spf1 include:amazonses.com ~all"'}
    again = run_cli("dns-publish", "politica", "--output", "json", env=world["env"])
    assert domain_entry(again, "politica.com.br")["result"].startswith("nothing to do")


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
    taken = [n for n in report["names"] if n["name"] == "mail.ocupado.com.br"]
    assert taken and {n["action"] for n in taken} == {"conflict"}
    assert any("ocupado.com.br exists in SES outside TutorMail-ocupado" in c for c in report["conflicts"])
    table = run_cli("preflight", "ocupado", env=world["env"])
    assert table.returncode == 1 and "CONFLICT: " in table.stdout
