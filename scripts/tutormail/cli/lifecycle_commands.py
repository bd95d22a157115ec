"""Day-2 commands: what an edit changes, what the pipeline must deploy, the platform's settings."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path

from tutormail.aws import client as aws
from tutormail.cli.output import emit_json, section, table
from tutormail.exitcodes import Exit
from tutormail.lifecycle import cleanup
from tutormail.lifecycle.changes import changes, deployed_state, key_problems
from tutormail.lifecycle.offboard import offboarding, run
from tutormail.lifecycle.out_of_date import assembly_hashes, compare, deployed_stacks
from tutormail.plan.build import plan_for
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
    found, problems = changes(plan, deployed), key_problems(plan, deployed)
    for problem in problems:
        log.error("%s: %s", plan.slug, problem)
    code = Exit.ACTION_NEEDED if problems else Exit.OK
    if args.output == "json":
        emit_json({"institution": plan.slug, "stack": plan.stack_name, "deployed": deployed is not None,
                   "problems": problems, **found})
        return code
    if deployed is None:
        print(f"{plan.stack_name} is not deployed: everything below is created\n")
    for what, split in found.items():
        section(what.replace("_", " "), table(["change", "name"], [[change, name] for change in
                                                                  ("created", "removed", "kept")
                                                                  for name in split[change]]))
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
    print(f"== {step} ({when})")
    for label, key in (("removed", "removed"), ("left", "left"), ("already gone", "already_gone")):
        for item in entry[key]:
            print(f"  {label}: {item}")


def cmd_offboard(args: argparse.Namespace) -> int:
    job = offboarding(load_catalog(Path(args.institutions)), args.slug, args.apply, args.runtime.dns,
                      args.runtime.clock)
    text = args.output != "json"
    if text and not args.apply:
        print(f"dry run: nothing is changed; pass --apply to offboard {args.slug} (\"removed\" reads \"would remove\")")
    record = run(job, _print_step if text else lambda step, entry: None)
    if args.output == "json":
        emit_json({"applied": args.apply, "record": record})
    elif args.apply:
        print(f"offboarding of {args.slug} finished at {record['finished']}; record kept in the progress table")
    return Exit.OK


CLEANUP_WORDS = {cleanup.REMOVE: "would remove", cleanup.REMOVED: "removed", cleanup.LEFT: "left",
                 cleanup.PERSON: "a person must act", cleanup.GONE: "already gone"}


def cmd_cleanup(args: argparse.Namespace) -> int:
    job = cleanup.cleanup_job(load_catalog(Path(args.institutions)), args.slug, args.apply, args.runtime.dns,
                              Path(args.previous) if args.previous else None)
    items = cleanup.run(job)
    code = cleanup.outcome(items)
    if args.output == "json":
        emit_json({"schema_version": cleanup.SCHEMA_VERSION, "institution": args.slug, "applied": args.apply,
                   "items": [i.as_dict() for i in items], "exit_code": int(code)})
        return code
    if not args.apply:
        print(f"dry run: nothing is changed; pass --apply to remove what {args.slug}'s files no longer declare")
    print(table(["action", "what", "name", "identity", "why"],
                [[CLEANUP_WORDS[i.action], i.kind, i.name, i.identity, i.reason] for i in items])
          if items else f"nothing to clean up for {args.slug}")
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
