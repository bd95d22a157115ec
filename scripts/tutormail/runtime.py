"""Runtime settings: every `TUTORMAIL_*` variable (and the AWS endpoint), read once at start-up into
one object that `cli.main` passes down. A wrong value ends the command with exit 2 naming the
variable, before anything is read from AWS or DNS. README lists the variables.

The value parsers here are shared with the command-line options (cli/arguments.py), so
`--endpoint` and `$TUTORMAIL_SMTP_ENDPOINT` accept and refuse the same text.
"""

from __future__ import annotations

import ipaddress
import math
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from tutormail.catalog.names import is_host_name
from tutormail.clock import Clock, read_offset
from tutormail.dnsclient.resolver import TIMEOUT as DNS_TIMEOUT
from tutormail.dnsclient.resolver import DnsEndpoints
from tutormail.exitcodes import UsageError

DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
LONGEST_WAIT = 7 * 86400  # SES gives up on DKIM after 72 h: a longer wait is a typo


def ascii_digits(text: str) -> bool:
    """Only 0-9: str.isdigit() also takes "²" (which int() refuses) and "٥" (which int() reads as 5)."""
    return text.isascii() and text.isdigit()


def parse_port(text: str) -> int:
    if not ascii_digits(text) or not 1 <= int(text) <= 65535:
        raise ValueError(f"{text!r} is not a port (1-65535)")
    return int(text)


def parse_host_port(text: str, default_port: int | None = None) -> tuple[str, int]:
    """`host:port`, `[v6]:port`, or `host` alone when a default port exists."""
    host, sep, port = text.rpartition(":")
    if text.startswith("[") and "]" in text:
        host, _, rest = text[1:].partition("]")
        sep, port = (":", rest[1:]) if rest.startswith(":") else ("", "")
    elif not sep or ":" in host:  # no port, or a bare IPv6 address
        host, port = text, ""
    if not port:
        if default_port is None:
            raise ValueError(f"{text!r} is not HOST:PORT")
        number = default_port
    else:
        number = parse_port(port)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not is_host_name(host):
            raise ValueError(f"{host!r} in {text!r} is neither an IP address nor a host name") from None
    return host, number


def parse_ip_port(text: str, default_port: int = 53) -> tuple[str, int]:
    """A DNS server to ask: an IP address (a name would need a resolver to find it)."""
    host, port = parse_host_port(text, default_port)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{host!r} is not an IP address") from None
    return host, port


def parse_duration(text: str) -> float:
    """`90s`, `10m`, `2h`, `1d` or plain seconds, finite and positive."""
    number, unit = (text[:-1], text[-1]) if text[-1:] in DURATION_UNITS else (text, "s")
    try:
        seconds = float(number) * DURATION_UNITS[unit]
    except ValueError:
        raise ValueError(f"{text!r} is not a duration (e.g. 90s, 10m, 2h)") from None
    if not math.isfinite(seconds) or seconds <= 0 or seconds > LONGEST_WAIT:
        raise ValueError(f"{text!r} must be a positive duration of at most 7 days (e.g. 90s, 10m, 2h)")
    return seconds


def dns_timeout(text: str) -> float:
    """Seconds one DNS question waits: a duration, at most a minute (a longer one is a typo)."""
    seconds = parse_duration(text)
    if seconds > 60:
        raise ValueError(f"{text!r} is longer than a minute (e.g. 3, 0.5s)")
    return seconds


def readable_file(text: str) -> Path:
    path = Path(text)
    if not text or not path.is_file():
        raise ValueError(f"{text!r} is not a file" + (" (it is a directory)" if text and path.is_dir() else ""))
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise ValueError(f"cannot read {text!r}: {exc.strerror}") from None
    return path


def ca_bundle(text: str) -> Path:
    """A file of PEM CA certificates that TLS can load (the check send-test's handshake would make,
    made before anything is sent)."""
    path = readable_file(text)
    try:
        ssl.create_default_context(cafile=str(path))
    except (ssl.SSLError, ValueError, OSError) as exc:
        raise ValueError(f"{text!r} holds no CA certificate TLS can load (PEM expected): "
                         f"{getattr(exc, 'reason', None) or exc}") from None
    return path


def directory(text: str) -> Path:
    path = Path(text)
    if not text or not path.is_dir():
        raise ValueError(f"{text!r} is not a directory")
    return path


def aws_endpoint(text: str) -> str:
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        raise ValueError(f"{text!r} is not an http(s)://host[:port] URL")
    return text


@dataclass(frozen=True)
class Runtime:
    """What the environment says about where to find things; defaults are the real services."""

    institutions: Path | None = None  # None: ./institutions unless --institutions
    dns: DnsEndpoints = field(default_factory=DnsEndpoints)
    smtp_endpoint: tuple[str, int] | None = None  # None: the region's SES endpoint
    smtp_ca_bundle: Path | None = None  # None: the system's CA certificates
    clock: Clock = field(default_factory=Clock)
    clock_file: Path | None = None  # the sandbox's: a long run (the pipeline) follows it as it moves
    cdk_method: str | None = None  # `cdk deploy --method` of the pipeline; None: the CLI's default

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Runtime:
        def value(name: str, parse):
            text = environ.get(name)
            if text is None or text == "":
                return None
            try:
                return parse(text)
            except ValueError as exc:
                raise UsageError(f"${name}: {exc}") from None

        value("AWS_ENDPOINT_URL", aws_endpoint)  # boto3 reads it; a wrong one is still our user's input
        resolver = value("TUTORMAIL_RESOLVER", parse_ip_port)
        offset = value("TUTORMAIL_CLOCK_FILE", lambda text: read_offset(readable_file(text)))
        return cls(
            institutions=value("TUTORMAIL_INSTITUTIONS", directory),
            dns=DnsEndpoints(resolver=resolver, direct_port=value("TUTORMAIL_DNS_PORT", parse_port) or 53,
                             timeout=value("TUTORMAIL_DNS_TIMEOUT", dns_timeout) or DNS_TIMEOUT),
            smtp_endpoint=value("TUTORMAIL_SMTP_ENDPOINT", parse_host_port),
            smtp_ca_bundle=value("TUTORMAIL_SMTP_CA_BUNDLE", ca_bundle),
            clock=Clock(offset or timedelta(0)),
            clock_file=value("TUTORMAIL_CLOCK_FILE", Path),
            cdk_method=value("TUTORMAIL_CDK_METHOD", cdk_method))


# Every variable the CLI reads, for README and the table-driven test.
VARIABLES = ("AWS_ENDPOINT_URL", "TUTORMAIL_INSTITUTIONS", "TUTORMAIL_RESOLVER", "TUTORMAIL_DNS_PORT",
             "TUTORMAIL_DNS_TIMEOUT", "TUTORMAIL_SMTP_ENDPOINT", "TUTORMAIL_SMTP_CA_BUNDLE", "TUTORMAIL_CLOCK_FILE",
             "TUTORMAIL_CDK_METHOD")
CDK_METHODS = ("change-set", "direct", "prepare-change-set")


def cdk_method(text: str) -> str:
    """How `cdk deploy` updates a stack (https://docs.aws.amazon.com/cdk/v2/guide/ref-cli-cmd-deploy.html)."""
    if text not in CDK_METHODS:
        raise ValueError(f"{text!r} is not one of {', '.join(CDK_METHODS)}")
    return text
