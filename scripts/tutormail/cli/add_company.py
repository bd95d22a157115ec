"""`tutormail add-company SLUG --from C`: Duplicar Configurações, a new company copied from an existing one."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from tutormail.catalog.add_company import add_company_to_file
from tutormail.cli import arguments
from tutormail.exitcodes import Exit
from tutormail.plan.loader import CATALOG_CHECKS, load_catalog

log = logging.getLogger("tutormail")


def cmd_add_company(args: argparse.Namespace) -> int:
    catalog = load_catalog(Path(args.institutions))
    path, diff = add_company_to_file(catalog, args.slug, args.source, args.name, args.email, args.logo,
                                     dry_run=args.dry_run, checks=CATALOG_CHECKS)
    sys.stdout.write(diff)
    if not args.dry_run:
        log.info("added company %r to %s; run phase 3 for it once deployed", args.name, path.name)
    return Exit.OK


def register(add) -> None:
    company = add("add-company", cmd_add_company,
                  "Duplicar Configurações: a new company copied from an existing one, in the file")
    company.add_argument("slug")
    company.add_argument("--from", dest="source", required=True, metavar="COMPANY", type=arguments.company_name)
    company.add_argument("--name", required=True)
    company.add_argument("--email", help="the new company's comunicacao address")
    company.add_argument("--logo", help="logo path, relative to the institutions directory")
    company.add_argument("--dry-run", action="store_true", help="show the diff only")
