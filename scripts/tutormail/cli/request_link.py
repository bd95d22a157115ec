"""`tutormail request-link SLUG`: Cenário 2, make SES mail the verification link again."""

from __future__ import annotations

import argparse

from tutormail.aws.progress_marks import Progress
from tutormail.aws.ses import Ses
from tutormail.cenario2.link_requests import request_links
from tutormail.cli import arguments
from tutormail.cli.institutions import load_plan
from tutormail.cli.output import emit_json, table


def cmd_request_link(args: argparse.Namespace) -> int:
    plan = load_plan(args)
    found = request_links(plan, Ses(plan.platform), Progress(plan), args.runtime.clock, args.runtime.dns,
                          args.company, args.account, force=args.force)
    if args.output == "json":
        emit_json(found.as_dict())
    else:
        print(table(["identity", "result"], [[r.identity, r.result] for r in found.links]))
    return found.exit_code


def register(add) -> None:
    link = add("request-link", cmd_request_link, "Cenário 2: make SES mail the verification link again")
    link.add_argument("slug")
    link.add_argument("--company", type=arguments.company_name)
    link.add_argument("--account")
    link.add_argument("--force", action="store_true", help="send even while the last link is still valid")
