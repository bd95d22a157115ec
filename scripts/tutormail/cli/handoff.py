"""`tutormail handoff SLUG`: the pt-BR document for the institution (Markdown and HTML)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tutormail.aws.progress_marks import Progress
from tutormail.cenario2.dmarc import DmarcLookups
from tutormail.cli import arguments
from tutormail.cli.institutions import load_plan
from tutormail.cli.output import emit_json
from tutormail.exitcodes import Exit
from tutormail.tutor_setup.handoff import write_handoff
from tutormail.verification.deliverability import plan_verdicts


def cmd_handoff(args: argparse.Namespace) -> int:
    plan = load_plan(args)
    verdicts = None if args.offline else plan_verdicts([plan], DmarcLookups(args.runtime.dns))
    recorded = None if args.offline else Progress(plan).read()  # the DMARC acceptances, as the gate reads them
    paths = write_handoff(plan, Path(args.out or Path("handoff") / plan.slug), verdicts, recorded)
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
