"""The commands behind `tutormail`: each reads arguments, calls the library, renders the result."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from tutormail.aws.progress_tags import Progress
from tutormail.aws.ses import Ses
from tutormail.catalog.add_company import add_company_to_file
from tutormail.cenario2.dmarc import DmarcLookups, preflight
from tutormail.cli.institutions import load_plan
from tutormail.cli.output import emit_json, table
from tutormail.exitcodes import Exit, UsageError
from tutormail.plan.loader import CATALOG_CHECKS, load_catalog
from tutormail.tutor_setup.handoff import write_handoff
from tutormail.tutor_setup.phase_gate import phase_test
from tutormail.tutor_setup.smtp_settings import SMTP_PORT
from tutormail.verification.deliverability import Deliverability, plan_verdicts

log = logging.getLogger("tutormail")


# --- Cenário 1 -----------------------------------------------------------------------------------


# --- verify (both scenarios) ------------------------------------------------------------------------


# --- Cenário 2 ------------------------------------------------------------------------------------


# --- phases 2 and 3 ---------------------------------------------------------------------------------


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
