"""`tutormail dns-publish SLUG...`: Cenário 1 with RFC 2136, one TSIG-signed update of the records we own."""

from __future__ import annotations

import argparse

from tutormail.aws.ses import Ses
from tutormail.cenario1.publishing import Published, PublishOptions, publish_institution
from tutormail.cli import arguments
from tutormail.cli.institutions import each_institution
from tutormail.cli.output import section
from tutormail.cli.plan_view import changes_table
from tutormail.plan.change import SCHEMA_VERSION


def _print_publish(slug: str, domains: list[Published]) -> None:
    for found in domains:
        body = (changes_table(found.changes) + "\n" if found.changes else "") + found.result
        section(f"{slug}: {found.domain} ({found.provider})", body)


def cmd_dns_publish(args: argparse.Namespace) -> int:
    options = PublishOptions(dry_run=args.dry_run, key_file=args.tsig_key_file)
    return each_institution(args, "domains",
                            lambda plan: publish_institution(plan, Ses(plan.platform), args.runtime.dns, options),
                            _print_publish, dry_run=args.dry_run, schema_version=SCHEMA_VERSION)


def register(add) -> None:
    publish = add("dns-publish", cmd_dns_publish,
                  "Cenário 1 with RFC 2136: one TSIG-signed update of the records we own")
    publish.add_argument("slugs", nargs="+", metavar="SLUG")
    publish.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    publish.add_argument("--tsig-key-file", metavar="FILE", type=arguments.tsig_key_file,
                         help="TSIG key (name:algorithm:secret or JSON) instead of the secret named in the file")
