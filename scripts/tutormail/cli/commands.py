"""The commands behind `tutormail`: each reads arguments, calls the library, renders the result."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tutormail.aws import client as aws
from tutormail.aws.client import ServiceError
from tutormail.aws.progress_tags import RELEASED, TESTED, Progress
from tutormail.aws.ses import Ses
from tutormail.catalog.add_company import add_company
from tutormail.catalog.model import load_catalog
from tutormail.catalog.names import Address
from tutormail.catalog.problems import ConfigurationError, Problem
from tutormail.catalog.regions import SES_SMTP_REGIONS
from tutormail.cenario1.check import MAIL_FROM_MEANING, SES_MEANING, check_domain
from tutormail.cenario1.publish import PublishError, load_key, plan_changes, send_update, server_address
from tutormail.cenario1.records import as_csv, as_rows, as_zone, domain_records, records_for
from tutormail.cenario2.dmarc import DmarcLookups, domain_of, preflight
from tutormail.cenario2.links import LINK_MEANING, LinkRefused, link_state, request_link
from tutormail.cli import status_html
from tutormail.cli.output import emit_json, section, table
from tutormail.clock import Clock, iso
from tutormail.exitcodes import Exit
from tutormail.fleet.status import fleet_marks, sweep
from tutormail.plan.build import InstitutionPlan, plan_for
from tutormail.reputation.health import health_columns
from tutormail.reputation.use_cases import fleet_health
from tutormail.tutor_setup.gate import (
    Deliverability,
    deliverability,
    deliverability_lines,
    phase_gate,
    plan_verdicts,
    readiness_code,
)
from tutormail.tutor_setup.handoff import write_handoff
from tutormail.tutor_setup.send_test import send_test
from tutormail.tutor_setup.smtp_password import smtp_password
from tutormail.tutor_setup.smtp_settings import (
    env_lines,
    read_smtp_secret,
    select_senders,
    settings_rows,
    write_private,
)
from tutormail.verification.identity_check import check_identity, worst

log = logging.getLogger("tutormail")
CLOCK = Clock()


def load_plan(args: argparse.Namespace) -> InstitutionPlan:
    catalog = load_catalog(Path(args.institutions), only=[args.slug])
    return plan_for(catalog, args.slug)


def parse_duration(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        return float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)
    except (ValueError, IndexError):
        raise ConfigurationError([Problem("--timeout", 0, "--timeout", f"{text!r} is not a duration "
                                          "(e.g. 90s, 10m, 2h)")]) from None


# --- Cenário 1 -----------------------------------------------------------------------------------

def cmd_dns_records(args: argparse.Namespace) -> int:
    plan = load_plan(args)
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


def _publish_institution(plan: InstitutionPlan, args: argparse.Namespace) -> tuple[list[dict], Exit]:
    results, codes = [], []
    for item in domain_records(plan, Ses(plan.platform)):
        identity = item.identity
        entry: dict[str, Any] = {"domain": identity.name, "provider": identity.provider, "changes": []}
        results.append(entry)
        if identity.provider == "route53":
            entry["result"] = "published by the stack (Route 53): nothing to do here"
            continue
        if identity.provider == "manual":
            entry["result"] = "a person must publish these records (tutormail dns-records --format zone)"
            entry["changes"] = as_rows([item])
            continue
        if not item.tokens_known:
            entry["result"] = "the identity is not in SES yet: deploy the stack first"
            codes.append(Exit.ACTION_NEEDED)
            continue
        try:
            address, port = server_address(identity.dns)
            changes = plan_changes(item, address, port)
            entry["server"] = f"{address}:{port}"
            entry["changes"] = [{"name": c.name, "type": c.type, "action": c.action, "wanted": list(c.wanted),
                                 "found": list(c.found)} for c in changes]
            todo = [c for c in changes if c.action != "nothing"]
            if not todo:
                entry["result"] = "nothing to do: every record is already there"
            elif args.dry_run:
                entry["result"] = f"dry run: {len(todo)} record set(s) would be written"
            else:
                key = load_key(identity.dns, plan.platform.region, Path(args.tsig_key_file) if args.tsig_key_file
                               else None)
                send_update(identity.name, todo, key, address, port)
                entry["result"] = f"updated: {len(todo)} record set(s) written in one signed update"
        except PublishError as exc:
            entry["result"] = f"error: {exc}"
            codes.append(Exit(exc.exit_code))
            log.error("%s: %s", identity.name, exc)
    return results, worst(codes)


def _each_institution(args: argparse.Namespace, key: str, run: Callable[[InstitutionPlan], tuple[list, Exit]],
                      show: Callable[[str, list], None], **extra: Any) -> int:
    """Runs a command for each SLUG: one that fails (AWS, DNS) is reported and the others go on;
    the exit code is the worst one."""
    catalog = load_catalog(Path(args.institutions), only=args.slugs)
    institutions, codes = [], []
    for slug in args.slugs:
        entry: dict[str, Any] = {"institution": slug, key: []}
        try:
            entry[key], code = run(plan_for(catalog, slug))
        except ServiceError as exc:
            log.error("%s: %s", slug, exc)
            code, entry["error"] = Exit.SERVICE_ERROR, str(exc)
        entry["exit_code"] = int(code)
        institutions.append(entry)
        codes.append(code)
        if args.output != "json":
            show(slug, entry[key])
    code = worst(codes)
    if args.output == "json":
        emit_json({"exit_code": int(code), **extra, "institutions": institutions})
    return code


def _print_publish(slug: str, domains: list[dict]) -> None:
    for entry in domains:
        rows = [[c["action"], c["name"], c["type"], " ".join(c["wanted"])] for c in entry["changes"] if "action" in c]
        body = (table(["action", "name", "type", "value"], rows) + "\n" if rows else "") + entry["result"]
        section(f"{slug}: {entry['domain']} ({entry['provider']})", body)


def cmd_dns_publish(args: argparse.Namespace) -> int:
    return _each_institution(args, "domains", lambda plan: _publish_institution(plan, args), _print_publish,
                             dry_run=args.dry_run)


# --- verify (both scenarios) ------------------------------------------------------------------------

def _verify_once(plan: InstitutionPlan, ses: Ses, args: argparse.Namespace, lookups: DmarcLookups
                 ) -> tuple[list[dict], Exit]:
    entries, codes = [], []
    progress = Progress(plan)
    recorded = progress.read()
    verdicts = plan_verdicts([plan], lookups)
    for identity in plan.identities:
        state = ses.identity(identity.name)
        if identity.kind == "email" and args.auto_resend:
            check = check_identity(plan, identity.name, state, CLOCK, recorded)
            link = link_state(recorded, identity.name, plan.platform.link_validity_hours)
            if check.state == "expired" and link.count < args.max_resends:
                _, tag = request_link(ses, recorded, identity.name, plan.platform.link_validity_hours, CLOCK,
                                      force=True)
                progress.write(tag)
                recorded.update(tag)
                log.info("%s: the link had expired; a new one was sent (%d of at most %d)", identity.name,
                         link.count + 1, args.max_resends)
                state = ses.identity(identity.name)
        check = check_identity(plan, identity.name, state, CLOCK, recorded)
        ready = deliverability(plan, identity.name, identity.scenario, verdicts, recorded)
        entry: dict[str, Any] = {
            "identity": identity.name, "scenario": identity.scenario, "state": check.state,
            "verified": check.verified, "missing": check.missing or None, "next_action": check.next_action,
            "actor": check.actor, "link_expires_at": iso(check.link_expires_at) if check.link_expires_at else None,
            "deliverability": ready.as_dict(),
            "ses": {"status": state.status, "meaning": (SES_MEANING if identity.kind == "domain" else LINK_MEANING)
                    .get(state.status, state.status)},
        }
        if identity.kind == "domain":
            entry["ses"].update({"dkim_status": state.dkim_status, "mail_from_domain": state.mail_from_domain,
                                 "mail_from_status": state.mail_from_status,
                                 "mail_from_meaning": MAIL_FROM_MEANING.get(state.mail_from_status or "", None)})
            findings, problem = check_domain(records_for(plan, identity, state))
            entry["dns"] = {"problem": problem, "findings": [
                {"server": f.server, "address": f.address, "record": f.record, "type": f.type, "status": f.status,
                 "expected": list(f.expected), "found": list(f.found), "detail": f.detail or None}
                for f in findings]}
        entries.append(entry)
        codes.append(readiness_code(check, ready))
    return entries, worst(codes)


def _verify_institution(plan: InstitutionPlan, args: argparse.Namespace, deadline: float, lookups: DmarcLookups
                        ) -> tuple[list[dict], Exit]:
    ses = Ses(plan.platform)
    delay = 1.0
    while True:
        entries, code = _verify_once(plan, ses, args, lookups)
        # waiting is for SES and links: a sender blocked by DMARC does not stop it while another is pending
        verification = worst(Exit.OK if e["verified"] else Exit.PENDING if e["state"] == "pending"
                             else Exit.ACTION_NEEDED for e in entries)
        if not args.wait or verification != Exit.PENDING or time.monotonic() + delay > deadline:
            return entries, code
        log.info("%s still pending; checking again in %g s", plan.slug, delay)
        time.sleep(delay)
        delay = min(delay * 2, 60.0)


def _print_verify(slug: str, entries: list[dict]) -> None:
    for entry in entries:
        lines = [f"state: {entry['state']} (SES: {entry['ses']['status']}: {entry['ses']['meaning']})"]
        if entry.get("ses", {}).get("mail_from_status"):
            lines.append(f"MAIL FROM {entry['ses']['mail_from_domain']}: {entry['ses']['mail_from_status']}"
                         f" ({entry['ses']['mail_from_meaning']})")
        if entry["missing"]:
            lines.append(f"missing: {entry['missing']}")
        lines.append(f"next: {entry['next_action']} ({entry['actor']})")
        lines += deliverability_lines(entry["deliverability"])
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
    deadline = time.monotonic() + parse_duration(args.timeout)
    lookups = DmarcLookups()  # one DMARC query per distinct domain for the whole run
    return _each_institution(args, "identities", lambda plan: _verify_institution(plan, args, deadline, lookups),
                             _print_verify)


# --- Cenário 2 ------------------------------------------------------------------------------------

def cmd_request_link(args: argparse.Namespace) -> int:
    plan = load_plan(args)
    ses = Ses(plan.platform)
    names = sorted({s.identity for s in select_senders(plan, args.company, args.account) if s.scenario == 2})
    if not names:
        raise ConfigurationError([Problem(plan.institution.source, 0, "accounts",
                                          "no selected account is verified by link (Cenário 2)")])
    results, codes = [], []
    progress = Progress(plan)
    recorded = progress.read()
    verdicts = plan_verdicts([plan])
    for name in names:
        warning = verdicts[domain_of(name)].warning
        if warning:
            log.warning("DMARC: %s", warning)
        state = ses.identity(name)
        if not state.exists:
            results.append({"identity": name, "result": f"not in SES: deploy {plan.stack_name} first", "sent": False})
            codes.append(Exit.ACTION_NEEDED)
            continue
        if state.verified_for_sending:
            results.append({"identity": name, "result": "already verified: no link needed", "sent": False})
            continue
        try:
            link, tag = request_link(ses, recorded, name, plan.platform.link_validity_hours, CLOCK, force=args.force)
            progress.write(tag)
            recorded.update(tag)
        except LinkRefused as exc:
            results.append({"identity": name, "result": f"not sent: {exc}", "sent": False})
            codes.append(Exit.PENDING)
            continue
        results.append({"identity": name, "sent": True, "sent_at": iso(link.sent_at),
                        "expires_at": iso(link.expires_at), "links_sent": link.count, "dmarc_warning": warning,
                        "result": f"SES mailed a new link to {name}; it must be opened before {iso(link.expires_at)}"})
        codes.append(Exit.PENDING)
    if args.output == "json":
        emit_json({"institution": plan.slug, "links": results})
    else:
        print(table(["identity", "result"], [[r["identity"], r["result"]] for r in results]))
    return worst(codes)


# --- phases 2 and 3 ---------------------------------------------------------------------------------

def cmd_smtp_password(args: argparse.Namespace) -> int:
    if args.region not in SES_SMTP_REGIONS:
        raise ConfigurationError([Problem("--region", 0, "--region", f"{args.region!r} has no SES SMTP endpoint")])
    secret = sys.stdin.readline().strip()
    if not secret:
        raise ConfigurationError([Problem("stdin", 0, "secret", "give the secret access key on standard input")])
    print(smtp_password(secret, args.region))
    return Exit.OK


def cmd_smtp_settings(args: argparse.Namespace) -> int:
    plan = load_plan(args)
    senders = select_senders(plan, args.company, args.account)
    progress = Progress(plan)
    gate = phase_gate(plan, senders, Ses(plan.platform), progress, CLOCK, args.accept_dmarc_risk)
    checks = gate.checks
    secret = read_smtp_secret(plan)
    if args.reveal and not gate.open:
        for problem in gate.problems:
            log.error("%s", problem)
        log.error("the password is released only once every selected sender is verified and deliverable "
                  "(phase 1 before phase 2)")
        return gate.code
    rows = settings_rows(plan, senders, checks, secret, args.reveal)
    rules = [{"company": c.name, "rule": rule, "account": account}
             for c in plan.institution.companies for rule, account in c.rules]
    if args.format == "json":
        import io

        buffer = io.StringIO()
        emit_json({"institution": plan.slug, "accounts": rows, "rules": rules}, buffer)
        text = buffer.getvalue()
    elif args.format == "env":
        text = "\n".join(env_lines(rows)) + "\n"
    else:
        headers = ["empresa", "conta", "De/Remetente", "SMTP", "Porta", "Usuário", "Senha", "SSL", "TLS", "validado"]
        text = table(headers,
                     [[r["company"], r["account"], r["from"], r["smtp"], r["port"], r["user"], r["password"], r["ssl"],
                       r["tls"], "sim" if r["verified"] else "não"] for r in rows])
        text += "\n\n" + table(["empresa", "regra", "conta"], [[r["company"], r["rule"], r["account"]]
                                                                for r in rules]) + "\n"
    if args.out:
        write_private(Path(args.out), text)
        log.info("wrote %s (mode 0600)", args.out)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if args.reveal:  # phase 2 recorded only once the password reached the person (where `status` reads it)
        progress.write({**gate.marks, **{RELEASED + s.address: iso(CLOCK.now()) for s in senders}})
    return Exit.OK


def cmd_status(args: argparse.Namespace) -> int:
    page = status_html.take_file(args)
    if not args.all and not args.slugs:
        raise ConfigurationError([Problem("status", 0, "SLUG", "name institutions or use --all")])
    catalog = load_catalog(Path(args.institutions), only=None if args.all else args.slugs)
    ses = Ses(catalog.platform)
    slugs = list(catalog.institutions)
    marks = fleet_marks(catalog, slugs, aws.client("secretsmanager", catalog.platform.region))  # one read, two uses
    rows, code = sweep(catalog, slugs, ses, None, CLOCK, dns_checks=not args.offline, marks=marks)
    health = {h.slug: h for h in fleet_health(catalog, slugs, marks=marks)}  # issue 14
    for row in rows:
        row.update(health_columns(health[row["institution"]]))
    code = worst([code, *(Exit.ACTION_NEEDED for h in health.values() if h.paused)])
    if page:
        status_html.write(rows, page, CLOCK)
    elif args.output == "json":
        emit_json({"exit_code": int(code), "rows": rows})
    else:
        print(table(["institution", "company", "account", "address", "scen.", "phase", "next action", "who",
                     "link expires", "DMARC", "sending"],
                    [[r["institution"], r["company"], r["account"], r["address"], r["scenario"], r["phase"],
                      r["next_action"], r["actor"], r["link_expires_at"] or "", r["deliverability"]["summary"],
                      r["sending"]] for r in rows]))
        for slug, found in health.items():
            if found.paused:
                log.warning("%s: %s", slug, found.why)
        for row in rows:
            if row["dmarc_warning"]:
                log.warning("%s: %s", row["address"], row["dmarc_warning"])
    return code


def cmd_send_test(args: argparse.Namespace) -> int:
    try:
        Address.parse(args.to)
    except ValueError as exc:
        raise ConfigurationError([Problem("--to", 0, "--to", f"{args.to!r}: {exc}")]) from None
    plan = load_plan(args)
    senders = select_senders(plan, args.company, args.account or ("comunicacao" if not args.company else None))
    sender = senders[0]
    progress = Progress(plan)
    gate = phase_gate(plan, [sender], Ses(plan.platform), progress, CLOCK, args.accept_dmarc_risk)
    if not gate.open:
        for problem in gate.problems:
            log.error("%s", problem)
        return gate.code
    if gate.marks:
        progress.write(gate.marks)
    secret = read_smtp_secret(plan)
    endpoint = args.endpoint or os.environ.get("TUTORMAIL_SMTP_ENDPOINT") or f"{plan.smtp_endpoint}:587"
    host, _, port = endpoint.rpartition(":")
    ca_bundle = args.ca_bundle or os.environ.get("TUTORMAIL_SMTP_CA_BUNDLE")
    result = send_test(plan, sender, secret, args.to, host or endpoint, int(port or 587), ca_bundle,
                       attempts=args.attempts)
    data = {"institution": plan.slug, "company": sender.company, "account": sender.account, "from": sender.mailbox,
            "to": args.to, "endpoint": endpoint, "accepted": result.ok, "smtp_code": result.code,
            "server_reply": result.reply, "explanation": result.explanation, "message_id": result.message_id}
    if result.ok:
        progress.write({TESTED + sender.address: iso(CLOCK.now())})
    if args.output == "json":
        emit_json(data)
    else:
        print(table(["field", "value"], [[k, "" if v is None else v] for k, v in data.items()]))
    if not result.ok:
        log.error("%s", result.explanation)
    return result.exit_code


def cmd_handoff(args: argparse.Namespace) -> int:
    plan = load_plan(args)
    verdicts = None if args.offline else plan_verdicts([plan])
    paths = write_handoff(plan, Path(args.out or Path("handoff") / plan.slug), verdicts)
    if args.output == "json":
        emit_json({"institution": plan.slug, "files": [str(p) for p in paths]})
    else:
        print("\n".join(str(p) for p in paths))
    return Exit.OK


def cmd_add_company(args: argparse.Namespace) -> int:
    catalog = load_catalog(Path(args.institutions))
    text, diff = add_company(catalog, args.slug, args.source, args.name, args.email, args.logo)
    sys.stdout.write(diff)
    if not args.dry_run:
        (Path(catalog.directory) / f"{args.slug}.yaml").write_text(text, encoding="utf-8")
        log.info("added company %r to %s.yaml; run phase 3 for it once deployed", args.name, args.slug)
    return Exit.OK


def cmd_dmarc(args: argparse.Namespace) -> int:
    finding = preflight(args.domain)
    data = {**finding.as_dict(), "warning": finding.warning}
    if args.output == "json":
        emit_json(data)
    else:
        print(table(["field", "value"], [[k, v or "-"] for k, v in data.items()]))
    return Deliverability(finding.state).exit_code
