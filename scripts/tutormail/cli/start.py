"""The installed `tutormail` command's entry point. Ctrl-C can come while Python is still importing
boto3 and the CDK-free library (a second or more on a busy runner), before `main` and its own
KeyboardInterrupt handler exist: here it ends as it does later, exit 130 and one line, no traceback.
Nothing but the standard library is imported before the handler is in place."""

from __future__ import annotations

import signal
import sys

INTERRUPTED = 130  # tutormail.exitcodes.Exit.INTERRUPTED, not imported: importing is what may be cut short


def run() -> None:
    cut_short = False
    try:
        try:
            from tutormail.cli.main import main

            code = main()
        finally:
            # The work is over (or cut short): a Ctrl-C during the interpreter's shutdown (it joins the
            # thread pools) would otherwise end the process by the signal (-2) instead of with its code.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    except KeyboardInterrupt:
        cut_short = True
    if cut_short:
        print("ERROR tutormail: interrupted", file=sys.stderr)
        code = INTERRUPTED
    sys.exit(code)
