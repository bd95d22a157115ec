"""`tutormail handoff SLUG`: the pt-BR document for the institution (Markdown and HTML)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tutormail.cli import arguments
from tutormail.cli.institutions import load_plan
from tutormail.cli.output import emit_json
from tutormail.exitcodes import Exit
from tutormail.services import Services
from tutormail.tutor_setup.handoff import write_handoff


def cmd_handoff(args: argparse.Namespace) -> int:
    plan = load_plan(args)
    services = None if args.offline else Services.of(args.runtime.clock, args.runtime.dns)
    paths = write_handoff(plan, Path(args.out or Path("handoff") / plan.slug), services)
    if args.output == "json":
        emit_json({"institution": plan.slug, "files": [str(p) for p in paths]})
    else:
        print("\n".join(str(p) for p in paths))
    return Exit.OK


def register(add) -> None:
    handoff = add("handoff", cmd_handoff, "the pt-BR document for the institution (Markdown and HTML)")
    handoff.add_argument("slug")
    handoff.add_argument("--out", metavar="DIR", type=arguments.output_directory,
                         help="directory (default: handoff/<slug>)")
    handoff.add_argument("--offline", action="store_true", help="skip the DMARC look-ups of Cenário 2 addresses")
