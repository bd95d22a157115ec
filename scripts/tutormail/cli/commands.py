"""The commands behind `tutormail`: each reads arguments, calls the library, renders the result."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from tutormail.catalog.add_company import add_company_to_file
from tutormail.cenario2.dmarc import preflight
from tutormail.cli.output import emit_json, table
from tutormail.exitcodes import Exit
from tutormail.plan.loader import CATALOG_CHECKS, load_catalog
from tutormail.verification.deliverability import Deliverability

log = logging.getLogger("tutormail")


# --- Cenário 1 -----------------------------------------------------------------------------------


# --- verify (both scenarios) ------------------------------------------------------------------------


# --- Cenário 2 ------------------------------------------------------------------------------------


# --- phases 2 and 3 ---------------------------------------------------------------------------------


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
