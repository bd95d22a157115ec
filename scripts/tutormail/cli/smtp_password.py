"""`tutormail smtp-password --region R`: the SES SMTP password of a secret access key read on standard input."""

from __future__ import annotations

import argparse
import sys

from tutormail.cli import arguments
from tutormail.exitcodes import Exit, UsageError
from tutormail.tutor_setup.smtp_password import smtp_password


def cmd_smtp_password(args: argparse.Namespace) -> int:
    try:
        secret = sys.stdin.readline().strip() if sys.stdin is not None else ""
    except (OSError, ValueError) as exc:  # closed, or not text (UnicodeDecodeError is a ValueError)
        raise UsageError(f"standard input: cannot read the secret access key ({exc})") from None
    if not secret:
        raise UsageError("standard input: give the secret access key on standard input (it is empty or closed)")
    if not (secret.isascii() and secret.isprintable()):
        raise UsageError("standard input: a secret access key is printable ASCII text (this is not)")
    print(smtp_password(secret, args.region))
    return Exit.OK


def register(add) -> None:
    password = add("smtp-password", cmd_smtp_password,
                   "derive the SES SMTP password from a secret access key read on standard input")
    password.add_argument("--region", required=True, type=arguments.region)
