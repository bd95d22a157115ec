"""Day-2 commands: what an edit changes, what the pipeline must deploy, the platform's settings."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path

from tutormail.aws import client as aws
from tutormail.cli.output import emit_json, section, table
from tutormail.cli.plan_view import changes_table
from tutormail.exitcodes import Exit
from tutormail.lifecycle import cleanup
from tutormail.lifecycle.changes import changes, deployed_state, key_problems
from tutormail.lifecycle.offboard import offboarding, run
from tutormail.lifecycle.offboard import outcome as offboard_outcome
from tutormail.lifecycle.out_of_date import assembly_hashes, compare, deployed_stacks
from tutormail.plan.build import plan_for
from tutormail.plan.change import SCHEMA_VERSION, Action, Change, Kind, exit_code
from tutormail.plan.loader import load_catalog

log = logging.getLogger("tutormail")
Add = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]


def cmd_out_of_date(args: argparse.Namespace) -> int:
    catalog = load_catalog(Path(args.institutions))
    wanted = assembly_hashes(Path(args.cdk_out))
    report = compare(list(catalog.institutions), wanted,
                     deployed_stacks(aws.Clients(catalog.platform.region)["cloudformation"]))
    if args.output == "json":
        emit_json({"region": catalog.platform.region, "deploy": report.deploy, "up_to_date": report.up_to_date,
                   "offboard": report.offboard})
        return Exit.OK
    section("Stacks to deploy", table(["stack", "reason", "template hash"],
                                      [[d["stack"], d["reason"], d["template_hash"][:12]] for d in report.deploy]))
    section("Institutions with a deployed stack and no file (offboarding)",
            "\n".join(report.offboard) or "none")
    print(f"{len(report.up_to_date)} stack(s) up to date")
    return Exit.OK


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
        print(f"{plan.stack_name} is not deployed: everything below is created\n")
    print(changes_table(found))
    return code


def cmd_platform(args: argparse.Namespace) -> int:
    platform = load_catalog(Path(args.institutions)).platform
    data = {"account": platform.account, "region": platform.region, "platform_domain": platform.platform_domain,
            "hosted_zone_id": platform.hosted_zone_id}
    if args.output == "json":
        emit_json(data)
    else:
        print(table(["field", "value"], sorted(data.items())))
    return Exit.OK


def _print_step(step: str, entry: dict) -> None:
    when = f"done at {entry['at']}" if entry.get("earlier") else entry["at"]
    if "changes" not in entry:  # a step recorded before the record kept its changes
        lines = [f"  {label}: {item}" for label, key in (("removed", "removed"), ("left", "left"),
                                                         ("already gone", "already_gone")) for item in entry[key]]
        section(f"== {step} ({when})", "\n".join(lines))
        return
    section(f"== {step} ({when})", changes_table([Change.from_dict(c) for c in entry["changes"]]))


def cmd_offboard(args: argparse.Namespace) -> int:
    job = offboarding(load_catalog(Path(args.institutions)), args.slug, args.apply, args.runtime.dns,
                      args.runtime.clock)
    text = args.output != "json"
    if text and not args.apply:
        print(f"dry run: nothing is changed; pass --apply to offboard {args.slug}")
    steps: dict[str, dict] = {}

    def shown(step: str, entry: dict) -> None:
        steps[step] = entry
        if text:
            _print_step(step, entry)

    record = run(job, shown)
    code = offboard_outcome(list(steps.values()))
    if args.output == "json":
        emit_json({"schema_version": SCHEMA_VERSION, "institution": args.slug, "applied": args.apply,
                   "steps": steps, "record": record, "exit_code": int(code)})
    elif args.apply:
        print(f"offboarding of {args.slug} finished at {record['finished']}; record kept in the progress table")
    return code


def cmd_cleanup(args: argparse.Namespace) -> int:
    job = cleanup.cleanup_job(load_catalog(Path(args.institutions)), args.slug, args.apply, args.runtime.dns,
                              Path(args.previous) if args.previous else None)
    found = cleanup.run(job)
    code = cleanup.outcome(found)
    if args.output == "json":
        emit_json({"schema_version": SCHEMA_VERSION, "institution": args.slug, "applied": args.apply,
                   "changes": [c.as_dict() for c in found], "exit_code": int(code)})
        return code
    if not args.apply:
        print(f"dry run: nothing is changed; pass --apply to remove what {args.slug}'s files no longer declare")
    print(changes_table(found) if found else f"nothing to clean up for {args.slug}")
    return code


def register(add: Add) -> None:
    stale = add("out-of-date", cmd_out_of_date, "stacks whose synthesized template differs from what is deployed, "
                "and deployed institutions with no file")
    stale.add_argument("--cdk-out", default="cdk.out", metavar="DIR", help="cloud assembly of a full cdk synth")
    changed = add("plan-changes", cmd_plan_changes, "what an edited file creates, keeps and removes against the "
                  "deployed stack: identities, records, addresses the SMTP user may send as, SMTP keys; "
                  "exit 1 when the deploy would delete the key Tutor holds without overlap")
    changed.add_argument("slug")
    offboard = add("offboard", cmd_offboard, "remove an institution: sending off, keys off, its RFC 2136 records, "
                   "its stack, its retained identities; dry run unless --apply; resumable")
    offboard.add_argument("slug")
    offboard.add_argument("--apply", action="store_true", help="do it (default: print what would be done)")
    clean = add("cleanup", cmd_cleanup, "after a deploy, remove what the files no longer declare: retained "
                "identities no file claims and their records; dry run unless --apply")
    clean.add_argument("slug")
    clean.add_argument("--apply", action="store_true", help="do it (default: print what would be removed)")
    clean.add_argument("--previous", metavar="DIR", help="the institution files as they were before the change "
                       "(e.g. a checkout of the previous commit): where removed domains' DNS servers were")
    add("platform", cmd_platform, "the platform file's account, region, domain and zone (for pipelines)")
