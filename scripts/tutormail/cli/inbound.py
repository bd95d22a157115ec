"""Receiving on the platform domain (issue 25): `send-test --check` and `receiving-activate`."""

from __future__ import annotations

import argparse
import logging

from tutormail.aws.check_mailbox import CheckMailbox, received_counts
from tutormail.aws.progress_tags import Progress
from tutormail.aws.receipt_rules import activate
from tutormail.aws.ses import Ses
from tutormail.catalog.receiving_fields import check_address
from tutormail.cenario2.dmarc import DmarcLookups
from tutormail.cli.output import emit_json, table
from tutormail.exitcodes import UsageError
from tutormail.plan.build import plan_for
from tutormail.plan.loader import load_catalog
from tutormail.tutor_setup.send_check import check_test
from tutormail.tutor_setup.smtp_settings import SMTP_PORT

log = logging.getLogger("tutormail")


def _check_rows(check: dict) -> list[list[str]]:
    rows = [["From (as displayed)", check["from"]]]
    for name, part, where in (("DKIM", "dkim", "domain"), ("SPF", "spf", "mail_from_domain")):
        verdict = check[part]
        rows.append([name, f"{verdict['result']}, {verdict[where] or '-'}, "
                           f"{'aligned' if verdict['aligned'] else 'not aligned'}"])
    dmarc = check["dmarc"]
    rows.append(["DMARC", f"{dmarc['result']}{', aligned' if dmarc['aligned_pass'] else ''}; policy that would "
                          f"apply: {dmarc['policy'] or 'none'}"])
    return rows


def cmd_send_check(args: argparse.Namespace) -> int:
    if args.to is not None:
        raise UsageError("send-test: --check sends to the platform's check address; give --to or --check, not both")
    catalog = load_catalog(args.institutions, only=[args.slug])
    plan = plan_for(catalog, args.slug)
    platform = plan.platform
    if platform.receiving is None:
        raise UsageError(f"send-test --check needs receiving: in {platform.source} (the check address "
                         "and its bucket come with it)")
    to = check_address(platform)
    ca_bundle = args.ca_bundle or args.runtime.smtp_ca_bundle
    outcome = check_test(plan, args.company, args.account, to,
                         args.endpoint or args.runtime.smtp_endpoint or (plan.smtp_endpoint, SMTP_PORT),
                         str(ca_bundle) if ca_bundle else None, args.attempts, Ses(platform), Progress(plan),
                         args.runtime.clock, args.accept_dmarc_risk, DmarcLookups(args.runtime.dns),
                         CheckMailbox(platform.account, platform.region), args.wait)
    test = outcome.test
    if test.result is None:
        for problem in test.gate.problems:
            log.error("%s", problem)
        return outcome.exit_code
    sender, result = test.sender, test.result
    check = outcome.view.as_dict(plan.slug) if outcome.view else None
    explanation = outcome.explanation(plan.slug, args.wait)
    data = {"institution": plan.slug, "company": sender.company, "account": sender.account, "from": sender.mailbox,
            "to": to, "endpoint": test.endpoint, "accepted": result.ok, "smtp_code": result.code,
            "server_reply": result.reply, "explanation": result.explanation, "message_id": result.message_id,
            "arrived": outcome.arrived, "check": check, "check_explanation": explanation,
            "exit_code": int(outcome.exit_code)}
    if args.output == "json":
        emit_json(data)
    else:
        rows = [["institution", plan.slug], ["account", f"{sender.company} / {sender.account}"],
                ["to", to], ["accepted by SES", "yes" if result.ok else f"no: {result.explanation}"],
                ["arrived", "yes" if outcome.arrived else "no"], *(_check_rows(check) if check else [])]
        print(table(["what a receiver sees", "value"], rows))
    if explanation:
        log.error("%s", explanation)
    elif not result.ok:
        log.error("%s", result.explanation)
    return outcome.exit_code


def cmd_receiving_activate(args: argparse.Namespace) -> int:
    catalog = load_catalog(args.institutions, only=[])
    platform = catalog.platform
    if platform.receiving is None:
        raise UsageError(f"receiving-activate: {platform.source} has no receiving: (nothing to activate)")
    state = activate(platform.region, apply=args.apply)
    if args.output == "json":
        emit_json(state.as_dict())
    else:
        print(state.message)
    if state.conflict:
        log.error("%s", state.conflict)
    return state.exit_code


def add_received(platform, rows: list[dict], counts=received_counts) -> None:
    """status's `received` (JSON) and column: messages to the institution's platform address so far;
    None when the platform receives nothing (no receiving:)."""
    found = counts(platform.region) if platform.receiving is not None else {}
    for row in rows:
        row["received"] = found.get(row["institution"], 0) if platform.receiving is not None else None


def register(add) -> None:
    activate_parser = add("receiving-activate", cmd_receiving_activate,
                          "make tutor-mail's receipt rule set the account's active one (never replacing another "
                          "application's); dry run unless --apply")
    activate_parser.add_argument("--apply", action="store_true",
                                 help="activate it (otherwise only say what would be done)")


