"""DMARC policy discovery (RFC 7489 6.6.3, sp=, pct=) against records served by a real BIND, and
the run's look-ups: one query per distinct name, concurrent, a time-out is "unknown"."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from tutormail.cenario2.dmarc import DmarcLookups, organisational_domain
from tutormail.dnsclient.resolver import txt_values
from tutormail.runtime import Runtime

from sandbox.bind import Named, Zone, free_port
from tests.conftest import run_cli

RECORDS = {
    "rejeita.com.br": [("_dmarc", "v=DMARC1; p=reject; adkim=s")],
    "quarentena.com.br": [("_dmarc", "v=DMARC1; p=quarantine; rua=mailto:d@quarentena.com.br")],
    "nenhuma.com.br": [("_dmarc", "v=DMARC1; p=none; rua=mailto:d@nenhuma.com.br")],
    # the parent asks nothing for itself and reject for its sub-domains; one sub-domain has its own record
    "rede-escolas.com.br": [("_dmarc", "v=DMARC1; p=none; sp=reject"),
                            ("_dmarc.propria", "v=DMARC1; p=none")],
    "amostra-zero.com.br": [("_dmarc", "v=DMARC1; p=reject; pct=0")],
    "amostra-zero-q.com.br": [("_dmarc", "v=DMARC1; p=quarantine; pct=0")],
    "quebrado.com.br": [("_dmarc", "v=DMARC1; pct=100")],
    "fora-de-ordem.com.br": [("_dmarc", "p=reject; v=DMARC1")],
    "duplo.com.br": [("_dmarc", "v=DMARC1; p=reject"), ("_dmarc", "v=DMARC1; p=none")],
    "sem-registro.com.br": [],
    # digits int() refuses or reads as none a receiver sees (RFC 7489 6.4: 1*3DIGIT, ASCII), a policy
    # given twice, and a policy name OpenDMARC reads by its left match
    "sobrescrito.com.br": [("_dmarc", "v=DMARC1; p=reject; pct=\u00b2")],
    "arabe.com.br": [("_dmarc", "v=DMARC1; p=quarantine; pct=\u0660")],
    "repetido.com.br": [("_dmarc", "v=DMARC1; p=reject; p=none")],
    "prefixo.com.br": [("_dmarc", "v=DMARC1; p=rej")],
}


@pytest.fixture(scope="module")
def bind(tmp_path_factory):
    zones = [Zone(name, records=[(label, 300, "TXT", f'"{value}"') for label, value in records])
             for name, records in RECORDS.items()]
    server = Named(tmp_path_factory.mktemp("dmarc-policy"), "127.0.0.1", free_port(), zones, []).start()
    yield server
    server.stop()


@pytest.fixture
def resolver_env(bind, monkeypatch):
    env = {"TUTORMAIL_RESOLVER": f"127.0.0.1:{bind.port}", "TUTORMAIL_DNS_PORT": str(bind.port)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.mark.parametrize(("domain", "state", "policy", "decided_at", "words"), [
    ("rejeita.com.br", "blocked", "reject", "_dmarc.rejeita.com.br", "rejected"),
    ("quarentena.com.br", "blocked", "quarantine", "_dmarc.quarentena.com.br", "sent to spam"),
    ("nenhuma.com.br", "ready", "none", "_dmarc.nenhuma.com.br", None),
    # RFC 7489 6.6.3 step 3: no record of its own, so the organisational domain's sp= applies
    ("secretaria.rede-escolas.com.br", "blocked", "reject", "_dmarc.rede-escolas.com.br", "sp=reject"),
    ("rede-escolas.com.br", "ready", "none", "_dmarc.rede-escolas.com.br", None),  # sp is for sub-domains only
    ("propria.rede-escolas.com.br", "ready", "none", "_dmarc.propria.rede-escolas.com.br", None),
    # RFC 7489 6.6.4: outside the sample reject becomes quarantine, quarantine becomes ordinary filtering
    ("amostra-zero.com.br", "blocked", "quarantine", "_dmarc.amostra-zero.com.br", "pct=0"),
    ("amostra-zero-q.com.br", "ready", "none", "_dmarc.amostra-zero-q.com.br", "pct=0"),
    ("quebrado.com.br", "ready", None, "_dmarc.quebrado.com.br", "malformed"),
    ("fora-de-ordem.com.br", "ready", None, None, "not a DMARC record"),
    ("duplo.com.br", "ready", None, "_dmarc.duplo.com.br", "2 DMARC records"),
    ("sem-registro.com.br", "ready", None, None, None),
    ("sobrescrito.com.br", "unknown", None, "_dmarc.sobrescrito.com.br", "cannot be read"),
    ("arabe.com.br", "unknown", None, "_dmarc.arabe.com.br", "cannot be read"),
    ("repetido.com.br", "blocked", "reject", "_dmarc.repetido.com.br", "rejected"),
    ("prefixo.com.br", "blocked", "reject", "_dmarc.prefixo.com.br", "rejected"),
])
def test_policy_discovery(resolver_env, domain, state, policy, decided_at, words):
    verdict = DmarcLookups(Runtime.from_environ(os.environ).dns).verdict(domain)
    assert (verdict.state, verdict.policy, verdict.record_name) == (state, policy, decided_at), verdict
    if words:
        assert words in verdict.warning
    else:
        assert verdict.warning is None
    if state == "blocked":
        assert verdict.record in verdict.warning and decided_at in verdict.warning
        assert "Cenário 1" in verdict.way_out and "another address" in verdict.way_out


def test_free_mail_is_blocked_without_a_query():
    lookups = DmarcLookups(fetch=lambda name: pytest.fail(f"queried {name}"))
    verdict = lookups.verdict("gmail.com")
    assert verdict.blocked and "free-mail" in verdict.reason and "Cenário 1" not in verdict.way_out
    assert lookups.queries == 0


def test_organisational_domain_follows_the_public_suffix_list():
    assert organisational_domain("secretaria.rede-escolas.com.br") == "rede-escolas.com.br"
    assert organisational_domain("a.b.uni-xy.edu.br") == "uni-xy.edu.br"
    assert organisational_domain("colegioxy.com.br") == "colegioxy.com.br"


def test_one_query_per_distinct_name_for_the_whole_run(resolver_env):
    asked: list[str] = []

    def counting(name):
        asked.append(name)
        return txt_values(name, Runtime.from_environ(os.environ).dns)

    lookups = DmarcLookups(fetch=counting)
    domains = ["rejeita.com.br", "REJEITA.com.br", "secretaria.rede-escolas.com.br", "diretoria.rede-escolas.com.br",
               "rede-escolas.com.br", "nenhuma.com.br"]
    first = lookups.verdicts(domains)
    assert first["secretaria.rede-escolas.com.br"].blocked and first["diretoria.rede-escolas.com.br"].blocked
    # _dmarc.rede-escolas.com.br serves the parent and, by step 3, both sub-domains: asked once
    assert sorted(asked) == sorted(set(asked)) and len(asked) == 5
    lookups.verdicts(domains)
    lookups.verdict("nenhuma.com.br")
    assert len(asked) == 5 and lookups.queries == 5  # kept for the run


def test_a_refusing_server_is_unknown_never_ready(resolver_env):
    # BIND is not authoritative: REFUSED
    verdict = DmarcLookups(Runtime.from_environ(os.environ).dns).verdict("nao-servido.com.br")
    assert verdict.state == "unknown" and "could not look up _dmarc.nao-servido.com.br" in verdict.reason


def wait_stopped(pid: int) -> None:
    """SIGSTOP lands asynchronously: a thread of named busy on another core may still answer."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        tasks = [Path(f"/proc/{pid}/task/{task}/stat").read_text() for task in os.listdir(f"/proc/{pid}/task")]
        if all(stat.rsplit(")", 1)[1].split()[0] in "tT" for stat in tasks):
            return
        time.sleep(0.01)
    raise AssertionError("named did not stop")


def test_a_time_out_is_unknown_and_look_ups_run_concurrently(tmp_path, monkeypatch):
    zones = [Zone(f"lenta{n}.com.br", records=[("_dmarc", 300, "TXT", '"v=DMARC1; p=none"')]) for n in range(4)]
    server = Named(tmp_path / "stopped", "127.0.0.1", free_port(), zones, []).start()
    monkeypatch.setenv("TUTORMAIL_RESOLVER", f"127.0.0.1:{server.port}")
    monkeypatch.setenv("TUTORMAIL_DNS_TIMEOUT", "0.5")  # each look-up gives up after 1 s
    os.kill(server.process.pid, signal.SIGSTOP)  # a real BIND that takes the questions and never answers
    try:
        wait_stopped(server.process.pid)
        started = time.monotonic()
        verdicts = DmarcLookups(Runtime.from_environ(os.environ).dns).verdicts(f"lenta{n}.com.br" for n in range(4))
        elapsed = time.monotonic() - started
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
        server.stop()
    assert {v.state for v in verdicts.values()} == {"unknown"}, verdicts
    assert all("Timeout" in v.reason or "LifetimeTimeout" in v.reason for v in verdicts.values()), verdicts
    assert elapsed < 2.5, f"four 1 s time-outs took {elapsed:.1f} s: not concurrent"


def test_dmarc_command_exit_codes_and_json(resolver_env):
    blocked = run_cli("dmarc", "rejeita.com.br", "--output", "json", env=resolver_env)
    data = json.loads(blocked.stdout)
    assert blocked.returncode == 1 and data["state"] == "blocked" and data["policy"] == "reject"
    assert data["record"] == "v=DMARC1; p=reject; adkim=s" and data["schema_version"] == 1
    ready = run_cli("dmarc", "nenhuma.com.br", env=resolver_env)
    assert ready.returncode == 0 and "ready" in ready.stdout
    unknown = run_cli("dmarc", "nao-servido.com.br", env=resolver_env)
    assert unknown.returncode == 4 and "unknown" in unknown.stdout


@pytest.mark.parametrize("domain", ["sobrescrito.com.br", "arabe.com.br"])
def test_an_unreadable_published_record_is_unknown_and_no_traceback(resolver_env, domain):
    """pct=\u00b2 passed str.isdigit() and ended every command in int()'s ValueError; pct=\u0660 read as 0."""
    result = run_cli("dmarc", domain, "--output", "json", env=resolver_env)
    data = json.loads(result.stdout)
    assert "Traceback" not in result.stderr, result.stderr
    # the record is there and cannot be read: asking again changes nothing, a person must act
    assert result.returncode == 1 and data["state"] == "unknown" and "cannot be read" in data["warning"]
    assert data["record_name"] == f"_dmarc.{domain}"
