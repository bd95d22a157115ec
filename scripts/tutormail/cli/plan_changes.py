"""`tutormail plan-changes SLUG`: what an edited file changes against the deployed stack, as one list of changes."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tutormail.aws import client as aws
from tutormail.cli import arguments
from tutormail.cli.output import emit_json, sentence
from tutormail.cli.plan_view import changes_view
from tutormail.lifecycle.changes import changes, deployed_state, key_problems
from tutormail.plan.build import plan_for
from tutormail.plan.change import SCHEMA_VERSION, Action, Change, Kind, exit_code
from tutormail.plan.loader import load_catalog

log = logging.getLogger("tutormail")


def cmd_plan_changes(args: argparse.Namespace) -> int:
    catalog = load_catalog(Path(args.institutions), only=[args.slug])
    plan = plan_for(catalog, args.slug)
    deployed = deployed_state(aws.Clients(catalog.platform.region)["cloudformation"], plan.stack_name)
    found = changes(plan, deployed) + [
        Change(Kind.SMTP_KEY, plan.smtp_user_name, Action.PERSON, problem) for problem in key_problems(plan, deployed)]
    for change in (c for c in found if c.for_a_person):
        log.error("%s: %s", plan.slug, change.reason)
    code = exit_code(found)
    if args.output == "json":
        emit_json({"schema_version": SCHEMA_VERSION, "institution": plan.slug, "stack": plan.stack_name,
                   "deployed": deployed is not None, "changes": [c.as_dict() for c in found], "exit_code": int(code)})
        return code
    if deployed is None:
        print(sentence(f"{plan.stack_name} is not deployed: everything below is created", args.output) + "\n")
    print(changes_view(found, args.output))
    return code


def register(add) -> None:
    changed = add("plan-changes", cmd_plan_changes, "what an edited file creates, keeps and removes against the "
                  "deployed stack: identities, records, addresses the SMTP user may send as, SMTP keys; "
                  "exit 1 when the deploy would delete the key Tutor holds without overlap",
                  outputs=arguments.CHANGE_OUTPUTS)
    changed.add_argument("slug")
