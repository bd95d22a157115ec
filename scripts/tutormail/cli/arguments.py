"""argparse types: a wrong option value is refused by the parser (exit 2, naming the option), with
the same parsers as the runtime settings, before any file, AWS or DNS is touched; and the option
convention: `--output table|json` for data, `--format` for a form the data has, `--out PATH` for files."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tutormail import runtime
from tutormail.catalog.names import Address, canonical_name, to_ascii_domain
from tutormail.catalog.regions import SES_SMTP_REGIONS
from tutormail.exitcodes import UsageError

T = TypeVar("T")
# smtp-settings and send-test: the help of --accept-dmarc-risk.
ACCEPT_HELP = ("go on with a Cenário 2 sender blocked by DMARC (or whose DMARC is unknown), knowing receivers may "
               "reject or junk its mail; recorded with who and when")


def _type(parse: Callable[[str], T], name: str) -> Callable[[str], T]:
    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = name  # argparse names the type in its message
    return convert


def _region(text: str) -> str:
    if text not in SES_SMTP_REGIONS:
        raise ValueError(f"{text!r} has no SES SMTP endpoint (e.g. us-east-1, sa-east-1)")
    return text


def _naming_the_value(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """The parser's own reason, prefixed with the value it refused."""
    def checked(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise ValueError(f"{text!r}: {exc}") from None

    return checked


_recipient: Callable[[str], Address] = _naming_the_value(Address.parse)
_domain: Callable[[str], str] = _naming_the_value(to_ascii_domain)


def _count(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not runtime.ascii_digits(text) or int(text) < low or int(text) > 100:
            raise ValueError(f"{text!r} is not a whole number from {low} to 100")
        return int(text)

    return parse


def _key_file(text: str) -> Path:
    try:
        return runtime.readable_file(text)
    except ValueError as exc:
        raise ValueError(f"cannot read the TSIG key file: {exc}") from None


def _path(text: str) -> Path:
    # The operating system cannot take a NUL in a file name: os.open would raise ValueError, not OSError.
    if "\x00" in text:
        raise ValueError(f"{text!r} contains a NUL character, which no file name may")
    return Path(text)


def _new_file(text: str) -> Path:
    """Where a command writes a file: not a directory, and inside one (created when missing)."""
    path = _path(text)
    if not text or path.is_dir():
        raise ValueError(f"{text!r} is a directory: give the path of the file to write")
    parent = next((p for p in path.absolute().parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise ValueError(f"{text!r}: {parent} is not a directory")
    return path


def _new_directory(text: str) -> Path:
    path = _path(text)
    if not text or (path.exists() and not path.is_dir()):
        raise ValueError(f"{text!r} exists and is not a directory")
    return path


duration = _type(runtime.parse_duration, "duration")
region = _type(_region, "region")
recipient = _type(_recipient, "address")
domain = _type(_domain, "domain")
endpoint = _type(runtime.parse_host_port, "HOST:PORT")
readable_file = _type(runtime.readable_file, "file")
ca_bundle = _type(runtime.ca_bundle, "file")
tsig_key_file = _type(_key_file, "file")
directory = _type(runtime.directory, "directory")
attempts = _type(_count(1), "count")
resends = _type(_count(0), "count")
company_name = _type(canonical_name, "company")  # compared with the file's names, kept NFC
output_file = _type(_new_file, "file")
output_directory = _type(_new_directory, "directory")
# The commands that show a list of changes: --output markdown gives the same table as GFM, for a pull request.
CHANGE_OUTPUTS = ("table", "json", "markdown")


def data_format(args: argparse.Namespace, command: str, people: str) -> str:
    """The one form a command that has --format writes: --format when given, else json for --output json
    and `people` (the form read by a person) for table. Both given must agree on JSON or not (exit 2)."""
    if args.format is None:
        return "json" if args.output == "json" else people
    if args.output_given and (args.output == "json") != (args.format == "json"):
        raise UsageError(f"{command}: --output {args.output} and --format {args.format} disagree: give --format "
                         f"{args.format} alone, or --output {args.output} alone")
    return args.format
