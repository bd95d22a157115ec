"""`tutormail dns-publish SLUG...`: Cenário 1 with RFC 2136, one TSIG-signed update of the records we own."""

from __future__ import annotations

import argparse
from functools import partial

from tutormail.aws.ses import Ses
from tutormail.cenario1.publishing import Published, PublishOptions, publish_institution
from tutormail.cli import arguments
from tutormail.cli.institutions import each_institution
from tutormail.cli.output import section, sentence
from tutormail.cli.plan_view import changes_view
from tutormail.plan.change import SCHEMA_VERSION


def _print_publish(output: str, slug: str, domains: list[Published]) -> None:
    for found in domains:
        blank = "\n\n" if output == "markdown" else "\n"  # Markdown: the sentence is not a row of the table
        body = (changes_view(found.changes, output) + blank if found.changes else "") + sentence(found.result, output)
        section(f"{slug}: {found.domain} ({found.provider})", body, markdown=output == "markdown")


def cmd_dns_publish(args: argparse.Namespace) -> int:
    options = PublishOptions(dry_run=args.dry_run, key_file=args.tsig_key_file)
    return each_institution(args, "domains",
                            lambda plan: publish_institution(plan, Ses(plan.platform), args.runtime.dns, options),
                            partial(_print_publish, args.output), dry_run=args.dry_run, schema_version=SCHEMA_VERSION)


def register(add) -> None:
    publish = add("dns-publish", cmd_dns_publish,
                  "Cenário 1 with RFC 2136: one TSIG-signed update of the records we own",
                  outputs=arguments.CHANGE_OUTPUTS)
    publish.add_argument("slugs", nargs="+", metavar="SLUG")
    publish.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    publish.add_argument("--tsig-key-file", metavar="FILE", type=arguments.tsig_key_file,
                         help="TSIG key (name:algorithm:secret or JSON) instead of the secret named in the file")
