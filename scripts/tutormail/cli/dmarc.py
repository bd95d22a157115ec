"""`tutormail dmarc DOMAIN`: the DMARC pre-flight of one domain."""

from __future__ import annotations

import argparse

from tutormail.cenario2.dmarc import preflight
from tutormail.cli import arguments
from tutormail.cli.output import emit_json, table
from tutormail.verification.deliverability import Deliverability


def cmd_dmarc(args: argparse.Namespace) -> int:
    finding = preflight(args.domain, args.runtime.dns)
    data = {**finding.as_dict(), "warning": finding.warning}
    if args.output == "json":
        emit_json(data)
    else:
        print(table(["field", "value"], [[k, v or "-"] for k, v in data.items()]))
    return Deliverability(finding.state, finding).exit_code


def register(add) -> None:
    dmarc = add("dmarc", cmd_dmarc, "the DMARC pre-flight of one domain")
    dmarc.add_argument("domain", type=arguments.domain)
