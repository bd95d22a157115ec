"""`tutormail send-test SLUG --to ADDR`: phase 3, a test message through the SES SMTP endpoint."""

from __future__ import annotations

import argparse
import logging

from tutormail.aws.check_mailbox import CheckMailbox
from tutormail.catalog.receiving_fields import check_address
from tutormail.cli import arguments
from tutormail.cli.institutions import load_plan
from tutormail.cli.output import emit_json, table
from tutormail.exitcodes import UsageError
from tutormail.plan.build import plan_for
from tutormail.plan.loader import load_catalog
from tutormail.services import Services
from tutormail.tutor_setup.phases import phase_test
from tutormail.tutor_setup.receiver_view import ReceiverView
from tutormail.tutor_setup.send_check import check_test
from tutormail.tutor_setup.smtp_settings import SMTP_PORT

log = logging.getLogger("tutormail")


def cmd_send_test(args: argparse.Namespace) -> int:
    if args.check:  # issue 25: as a receiver sees it
        return cmd_send_check(args)
    if args.to is None:
        raise UsageError("send-test: give --to ADDRESS, or --check to send to the platform's check address")
    plan = load_plan(args)
    ca_bundle = args.ca_bundle or args.runtime.smtp_ca_bundle
    # The recipient in its ASCII form (A-label domain): SES takes no SMTPUTF8.
    outcome = phase_test(plan, args.company, args.account, args.to.ascii,
                         args.endpoint or args.runtime.smtp_endpoint or (plan.smtp_endpoint, SMTP_PORT),
                         str(ca_bundle) if ca_bundle else None, args.attempts,
                         Services.of(args.runtime.clock, args.runtime.dns), args.accept_dmarc_risk)
    result = outcome.result
    if result is None:
        for problem in outcome.gate.problems:
            log.error("%s", problem)
        return outcome.gate.code
    data = outcome.as_dict(plan.slug, args.to.ascii)
    if args.output == "json":
        emit_json(data)
    else:
        print(table(["field", "value"], [[k, "" if v is None else v] for k, v in data.items()]))
    if not result.ok:
        log.error("%s", result.explanation)
    return result.exit_code


def _aligned(aligned: bool) -> str:
    return "aligned" if aligned else "not aligned"


def _check_rows(view: ReceiverView) -> list[list[str]]:
    return [["From (as displayed)", view.from_display],
            ["DKIM", f"{view.dkim}, {view.dkim_domain or '-'}, {_aligned(view.dkim_aligned)}"],
            ["SPF", f"{view.spf}, {view.mail_from_domain or '-'}, {_aligned(view.spf_aligned)}"],
            ["DMARC", f"{view.dmarc}{', aligned' if view.passes else ''}; policy that would apply: "
                      f"{view.policy or 'none'}"]]


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
                         str(ca_bundle) if ca_bundle else None, args.attempts,
                         Services.of(args.runtime.clock, args.runtime.dns), args.accept_dmarc_risk,
                         CheckMailbox(platform.account, platform.region), args.wait)
    test = outcome.test
    if test.result is None:
        for problem in test.gate.problems:
            log.error("%s", problem)
        return outcome.exit_code
    sender, result = test.sender, test.result
    data = outcome.as_dict(plan.slug, to, args.wait)
    explanation = outcome.explanation(plan.slug, args.wait)
    if args.output == "json":
        emit_json(data)
    else:
        rows = [["institution", plan.slug], ["account", f"{sender.company} / {sender.account}"],
                ["to", to], ["accepted by SES", "yes" if result.ok else f"no: {result.explanation}"],
                ["arrived", "yes" if outcome.arrived else "no"], *(_check_rows(outcome.view) if outcome.view else [])]
        print(table(["what a receiver sees", "value"], rows))
    if explanation:
        log.error("%s", explanation)
    elif not result.ok:
        log.error("%s", result.explanation)
    return outcome.exit_code


def register(add) -> None:
    test = add("send-test", cmd_send_test, "phase 3: send a test message through the SES SMTP endpoint")
    test.add_argument("slug")
    test.add_argument("--to", type=arguments.recipient, help="the recipient (required unless --check)")
    test.add_argument("--check", action="store_true", help="send to the platform's check address and report what "
                      "a receiver sees: From, DKIM, SPF, DMARC (needs receiving: in platform.yaml)")
    test.add_argument("--wait", type=arguments.duration, default="2m",
                      help="--check: how long to wait for the stored message (default 2m)")
    test.add_argument("--company", type=arguments.company_name)
    test.add_argument("--account")
    test.add_argument("--endpoint", metavar="HOST:PORT", type=arguments.endpoint,
                      help="SMTP endpoint (default: the region's; $TUTORMAIL_SMTP_ENDPOINT)")
    test.add_argument("--ca-bundle", metavar="FILE", type=arguments.ca_bundle,
                      help="CA certificates to trust ($TUTORMAIL_SMTP_CA_BUNDLE)")
    test.add_argument("--attempts", type=arguments.attempts, default=3, help="tries for timeouts and 535 (default 3)")
    test.add_argument("--accept-dmarc-risk", action="store_true", help=arguments.ACCEPT_HELP)
