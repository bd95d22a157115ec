"""`tutormail dns-records SLUG`: the records to publish, with the real DKIM tokens from SES."""

from __future__ import annotations

import argparse
import logging
import sys

from tutormail.aws.ses import Ses
from tutormail.cenario1.records import as_csv, as_rows, as_zone, domain_records
from tutormail.cli import arguments
from tutormail.cli.institutions import load_plan
from tutormail.cli.output import emit_json
from tutormail.exitcodes import Exit, UsageError

log = logging.getLogger("tutormail")


def cmd_dns_records(args: argparse.Namespace) -> int:
    form = arguments.data_format(args, "dns-records", "zone")
    plan = load_plan(args)
    domains = [i.name for i in plan.identities if i.kind == "domain"]
    if args.domain is not None and args.domain not in domains:
        raise UsageError(f"dns-records: --domain {args.domain} is not a domain of {plan.slug} "
                         f"(its domains: {', '.join(domains)})")
    found = domain_records(plan, Ses(plan.platform), args.domain)
    if form == "zone":
        sys.stdout.write(as_zone(found))
    elif form == "csv":
        sys.stdout.write(as_csv(found))
    else:
        emit_json({"institution": plan.slug, "records": as_rows(found)})
    for item in found:
        if not item.tokens_known:
            log.warning("%s is not in SES yet: its DKIM names are placeholders until the stack is deployed",
                        item.identity.name)
    return Exit.OK


def register(add) -> None:
    records = add("dns-records", cmd_dns_records,
                  "the records to publish, with the real DKIM tokens from SES (zone, json or csv)")
    records.add_argument("slug")
    records.add_argument("--format", choices=("zone", "json", "csv"),
                         help="zone (default) or csv; json is --output json")
    records.add_argument("--domain", type=arguments.domain, help="only this domain")
