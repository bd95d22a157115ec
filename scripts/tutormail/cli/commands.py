"""The commands behind `tutormail`: each reads arguments, calls the library, renders the result."""

from __future__ import annotations

import argparse
import logging

from tutormail.cenario2.dmarc import preflight
from tutormail.cli.output import emit_json, table
from tutormail.verification.deliverability import Deliverability

log = logging.getLogger("tutormail")


# --- Cenário 1 -----------------------------------------------------------------------------------


# --- verify (both scenarios) ------------------------------------------------------------------------


# --- Cenário 2 ------------------------------------------------------------------------------------


# --- phases 2 and 3 ---------------------------------------------------------------------------------


def cmd_dmarc(args: argparse.Namespace) -> int:
    finding = preflight(args.domain, args.runtime.dns)
    data = {**finding.as_dict(), "warning": finding.warning}
    if args.output == "json":
        emit_json(data)
    else:
        print(table(["field", "value"], [[k, v or "-"] for k, v in data.items()]))
    return Deliverability(finding.state, finding).exit_code
