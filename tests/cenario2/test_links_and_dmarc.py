"""Cenário 2: the link's whole life with a clock the tests move, SES on the sandbox's moto server,
and the DMARC pre-flight against records served by a real BIND."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest
from tutormail.aws.progress_marks import Progress
from tutormail.aws.ses import Ses
from tutormail.cenario2.links import LinkRefused, link_state, request_link
from tutormail.clock import Clock, FixedClock, iso
from tutormail.exitcodes import Exit
from tutormail.plan.build import plan_for
from tutormail.plan.loader import load_catalog
from tutormail.verification.identity_check import check_identity

from sandbox import launcher
from sandbox.bind import Named, Zone, free_port
from tests.conftest import run_cli
from tests.factory import company, institution, write_institutions

ADDRESS = "secretaria@escolalink.com.br"
DMARC = {
    "dmarc-none.com.br": '"v=DMARC1; p=none; rua=mailto:r@dmarc-none.com.br"',
    "dmarc-quarentena.com.br": '"v=DMARC1; p=quarantine"',
    "dmarc-rejeita.com.br": '"v=DMARC1; p=reject; adkim=s"',
    "dmarc-quebrado.com.br": '"v=DMARC1; pct=100"',
}


@pytest.fixture(scope="module")
def dns_server(tmp_path_factory):
    zones = [Zone(domain, records=[("_dmarc", 300, "TXT", value)]) for domain, value in DMARC.items()]
    zones.append(Zone("sem-dmarc.com.br"))
    server = Named(tmp_path_factory.mktemp("dmarc"), "127.0.0.1", free_port(), zones, []).start()
    yield server
    server.stop()


@pytest.fixture
def resolver_env(dns_server):
    return {"TUTORMAIL_RESOLVER": f"127.0.0.1:{dns_server.port}", "TUTORMAIL_DNS_PORT": str(dns_server.port)}


@pytest.fixture(scope="module")
def institutions(tmp_path_factory):
    return write_institutions(tmp_path_factory.mktemp("institutions"), {"escola-link": institution(
        "Escola Link", companies=[company("Escola Link", {"comunicacao": ADDRESS,
                                                          "news": "contato@dmarc-rejeita.com.br"})])})


def test_the_link_lifecycle_with_a_moved_clock(sandbox_env, platform_deployed, sandbox, institutions):
    plan = plan_for(load_catalog(institutions), "escola-link")
    boto3.client("sesv2").create_email_identity(EmailIdentity=ADDRESS)  # what the stack does
    boto3.client("secretsmanager").create_secret(Name=plan.secret_name, SecretString="{}")
    ses = Ses(plan.platform)
    progress = Progress(plan)

    def request(force=False):
        state, tag = request_link(ses, progress.read(), ADDRESS, 24, clock, force=force)
        progress.write(tag)
        return state
    # starts at the sandbox's now (whole seconds, as the marks keep it), then moves only when told
    clock = FixedClock(Clock().now().replace(microsecond=0))

    def check():
        return check_identity(plan, ADDRESS, ses.identity(ADDRESS), clock, progress.read())

    first = request()
    assert first.count == 1 and first.expires_at == clock.now() + timedelta(hours=24)
    pending = check()
    assert pending.state == "pending" and pending.exit_code == Exit.PENDING
    assert "24 h 00 min left" in pending.next_action

    clock.advance(hours=1)
    with pytest.raises(LinkRefused, match="use --force"):
        request()
    forced = request(force=True)
    assert forced.count == 2

    clock.advance(hours=25)
    expired = check()
    assert expired.state == "expired" and expired.exit_code == Exit.ACTION_NEEDED
    assert "request a new link" in expired.next_action

    renewed = request()
    assert renewed.count == 3 and check().exit_code == Exit.PENDING
    history = link_state(progress.read(), ADDRESS, 24).history
    assert len(history) == 3 and history[-1] == iso(renewed.sent_at)
    outbox = sorted((sandbox["state"] / "outbox").glob(f"*-{ADDRESS}.eml"))
    assert len(outbox) == 4  # the stack's creation, then three requests: SES mailed each one

    # a fresh process reads the same history back from AWS (the progress table)
    fresh = run_cli("verify", "escola-link", "--output", "json", env={"TUTORMAIL_INSTITUTIONS": str(institutions)})
    [institution] = json.loads(fresh.stdout)["institutions"]
    entry = next(i for i in institution["identities"] if i["identity"] == ADDRESS)
    assert entry["link_expires_at"] == iso(renewed.expires_at)

    status, _ = launcher.open_link(sandbox["state"], ADDRESS)
    assert status == 200
    done = check()
    assert done.verified and done.state == "verified" and done.exit_code == Exit.OK


def test_plan_shows_the_reject_warning_with_the_record(resolver_env, institutions, sandbox):
    # Online, plan also runs the preflight (AWS: the sandbox); its exit code is the preflight's.
    env = {**sandbox["env"], **resolver_env}
    result = run_cli("plan", "escola-link", "--institutions", str(institutions), env=env)
    assert "WARNING contato@dmarc-rejeita.com.br" in result.stdout, result.stdout + result.stderr
    assert "v=DMARC1; p=reject; adkim=s" in result.stdout
    data = json.loads(run_cli("plan", "escola-link", "--institutions", str(institutions), "--output", "json",
                              env=env).stdout)
    assert "error" not in data["preflight"]["institutions"][0]
    assert result.returncode == data["preflight"]["exit_code"], result.stderr
    by_identity = {w["identity"]: w for w in data["warnings"]}
    assert by_identity["contato@dmarc-rejeita.com.br"]["policy"] == "reject"
    assert "could not look up _dmarc.escolalink.com.br" in by_identity[ADDRESS]["warning"]  # no such zone here
