#!/usr/bin/env python3
"""`make demo`: the whole onboarding flow of the example institutions on the local sandbox.

Every step runs the unchanged `tutormail` CLI or the real CDK CLI, printed as a person would type
it; the sandbox only stands in for AWS, the institutions' DNS servers and the SES SMTP endpoint.
Exits non-zero as soon as a step does not end as it should.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tutormail.plan.loader import load_catalog

ROOT = Path(__file__).resolve().parents[1]
STATE = Path(os.environ.get("SANDBOX_STATE", ".sandbox")).resolve()
# The example files as they are, plus `receiving:` (issue 25) so that phase 3 is also shown as a
# receiver sees it; the repository's institutions/ leave receiving off (it is opt-in per platform).
INSTITUTIONS = STATE / "institutions"
RECEIVING = ("receiving:                               # added by the demo: SES receiving on the platform domain\n"
             "  check_subdomain: check\n  retention_days: 3\n")
TO = os.environ.get("DEMO_TO", "equipe.suporte@exemplo.com.br")
summary: list[str] = []


def step(title: str) -> None:
    print(f"\n\033[1m== {title}\033[0m", file=sys.stderr, flush=True)


def run(*args: str, ok: tuple[int, ...] = (0,), quiet: bool = False, env: dict | None = None) -> str:
    print(f"$ {shlex.join(args)}", file=sys.stderr, flush=True)
    result = subprocess.run(args, cwd=ROOT, env=env, text=True, capture_output=True, check=False)
    if not quiet:
        sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr if result.returncode not in ok or not quiet else "")
    if result.returncode not in ok:
        raise SystemExit(f"demo: `{shlex.join(args)}` exited {result.returncode} (expected {ok})")
    return result.stdout


def example_files() -> None:
    """The demo's copy of institutions/, with `receiving:` in its platform.yaml."""
    shutil.rmtree(INSTITUTIONS, ignore_errors=True)
    shutil.copytree(ROOT / "institutions", INSTITUTIONS)
    platform = INSTITUTIONS / "platform.yaml"
    if load_catalog(INSTITUTIONS, only=[]).platform.receiving is None:
        platform.write_text(platform.read_text(encoding="utf-8") + RECEIVING, encoding="utf-8")
    os.environ["TUTORMAIL_INSTITUTIONS"] = str(INSTITUTIONS)


def main() -> int:
    started = time.monotonic()
    step("validate the institution files")
    run("tutormail", "validate", "--institutions", str(ROOT / "institutions"), quiet=True)
    example_files()
    slugs = json.loads(run("tutormail", "validate", "--output", "json", quiet=True))["institutions"]
    run("tutormail", "validate", *map(str, sorted(INSTITUTIONS.glob("*.yaml"))))
    summary.append(f"{len(slugs)} institution files valid (the demo's copy in {INSTITUTIONS} adds receiving:)")

    step("sandbox up: AWS emulator, BIND primary + secondary, SES SMTP stand-in, all on loopback")
    run(sys.executable, "-m", "sandbox", "--state", str(STATE), "--institutions", str(INSTITUTIONS), "up")
    try:
        sandbox_env = json.loads((STATE / "env.json").read_text())
        os.environ.update(sandbox_env)
        blocked = flow(slugs)
        step("status of every institution, company and account")
        run("tutormail", "status", "--all", ok=(1,) if blocked else (0,))
        rows = json.loads(run("tutormail", "status", "--all", "--output", "json", ok=(0, 1), quiet=True))["rows"]
        tested = sum(r["phase"] == "3 tested" for r in rows)
        held = [f"{r['company']} / {r['account']}" for r in rows if r["phase"] == "1 blocked by DMARC"]
        summary.append(f"final status: {tested} of {len(rows)} accounts at phase 3 (tested)"
                       + (f"; stopped at blocked by DMARC: {', '.join(held)}" if held else ""))
        page = reputation_and_page()
        # last: the Cenário 2 check records an accepted DMARC risk, which changes that account's status
        receiving_check({**os.environ, **sandbox_env})  # activation is the administrator's
    finally:
        run(sys.executable, "-m", "sandbox", "--state", str(STATE), "down")
    step("summary")
    for line in summary:
        print(f"  - {line}", file=sys.stderr)
    print(f"  ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    print(f"status page: {page}")
    return 0


def receiving_check(admin: dict[str, str]) -> None:
    """Issue 25: phase 3 as a receiver sees it, for a Cenário 1 and a Cenário 2 sender. Runs when
    platform.yaml has `receiving:` (the check address and its bucket come with it)."""
    if load_catalog(INSTITUTIONS, only=[]).platform.receiving is None:
        summary.append("send-test --check not shown: platform.yaml has no receiving:")
        return
    step("receiving: make tutor-mail's receipt rule set the active one (the administrator, once)")
    run("tutormail", "receiving-activate", "--apply", env=admin)
    step("instituicao-xy: send-test --check, Cenário 1 (Easy DKIM as instituicaoxy.com.br): DMARC passes aligned")
    run("tutormail", "send-test", "instituicao-xy", "--check")
    step("instituicao-xy: send-test --check, Cenário 2 (Colégio XY, signed as amazonses.com): not aligned, exit 1")
    run("tutormail", "send-test", "instituicao-xy", "--check", "--company", "Colégio XY", "--account", "comunicacao",
        "--accept-dmarc-risk", ok=(1,))
    summary.append("send-test --check: Cenário 1 aligned (0), Cenário 2 not aligned (1)")


def reputation_and_page() -> Path:
    """Day 2 (issue 14): one institution's bounces pause it alone; then the fleet as one HTML page."""
    sandbox = (sys.executable, "-m", "sandbox", "--state", str(STATE), "reputation")
    step("escola-padrao mails an old list: 6% bounces; its pause alarm fires and the pause action runs")
    run(*sandbox, "escola-padrao", "--bounce-rate", "0.06", "--source", "comunicacao@escola-padrao.sistematutor.com.br")
    run("tutormail", "reputation", "--all", ok=(1,))
    step("escola-padrao's mail is refused with SES's reply; every other institution still sends")
    run("tutormail", "send-test", "escola-padrao", "--to", TO, ok=(1,))
    for other in ("faculdade-delta", "instituicao-xy"):
        run("tutormail", "send-test", other, "--to", TO, quiet=True)
    step("resume is refused while the rate stays at the pause level; accepted once it falls")
    run("tutormail", "resume", "escola-padrao", ok=(1,))
    run(*sandbox, "escola-padrao", "--bounce-rate", "0.005")
    run("tutormail", "resume", "escola-padrao")
    summary.append("escola-padrao paused automatically at 6% bounces, every other institution kept sending, resumed")
    step("the fleet on one page: status --all --format html --out FILE")
    page = (STATE / "status.html").resolve()
    # 1: a sender blocked by DMARC
    run("tutormail", "status", "--all", "--format", "html", "--out", str(page), ok=(0, 1))
    summary.append(f"status page written: {page}")
    return page


def principal(name: str, policy: str) -> dict[str, str]:
    """The environment of a sandbox principal holding only `policy` (python -m sandbox principal)."""
    path = run(sys.executable, "-m", "sandbox", "--state", str(STATE), "principal", name, policy, quiet=True).strip()
    return {**os.environ, **json.loads(Path(path).read_text())}


def flow(slugs: list[str]) -> list[str]:
    """Returns the addresses held back as blocked by DMARC."""
    held: list[str] = []
    platform = load_catalog(INSTITUTIONS, only=[]).platform
    # --method direct: moto's change sets do not survive a second deploy of a stack (sandbox/moto_ext)
    deploy = ("cdk", "deploy", "--require-approval", "never", "--method", "direct", "--no-notices",
              "-c", f"institutions_dir={INSTITUTIONS}")
    step("once, as the account administrator: cdk bootstrap and TutorMail-Platform (it declares the principals)")
    run("cdk", "bootstrap", f"aws://{platform.account}/{platform.region}", "--no-notices",
        "-c", f"institutions_dir={INSTITUTIONS}", quiet=True)
    run(*deploy, "TutorMail-Platform", quiet=True)
    deployer, operator = (principal(name, policy) for name, policy in (
        ("deployer", "tutormail-deploy"), ("operator", "tutormail-operator")))
    step("cdk deploy of every stack as the deploy principal, the real CDK CLI against the sandbox (IAM is "
         "enforced: it may only assume the CDK roles)")
    run(*deploy, "--all", quiet=True, env=deployer)
    os.environ.update(operator)  # from here on, the CLI runs as the operator principal, never as admin
    summary.append(f"cdk bootstrap + deploy of {len(slugs) + 1} stacks; the CLI as the operator principal")
    step("the SES account is in the SES sandbox, as a new account is: verify the test recipient")
    run(sys.executable, "-m", "sandbox", "--state", str(STATE), "account")
    run(sys.executable, "-m", "sandbox", "--state", str(STATE), "verify-recipient", TO)
    summary.append(f"SES account without production access: test recipient {TO} verified (SES sandbox rule)")
    for slug in slugs:
        plan = json.loads(run("tutormail", "plan", slug, "--offline", "--output", "json", quiet=True))
        step(f"{slug}: plan, with the preflight (what is there now, the DMARC policy in force) and the DMARC "
             "pre-flight of Cenário 2 addresses")
        run("tutormail", "plan", slug)
        step(f"{slug}: Cenário 1, the records to publish, with the real DKIM tokens from SES")
        run("tutormail", "dns-records", slug, "--format", "zone")
        step(f"{slug}: Cenário 1, RFC 2136 publishing; the second run changes nothing")
        run("tutormail", "dns-publish", slug)
        second = json.loads(run("tutormail", "dns-publish", slug, "--output", "json", quiet=True))
        assert all("updated" not in d["result"] for i in second["institutions"] for d in i["domains"]), second
        for identity in (i["name"] for i in plan["identities"] if i["kind"] == "email"):
            step(f"{slug}: Cenário 2, a new link for {identity}; a second request inside its validity is refused")
            run("tutormail", "request-link", slug, ok=(3,))
            run("tutormail", "request-link", slug, ok=(3,))
            run("tutormail", "verify", slug, ok=(3,))
            step(f"{slug}: the institution opens the link in its mailbox (the sandbox outbox)")
            run(sys.executable, "-m", "sandbox", "--state", str(STATE), "open-link", identity)
            summary.append(f"{slug}: Cenário 2 verified by link ({identity})")
        step(f"{slug}: verify: DNS on both authoritative servers, SES, links, and DMARC for Cenário 2")
        verified = json.loads(run("tutormail", "verify", slug, "--wait", "--timeout", "60s", "--output", "json",
                                  ok=(0, 1), quiet=True))["institutions"][0]["identities"]
        assert all(i["verified"] for i in verified), verified
        blocked = {i["identity"]: i["deliverability"] for i in verified if i["deliverability"]["state"] == "blocked"}
        run("tutormail", "verify", slug, ok=(1,) if blocked else (0,))
        scenarios = sorted({f"Cenário {i['scenario']}" for i in plan["identities"]})
        summary.append(f"{slug}: every identity verified ({', '.join(scenarios)})")
        for address, why in blocked.items():
            summary.append(f"{slug}: {address} stops at blocked by DMARC ({why['record_name']}: {why['record']}); "
                           f"way out: {why['way_out'].split('; or, knowing')[0]}")
        held += blocked
        step(f"{slug}: phase 2, the settings for Tutor's Contas de E-mail (password masked), per account")
        held_back = (1,) if blocked else (0,)
        run("tutormail", "smtp-settings", slug, ok=held_back)
        step(f"{slug}: the password released for the ready accounts (into a 0600 file, never on the screen)")
        out = STATE / "settings" / f"{slug}.json"
        run("tutormail", "smtp-settings", slug, "--reveal", "--format", "json", "--out", str(out), ok=held_back)
        released = json.loads(out.read_text())
        summary.append(f"{slug}: settings with the password released for {len(released['accounts'])} ready accounts "
                       f"({out}, mode 0600)")
        for entry in released["not_ready"]:
            summary.append(f"{slug}: {entry['company']} / {entry['account']} ({entry['address']}) not to configure "
                           f"yet: {entry['state']}")
        step(f"{slug}: phase 3, one test message per company and account through the SMTP endpoint")
        sent = 0
        for company in plan["companies"]:
            for account in company["accounts"]:
                if account["identity"] in blocked:
                    step(f"{slug}: {company['name']} / {account['account']} is blocked by DMARC: the phase gate "
                         "refuses its password and its test (exit 1) unless --accept-dmarc-risk")
                    run("tutormail", "smtp-settings", slug, "--company", company["name"], "--account",
                        account["account"], "--reveal", ok=(1,))
                    run("tutormail", "send-test", slug, "--company", company["name"], "--account", account["account"],
                        "--to", TO, ok=(1,))
                    continue
                result = json.loads(run("tutormail", "send-test", slug, "--company", company["name"], "--account",
                                        account["account"], "--to", TO, "--output", "json", quiet=True))
                print(f"  {company['name']} / {account['account']}: {result['smtp_code']} {result['server_reply']}",
                      file=sys.stderr)
                sent += 1
        summary.append(f"{slug}: {sent} test mails delivered (one per account" + (" except the blocked one)"
                                                                                  if blocked else ")"))
        step(f"{slug}: the handoff document (pt-BR)")
        run("tutormail", "handoff", slug, "--out", str(STATE / "handoff" / slug))
        summary.append(f"{slug}: handoff written to {STATE / 'handoff' / slug}"
                       + (" (it explains the DMARC block and its two ways out)" if blocked else ""))
    return held


if __name__ == "__main__":
    sys.exit(main())
