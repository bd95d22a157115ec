"""Issue 20's hostile inputs that end in a command, not in a file of the corpus: each ends with its
exit code and a message, never a traceback, and leaves nothing half changed."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import stat
import subprocess
import sys
import time
import unicodedata
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from tutormail.cli.start import INTERRUPTED
from tutormail.cli.status_html import write as write_page
from tutormail.clock import FixedClock
from tutormail.exitcodes import Exit, TutormailError
from tutormail.lifecycle.offboard import stored_record
from tutormail.plan.build import build_plan, plan_for
from tutormail.plan.loader import load_catalog
from tutormail.plan.selection import select_senders
from tutormail.reputation.pause import switch
from tutormail.tutor_setup.phases import phase_test
from tutormail.tutor_setup.send_test import SendResult

from sandbox import __main__ as sandbox_cli
from sandbox.bind import Named, TsigKey, Zone
from tests.conftest import INSTITUTIONS, run_cli
from tests.factory import company, institution
from tests.unit.fakes import SECRET, FakeProgress, FakeSes, no_dmarc, pending, services, verified

# --- the sandbox -----------------------------------------------------------------------------------


@pytest.fixture
def state(tmp_path):
    """A state directory as `python -m sandbox up` leaves it, as far as advance-clock reads it."""
    (tmp_path / "env.json").write_text(json.dumps({"TUTORMAIL_CLOCK_FILE": str(tmp_path / "clock-offset")}))
    (tmp_path / "clock-offset").write_text("3600")
    return tmp_path


@pytest.mark.parametrize("hours", ["nan", "inf", "-inf", "1e308", "-2", "0"])
def test_advance_clock_refuses_what_is_not_a_step_forward_and_keeps_the_clock(state, hours, capsys):
    assert sandbox_cli.main(["--state", str(state), "advance-clock", "--", hours]) == 2
    assert (state / "clock-offset").read_text() == "3600"
    assert "advance-clock" in capsys.readouterr().err


def test_advance_clock_moves_a_running_sandbox_forward(state):
    assert sandbox_cli.main(["--state", str(state), "advance-clock", "25"]) == 0
    assert float((state / "clock-offset").read_text()) == 3600 + 25 * 3600


def test_advance_clock_without_a_sandbox_is_exit_2_saying_so(tmp_path, capsys):
    assert sandbox_cli.main(["--state", str(tmp_path / "none"), "advance-clock", "1"]) == 2
    err = capsys.readouterr().err
    assert "no sandbox is up" in err and "Traceback" not in err


def test_named_conf_with_the_tsig_secrets_is_owner_only(tmp_path):
    (tmp_path / "named.conf").write_text("old")
    os.chmod(tmp_path / "named.conf", 0o644)
    key = TsigKey("update-key", "ZmFrZS10c2lnLXNlY3JldC1mb3ItdGVzdHMtb25seQ==")
    conf = Named(tmp_path, "127.0.0.1", 5300, [Zone("escola.com.br", update_keys=(key.name,))], [key]).write_config()
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600 and key.secret in conf.read_text()


# --- exit codes where nothing changes by itself ----------------------------------------------------


def test_pause_of_an_institution_not_deployed_is_exit_1(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "FAKEKEYIDFORTESTS001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake")
    sesv2 = boto3.client("sesv2", region_name="us-east-1")
    with Stubber(sesv2) as stub:
        stub.add_client_error("put_configuration_set_sending_options", "NotFoundException",
                              "Configuration set <tutormail-nada> does not exist.")
        with pytest.raises(TutormailError) as raised:
            switch(sesv2, None, "nada", paused=True, by="ana", reason="test")
    assert raised.value.exit_code == Exit.ACTION_NEEDED and "not deployed" in str(raised.value)


class Store:
    def __init__(self):
        self.items = []

    def put_item(self, slug, mark, value):
        self.items.append((slug, mark, value))


class Sesv2:
    def put_configuration_set_sending_options(self, **kwargs):
        return {}


def test_a_pause_reason_reaches_no_terminal_with_control_characters():
    store = Store()
    mark = switch(Sesv2(), store, "escola", paused=True, by="ana", reason="list\x1b[2J\x1b]0;owned\x07 bad\r\n")
    assert mark.reason == "list 2J 0 owned bad" and store.items[0][2].endswith(mark.reason)


@pytest.mark.parametrize("reason", ["", "   ", "\x1b[\x07\r\n"])
def test_pause_without_a_reason_in_words_is_exit_2(reason):
    result = run_cli("pause", "escola-padrao", "--reason", reason, "--institutions", str(INSTITUTIONS))
    assert result.returncode == 2 and "--reason" in result.stderr and "Traceback" not in result.stderr
    assert "\x1b" not in result.stderr + result.stdout


@pytest.fixture
def ordem(institution_files):
    catalog = load_catalog(institution_files(ordem=institution("Ordem", companies=[
        company("Ordem", {"comunicacao": "contato@ordem.com.br"})])))
    plan = plan_for(catalog, "ordem")
    return plan, FakeSes({i.name: verified(i.name) for i in plan.identities})


def _refused(*_, **__):
    return SendResult(False, 535, "Authentication Credentials Invalid", "refused")


@pytest.mark.parametrize(("status", "code"), [("Inactive", Exit.ACTION_NEEDED), ("Active", Exit.SERVICE_ERROR)])
def test_send_test_with_an_inactive_key_is_exit_1_not_run_again(ordem, status, code):
    plan, ses = ordem
    outcome = phase_test(
        plan,
        None,
        None,
        "to@example.com.br",
        ("smtp.test", 2587),
        None,
        1,
        services(ses, FakeProgress(), FixedClock(), lookups=no_dmarc()),
        send=_refused,
        read_secret=lambda _: SECRET,
        key_states=lambda _: [{"AccessKeyId": SECRET.access_key_id, "Status": status}],
    )
    assert outcome.result.exit_code == code
    assert ("Inactive" in outcome.result.explanation) == (status == "Inactive")


def test_dns_records_of_a_domain_the_institution_does_not_have_is_exit_2():
    result = run_cli("dns-records", "instituicao-xy", "--domain", "dona.com.br", "--institutions", str(INSTITUTIONS))
    assert result.returncode == 2 and "not a domain of instituicao-xy" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


# --- the status page file --------------------------------------------------------------------------


def test_the_status_page_replaces_a_symlink_instead_of_following_it(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    page = tmp_path / "status.html"
    page.symlink_to(victim)
    write_page([], page, FixedClock())
    assert victim.read_text() == "keep me" and not page.is_symlink() and "<html" in page.read_text().lower()
    assert stat.S_IMODE(page.stat().st_mode) == 0o600


# --- names compared in one normal form -------------------------------------------------------------


def test_a_company_name_in_nfd_is_the_company_of_its_nfc_spelling(institution_files):
    nfd = unicodedata.normalize("NFD", "Colégio Ação")
    catalog = load_catalog(institution_files(colegio=institution("Colégio", companies=[
        company(nfd, {"comunicacao": "contato@colegio.com.br"})])))
    plan = plan_for(catalog, "colegio")
    [sender] = select_senders(plan, "Colégio Ação", "comunicacao")
    assert sender.company == "Colégio Ação" and plan.institution.company("Colégio Ação")


# --- a stored record that tutormail did not write ---------------------------------------------------


@pytest.mark.parametrize("stored", ["{", "[]", '"text"', '{"steps": 5, "identities": []}',
                                    '{"steps": {"stack": "done"}, "identities": []}',
                                    '{"steps": {}, "identities": "escola.com.br"}',
                                    '{"steps": {}, "identities": [], "deployment": "stack"}'])
def test_a_corrupt_offboarding_record_is_exit_1_naming_it(stored):
    with pytest.raises(TutormailError) as raised:
        stored_record(stored, "escola")
    assert raised.value.exit_code == Exit.ACTION_NEEDED and "tutormail:offboard:record" in str(raised.value)


def test_a_record_tutormail_wrote_is_read_back():
    record = {"steps": {"sending-off": {"at": "t"}}, "identities": ["escola.com.br"], "finished": None}
    assert stored_record(json.dumps(record), "escola") == record


# --- Ctrl-C ---------------------------------------------------------------------------------------


def _catches_sigint(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """Waits until the process's interpreter has put its SIGINT handler in place (Linux: SigCgt in
    /proc/PID/status). Before that, in the interpreter's own start-up, a SIGINT ends any program by
    the signal, which no code of ours can change; on a loaded machine that start-up alone can take
    longer than the first delay below, which then tested the machine's load, not the command."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        caught = next(line for line in Path(f"/proc/{process.pid}/status").read_text().splitlines()
                      if line.startswith("SigCgt:"))
        if int(caught.split()[1], 16) & (1 << (signal.SIGINT - 1)):
            return
        time.sleep(0.005)
    raise AssertionError(f"the command ended or hung ({process.poll()}) before it caught SIGINT")


def test_ctrl_c_while_the_command_starts_is_exit_130_without_a_traceback():
    """SIGINT a moment after the interpreter is up lands in the imports (boto3 and the library), before
    main(), or once the command is done (a fast machine): either way it ends with its code, never a
    traceback nor death by the signal (-2, as when the interpreter's shutdown was interrupted)."""
    command = Path(sys.executable).parent / "tutormail"
    codes = []
    for after in (0.15, 0.3, 0.45, 0.6, 0.9):
        # As a terminal starts it: SIGINT not ignored (a pytest-xdist worker ignores it, and a child
        # inherits that, so Python would never raise KeyboardInterrupt).
        process = subprocess.Popen([str(command), "validate", "--institutions", str(INSTITUTIONS)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        _catches_sigint(process)
        time.sleep(after)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        assert "Traceback" not in err, err
        assert process.returncode in (Exit.OK, Exit.INTERRUPTED), (after, process.returncode, err)
        assert ("interrupted" in err) == (process.returncode == INTERRUPTED), err
        codes.append(process.returncode)
    assert codes[0] == Exit.INTERRUPTED == INTERRUPTED  # 0.15 s is inside the imports on any machine


# --- preflight: each zone id is the zone of its name -----------------------------------------------


def test_preflight_finds_files_that_swap_their_route53_zone_ids(monkeypatch):
    from moto import mock_aws
    from tutormail.preflight.check import check_zones

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "FAKEKEYIDFORTESTS001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake")
    catalog = load_catalog(INSTITUTIONS, only=["instituicao-xy"])
    xy = catalog.institutions["instituicao-xy"]
    with mock_aws():
        route53 = boto3.client("route53", region_name="us-east-1")
        ids = {name: route53.create_hosted_zone(Name=f"{name}.", CallerReference=name)["HostedZone"]["Id"]
               .split("/")[-1] for name in ("sistematutor.com.br", "instituicaoxy.com.br", "dona.com.br")}
        platform = dataclasses.replace(catalog.platform, hosted_zone_id=ids["sistematutor.com.br"])

        def plan(zone_id):
            dns = tuple(dataclasses.replace(d, hosted_zone_id=zone_id) if d.provider == "route53" else d
                        for d in xy.dns)
            return build_plan(dataclasses.replace(xy, dns=dns), platform)

        assert check_zones(plan(ids["instituicaoxy.com.br"]), route53) == []
        [swapped] = check_zones(plan(ids["dona.com.br"]), route53)
        assert "is dona.com.br, not instituicaoxy.com.br" in swapped
        [missing] = check_zones(plan("Z0000000000000000MISS"), route53)
        assert "does not exist" in missing


# --- two request-link --force at once ---------------------------------------------------------------


def test_parallel_request_link_force_records_every_link_sent(monkeypatch, institution_files):
    """Run B starts and finishes while run A is between reading the marks and recording its link
    (inside A's SES call): both links were mailed, so both are counted (DynamoDB in moto)."""
    from moto import mock_aws
    from tutormail.aws.progress_marks import Progress
    from tutormail.aws.progress_store import PARTITION_KEY, SORT_KEY, TABLE
    from tutormail.cenario2 import link_requests
    from tutormail.cenario2.links import link_state

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "FAKEKEYIDFORTESTS001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake")
    monkeypatch.setattr(link_requests, "DmarcLookups", lambda endpoints: no_dmarc())
    address = "secretaria@gmail-like.com.br"
    catalog = load_catalog(institution_files(ordem=institution("Ordem", companies=[
        company("Ordem", {"comunicacao": address, "news": address})])))
    plan = plan_for(catalog, "ordem")
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST", KeySchema=[
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"}, {"AttributeName": SORT_KEY, "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": PARTITION_KEY, "AttributeType": "S"},
                                  {"AttributeName": SORT_KEY, "AttributeType": "S"}])
        clocks = iter([FixedClock(), FixedClock(FixedClock().now() + timedelta(seconds=5))])

        def run(ses):
            return link_requests.request_links(plan, ses, Progress(plan), next(clocks), None, None, None, force=True)

        class Racing(FakeSes):
            def resend_link(self, name):
                super().resend_link(name)
                if len(self.links) == 1:  # A has read the marks and SES is mailing its link: B runs now
                    run(FakeSes({address: pending(address)}))

        run(Racing({address: pending(address)}))
        state = link_state(Progress(plan).read(), address, 24)
    assert state.count == 2 and len(set(state.history)) == 2
