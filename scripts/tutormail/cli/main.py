"""`tutormail`: thin command entry points over the library. Data on stdout, logs on stderr."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from tutormail import __version__
from tutormail.catalog.problems import ConfigurationError
from tutormail.cli import (
    add_company,
    arguments,
    cleanup,
    dmarc,
    dns_publish,
    dns_records,
    handoff,
    offboard,
    out_of_date,
    pause,
    pipeline,
    plan,
    plan_changes,
    platform_settings,
    preflight,
    receiving_activate,
    reputation,
    request_link,
    resume,
    schema,
    send_test,
    smtp_password,
    smtp_settings,
    status,
    validate,
    verify,
)
from tutormail.exitcodes import Exit, TutormailError, help_text
from tutormail.runtime import Runtime

log = logging.getLogger("tutormail")

# Every command is a module with register(add); `tutormail --help` lists them in this order.
COMMANDS = (validate, plan, schema, preflight, dns_records, dns_publish, verify, request_link, smtp_password,
            smtp_settings, send_test, handoff, add_company, status, dmarc, reputation, pause, resume,
            out_of_date, plan_changes, offboard, cleanup, platform_settings, pipeline, receiving_activate)


# What an output a few commands have shows (status: html; the commands that list changes: markdown).
OUTPUT_TEXT = {"html": "the status page", "markdown": "the changes as a GFM table, for a pull request"}


def _common_options(parser: argparse.ArgumentParser, defaults: bool,
                    outputs: tuple[str, ...] = ("table", "json")) -> None:
    """The options every command takes, before or after the command's name. After it they leave
    no default behind (SUPPRESS), so `tutormail --institutions DIR validate` keeps DIR."""
    def default(value):
        return value if defaults else argparse.SUPPRESS

    parser.add_argument("--institutions", metavar="DIR", type=arguments.directory, default=default(None),
                        help="directory of institution files (default: ./institutions, or "
                             "$TUTORMAIL_INSTITUTIONS)")
    more = "".join(f", {name}: {OUTPUT_TEXT[name]}" for name in outputs if name in OUTPUT_TEXT)
    parser.add_argument("--output", choices=outputs, default=default(None),
                        help=f"table for people, json (stable keys, schema_version) for pipelines{more}")
    parser.add_argument("-v", "--verbose", action="store_true", default=default(False),
                        help="debug logs on stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tutormail",
        description="A verified, least-privilege Amazon SES sender for every Tutor institution.",
        epilog=help_text())
    _common_options(parser, defaults=True)
    parser.add_argument("--version", action="version", version=f"tutormail {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help_text: str,
            outputs: tuple[str, ...] = ("table", "json")) -> argparse.ArgumentParser:
        # A parent of its own: argparse shares a parent's actions, and status has its own outputs.
        common = argparse.ArgumentParser(add_help=False)
        _common_options(common, defaults=False, outputs=outputs)
        command = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        command.set_defaults(func=func)
        return command

    for command in COMMANDS:
        command.register(add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        args.runtime = Runtime.from_environ(os.environ)
        args.institutions_given = args.institutions is not None or args.runtime.institutions is not None
        args.institutions = args.institutions or args.runtime.institutions or Path("institutions")
        # Whether --output was given: a command with --format refuses the two when they disagree.
        args.output_given, args.output = args.output is not None, args.output or "table"
        return int(args.func(args))
    except ConfigurationError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return exc.exit_code
    except TutormailError as exc:
        log.error("%s", exc)
        return exc.exit_code
    except KeyboardInterrupt:
        log.error("interrupted")
        return Exit.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
