"""The commands behind `tutormail`: each reads arguments, calls the library, renders the result."""

from __future__ import annotations

import argparse
import io
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tutormail.aws import client as aws
from tutormail.aws.client import ServiceError
from tutormail.aws.progress_tags import Progress
from tutormail.aws.ses import Ses, account_view
from tutormail.catalog.add_company import add_company_to_file
from tutormail.cenario1.publishing import PublishOptions, publish_institution
from tutormail.cenario1.records import as_csv, as_rows, as_zone, domain_records
from tutormail.cenario2.dmarc import DmarcLookups, preflight
from tutormail.cenario2.link_requests import request_links
from tutormail.cli import status_html
from tutormail.cli.inbound import add_received
from tutormail.cli.output import emit_json, section, table
from tutormail.cli.plan_view import changes_table
from tutormail.exitcodes import Exit, UsageError, worst
from tutormail.fleet.drift import add_drift, drift_lines
from tutormail.fleet.status import status_with_health
from tutormail.plan.build import InstitutionPlan, plan_for
from tutormail.plan.change import SCHEMA_VERSION, Change
from tutormail.plan.fleet_caps import first_to_bite, fleet_caps
from tutormail.plan.loader import CATALOG_CHECKS, load_catalog
from tutormail.preflight.caps import account_caps
from tutormail.tutor_setup.handoff import write_handoff
from tutormail.tutor_setup.phase_gate import SettingsRelease, phase_test, record_released, release_settings
from tutormail.tutor_setup.smtp_password import smtp_password
from tutormail.tutor_setup.smtp_settings import SMTP_PORT, TUTOR_FIELDS, env_lines, write_private
from tutormail.verification.deliverability import Deliverability, deliverability_lines, plan_verdicts
from tutormail.verification.verify import VerifyOptions, verify_and_drift

log = logging.getLogger("tutormail")


def load_plan(args: argparse.Namespace) -> InstitutionPlan:
    catalog = load_catalog(Path(args.institutions), only=[args.slug])
    return plan_for(catalog, args.slug)


# --- Cenário 1 -----------------------------------------------------------------------------------

def cmd_dns_records(args: argparse.Namespace) -> int:
    plan = load_plan(args)
    domains = [i.name for i in plan.identities if i.kind == "domain"]
    if args.domain is not None and args.domain not in domains:
        raise UsageError(f"dns-records: --domain {args.domain} is not a domain of {plan.slug} "
                         f"(its domains: {', '.join(domains)})")
    found = domain_records(plan, Ses(plan.platform), args.domain)
    if args.format == "zone":
        sys.stdout.write(as_zone(found))
    elif args.format == "csv":
        sys.stdout.write(as_csv(found))
    else:
        emit_json({"institution": plan.slug, "records": as_rows(found)})
    for item in found:
        if not item.tokens_known:
            log.warning("%s is not in SES yet: its DKIM names are placeholders until the stack is deployed",
                        item.identity.name)
    return Exit.OK


def _each_institution(args: argparse.Namespace, key: str, run: Callable[[InstitutionPlan], tuple[list, Exit]],
                      show: Callable[[str, list], None], **extra: Any) -> int:
    """Runs a command for each SLUG: one that fails (AWS, DNS) is reported and the others go on;
    the exit code is the worst one."""
    catalog = load_catalog(Path(args.institutions), only=args.slugs)
    institutions, codes = [], []
    for slug in args.slugs:
        entry: dict[str, Any] = {"institution": slug, key: []}
        more: list[dict] = []  # institution-wide findings a command may add (verify: SMTP key drift)
        try:
            entry[key], code, *more = run(plan_for(catalog, slug))
            entry.update(*more)
        except ServiceError as exc:
            log.error("%s: %s", slug, exc)
            code, entry["error"] = Exit.SERVICE_ERROR, str(exc)
        entry["exit_code"] = int(code)
        institutions.append(entry)
        codes.append(code)
        if args.output != "json":
            show(slug, entry[key], *more)
    code = worst(codes)
    if args.output == "json":
        emit_json({"exit_code": int(code), **extra, "institutions": institutions})
    return code


def _print_publish(slug: str, domains: list[dict]) -> None:
    for entry in domains:
        changes = [Change.from_dict(c) for c in entry["changes"]]
        body = (changes_table(changes) + "\n" if changes else "") + entry["result"]
        section(f"{slug}: {entry['domain']} ({entry['provider']})", body)


def cmd_dns_publish(args: argparse.Namespace) -> int:
    options = PublishOptions(dry_run=args.dry_run, key_file=args.tsig_key_file)
    return _each_institution(args, "domains",
                             lambda plan: publish_institution(plan, Ses(plan.platform), args.runtime.dns, options),
                             _print_publish, dry_run=args.dry_run, schema_version=SCHEMA_VERSION)


# --- verify (both scenarios) ------------------------------------------------------------------------

def _print_verify(slug: str, entries: list[dict], institution: dict | None = None) -> None:
    for drift in (institution or {}).get("smtp_key_drift", []):
        section(f"{slug}: SMTP key", f"drift: {drift}")
    for entry in entries:
        lines = [f"state: {entry['state']} (SES: {entry['ses']['status']}: {entry['ses']['meaning']})"]
        if entry.get("ses", {}).get("mail_from_status"):
            lines.append(f"MAIL FROM {entry['ses']['mail_from_domain']}: {entry['ses']['mail_from_status']}"
                         f" ({entry['ses']['mail_from_meaning']})")
        if entry["missing"]:
            lines.append(f"missing: {entry['missing']}")
        lines.append(f"next: {entry['next_action']} ({entry['actor']})")
        lines += deliverability_lines(entry["deliverability"])
        lines += [f"drift: {d}" for d in entry["drift"]]
        dns = entry.get("dns")
        if dns and dns["problem"]:
            lines.append(f"DNS: {dns['problem']}")
        if dns and dns["findings"]:
            lines.append(table(["server", "record", "type", "status", "found"],
                               [[f"{f['server']} ({f['address']})", f["record"], f["type"], f["status"],
                                 " ".join(f["found"]) if f["status"] == "wrong" else (f["detail"] or "")]
                                for f in dns["findings"]]))
        section(f"{slug}: {entry['identity']} (Cenário {entry['scenario']})", "\n".join(lines))


def cmd_verify(args: argparse.Namespace) -> int:
    deadline = time.monotonic() + args.timeout
    options = VerifyOptions(auto_resend=args.auto_resend, max_resends=args.max_resends, wait=args.wait)
    runtime, lookups = args.runtime, DmarcLookups(args.runtime.dns)  # one DMARC query per domain for the run
    account, header = account_view(load_catalog(Path(args.institutions), only=[]).platform)
    if args.output != "json" and header:
        print(header)
    return _each_institution(
        args, "identities", lambda plan: verify_and_drift(plan, Ses(plan.platform), Progress(plan), runtime.clock,
                                                            runtime.dns, options, deadline, lookups=lookups),
        _print_verify, account=account)


# --- Cenário 2 ------------------------------------------------------------------------------------

def cmd_request_link(args: argparse.Namespace) -> int:
    plan = load_plan(args)
    results, code = request_links(plan, Ses(plan.platform), Progress(plan), args.runtime.clock, args.runtime.dns,
                                  args.company, args.account, force=args.force)
    if args.output == "json":
        emit_json({"institution": plan.slug, "links": results})
    else:
        print(table(["identity", "result"], [[r["identity"], r["result"]] for r in results]))
    return code


# --- phases 2 and 3 ---------------------------------------------------------------------------------

def cmd_smtp_password(args: argparse.Namespace) -> int:
    try:
        secret = sys.stdin.readline().strip() if sys.stdin is not None else ""
    except (OSError, ValueError) as exc:  # closed, or not text (UnicodeDecodeError is a ValueError)
        raise UsageError(f"standard input: cannot read the secret access key ({exc})") from None
    if not secret:
        raise UsageError("standard input: give the secret access key on standard input (it is empty or closed)")
    if not (secret.isascii() and secret.isprintable()):
        raise UsageError("standard input: a secret access key is printable ASCII text (this is not)")
    print(smtp_password(secret, args.region))
    return Exit.OK


NOT_READY_HEADERS = ["empresa", "conta", "endereço", "estado", "motivo", "saída"]


def _not_ready_cells(entry: dict) -> list[str]:
    return [entry["company"], entry["account"], entry["address"], entry["state"], entry["reason"], entry["way_out"]]


def _settings_text(plan: InstitutionPlan, release: SettingsRelease, form: str) -> str:
    if form == "json":
        buffer = io.StringIO()
        emit_json({"institution": plan.slug, "accounts": release.rows, "not_ready": release.not_ready,
                   "rules": release.rules}, buffer)
        return buffer.getvalue()
    if form == "env":
        # Shell comments, one line each: the accounts not to configure yet carry no variables.
        held = [f"# not to configure yet: {e['company']} / {e['account']} ({e['address']}): {e['state']}: "
                f"{e['reason']}; way out: {e['way_out']}".replace("\n", " ") for e in release.not_ready]
        return "\n".join([*env_lines(release.rows), *held]) + "\n"
    text = table(["empresa", "conta", *(label for _, label, _ in TUTOR_FIELDS), "validado"],
                 [[r["company"], r["account"], *(r[key] for key, _, _ in TUTOR_FIELDS),
                   "sim" if r["verified"] else "não"] for r in release.rows])
    if release.not_ready:
        text += "\n\nnot to configure yet (não configurar ainda):\n" + table(
            NOT_READY_HEADERS, [_not_ready_cells(e) for e in release.not_ready])
    return text + "\n\n" + table(["empresa", "regra", "conta"], [[r["company"], r["rule"], r["account"]]
                                                                for r in release.rules]) + "\n"


def cmd_smtp_settings(args: argparse.Namespace) -> int:
    """Exit 0 when every selected account is ready; otherwise the worst code of those held back (1 blocked
    or expired, 3 pending, 4 a look-up failed), the ready accounts' settings written all the same."""
    plan = load_plan(args)
    progress = Progress(plan)
    release = release_settings(plan, args.company, args.account, args.reveal, Ses(plan.platform), progress,
                               args.runtime.clock, args.accept_dmarc_risk, DmarcLookups(args.runtime.dns))
    for problem in release.gate.problems:
        log.error("not to configure yet: %s", problem)
    if args.reveal and not release.rows:
        log.error("no selected account is ready: the password is released only for a sender verified and "
                  "deliverable (phase 1 before phase 2)")
    text = _settings_text(plan, release, args.format)
    if args.out:
        write_private(args.out, text)
        log.info("wrote %s (mode 0600)", args.out)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if args.reveal and release.rows:  # phase 2 recorded only once the password reached the person
        record_released(progress, release, args.runtime.clock)
    return release.gate.code


def print_headroom(caps: list[dict[str, Any]]) -> None:
    """The fleet's first quota to bite (plan/fleet_caps.py), under status --all's table header."""
    if caps:
        tight = first_to_bite(caps)
        quota = f"the account's quota ({tight['quota']}: {tight['account_quota']})" if "account_quota" in tight \
            else f"the default quota ({tight['quota']})"
        print(f"headroom: {tight['institutions_left']} more institution(s) before {tight['cap']} reach {quota}; "
              f"`tutormail preflight --all` lists every cap")


def cmd_status(args: argparse.Namespace) -> int:
    page = status_html.take_file(args)
    if not args.all and not args.slugs:
        raise UsageError("status: name institutions (SLUG ...) or use --all")
    catalog = load_catalog(Path(args.institutions), only=None if args.all else args.slugs)
    ses = Ses(catalog.platform)
    rows, code, health = status_with_health(catalog, ses, aws.client("secretsmanager", catalog.platform.region),
                                            args.runtime.clock, dns_checks=not args.offline, endpoints=args.runtime.dns)
    code = worst([code, add_drift(catalog, rows, ses, args.runtime.dns, args.runtime.clock, checked=args.drift)])
    add_received(catalog.platform, rows)  # issue 25: what each platform address received
    account, header = account_view(catalog.platform)
    # The whole fleet's headroom: the account's own quotas and use, or (--offline) the files' defaults.
    caps = ([] if not args.all else fleet_caps(catalog) if args.offline else account_caps(catalog))
    if page:
        status_html.write(rows, page, args.runtime.clock)
    elif args.output == "json":
        emit_json({"exit_code": int(code), "account": account, "rows": rows, "caps": caps})
    else:
        if header:
            print(header)
        print_headroom(caps)
        print(table(["institution", "company", "account", "address", "scen.", "phase", "Tutor", "next action", "who",
                     "link expires", "DMARC", "sending", "received"],
                    [[r["institution"], r["company"], r["account"], r["address"], r["scenario"], r["phase"], r["tutor"],
                      r["next_action"], r["actor"], r["link_expires_at"] or "", r["deliverability"]["summary"],
                      r["sending"], "-" if r["received"] is None else r["received"]] for r in rows]))
        for slug, found in health.items():
            if found.paused:
                log.warning("%s: %s", slug, found.why)
        for row in rows:
            if row["dmarc_warning"]:
                log.warning("%s: %s", row["address"], row["dmarc_warning"])
        for line in drift_lines(rows):  # --drift
            print(line)
    return code


def cmd_send_test(args: argparse.Namespace) -> int:
    if args.check:  # issue 25: as a receiver sees it (cli/inbound.py)
        from tutormail.cli.inbound import cmd_send_check

        return cmd_send_check(args)
    if args.to is None:
        raise UsageError("send-test: give --to ADDRESS, or --check to send to the platform's check address")
    plan = load_plan(args)
    ca_bundle = args.ca_bundle or args.runtime.smtp_ca_bundle
    # The recipient in its ASCII form (A-label domain): SES takes no SMTPUTF8.
    outcome = phase_test(plan, args.company, args.account, args.to.ascii,
                         args.endpoint or args.runtime.smtp_endpoint or (plan.smtp_endpoint, SMTP_PORT),
                         str(ca_bundle) if ca_bundle else None, args.attempts, Ses(plan.platform), Progress(plan),
                         args.runtime.clock, args.accept_dmarc_risk, DmarcLookups(args.runtime.dns))
    sender, result = outcome.sender, outcome.result
    if result is None:
        for problem in outcome.gate.problems:
            log.error("%s", problem)
        return outcome.gate.code
    data = {"institution": plan.slug, "company": sender.company, "account": sender.account,
            "from": sender.mailbox,
            "to": args.to.ascii, "endpoint": outcome.endpoint, "accepted": result.ok, "smtp_code": result.code,
            "server_reply": result.reply, "explanation": result.explanation, "message_id": result.message_id}
    if args.output == "json":
        emit_json(data)
    else:
        print(table(["field", "value"], [[k, "" if v is None else v] for k, v in data.items()]))
    if not result.ok:
        log.error("%s", result.explanation)
    return result.exit_code


def cmd_handoff(args: argparse.Namespace) -> int:
    plan = load_plan(args)
    verdicts = None if args.offline else plan_verdicts([plan], DmarcLookups(args.runtime.dns))
    recorded = None if args.offline else Progress(plan).read()  # the DMARC acceptances, as the gate reads them
    paths = write_handoff(plan, Path(args.out or Path("handoff") / plan.slug), verdicts, recorded)
    if args.output == "json":
        emit_json({"institution": plan.slug, "files": [str(p) for p in paths]})
    else:
        print("\n".join(str(p) for p in paths))
    return Exit.OK


def cmd_add_company(args: argparse.Namespace) -> int:
    catalog = load_catalog(Path(args.institutions))
    path, diff = add_company_to_file(catalog, args.slug, args.source, args.name, args.email, args.logo,
                                     dry_run=args.dry_run, checks=CATALOG_CHECKS)
    sys.stdout.write(diff)
    if not args.dry_run:
        log.info("added company %r to %s; run phase 3 for it once deployed", args.name, path.name)
    return Exit.OK


def cmd_dmarc(args: argparse.Namespace) -> int:
    finding = preflight(args.domain, args.runtime.dns)
    data = {**finding.as_dict(), "warning": finding.warning}
    if args.output == "json":
        emit_json(data)
    else:
        print(table(["field", "value"], [[k, v or "-"] for k, v in data.items()]))
    return Deliverability(finding.state, finding).exit_code
