"""The institutions a command names: one SLUG loaded as its plan, SLUG... or --all, or several run one after
the other."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from tutormail.aws.client import ServiceError
from tutormail.cli.output import emit_json
from tutormail.exitcodes import Exit, UsageError, worst
from tutormail.plan.build import InstitutionPlan, plan_for
from tutormail.plan.loader import load_catalog

log = logging.getLogger("tutormail")


def selected(args: argparse.Namespace, command: str) -> list[str] | None:
    """The slugs of a `SLUG... | --all` command (status, preflight, reputation); None: every institution."""
    if args.all and args.slugs:
        raise UsageError(f"{command}: give SLUG ... or --all, not both")
    if not args.all and not args.slugs:
        raise UsageError(f"{command}: name institutions (SLUG ...) or use --all")
    return None if args.all else args.slugs


def load_plan(args: argparse.Namespace) -> InstitutionPlan:
    catalog = load_catalog(Path(args.institutions), only=[args.slug])
    return plan_for(catalog, args.slug)


class Result(Protocol):
    """What a use case returns per domain or identity: `as_dict()` is its JSON."""

    def as_dict(self) -> dict[str, Any]: ...


def each_institution(args: argparse.Namespace, key: str,
                     run: Callable[[InstitutionPlan], tuple[Sequence[Result], Exit]],
                     show: Callable[[str, Sequence[Any]], None], **extra: Any) -> int:
    """Runs a command for each SLUG: one that fails (AWS, DNS) is reported and the others go on;
    the exit code is the worst one."""
    catalog = load_catalog(Path(args.institutions), only=args.slugs)
    institutions, codes = [], []
    for slug in args.slugs:
        entry: dict[str, Any] = {"institution": slug}
        found: Sequence[Result] = []
        more: list[dict] = []  # institution-wide findings a command may add (verify: SMTP key drift)
        try:
            found, code, *more = run(plan_for(catalog, slug))
            entry.update(*more)
        except ServiceError as exc:
            log.error("%s: %s", slug, exc)
            code, entry["error"] = Exit.SERVICE_ERROR, str(exc)
        entry[key] = [f.as_dict() for f in found]
        entry["exit_code"] = int(code)
        institutions.append(entry)
        codes.append(code)
        if args.output != "json":
            show(slug, found, *more)
    code = worst(codes)
    if args.output == "json":
        emit_json({"exit_code": int(code), **extra, "institutions": institutions})
    return code
