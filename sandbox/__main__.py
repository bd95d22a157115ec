"""python -m sandbox up|down|env|advance-clock HOURS|open-link ADDRESS|reputation SLUG|account [...]|
verify-recipient ADDRESS|principal NAME POLICY... [--state DIR]"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from tutormail.catalog.problems import ConfigurationError

from . import launcher


def _on_off(text: str) -> bool:
    if text not in ("on", "off"):
        raise argparse.ArgumentTypeError("on or off")
    return text == "on"


def _account_parsers(sub) -> None:
    account = sub.add_parser("account", help="show or change the SES account's state (GetAccount)")
    account.add_argument("--production-access", type=_on_off, metavar="on|off",
                         help="off: the SES sandbox (verified recipients only, 200 a day), as a new account")
    account.add_argument("--sending", type=_on_off, metavar="on|off", help="off: the account's sending is paused")
    account.add_argument("--enforcement", choices=("HEALTHY", "PROBATION", "SHUTDOWN"))
    account.add_argument("--reset-quota", action="store_true", help="forget what was sent in the last 24 hours")
    recipient = sub.add_parser("verify-recipient",
                               help="verify an address as SES requires of recipients in the SES sandbox")
    recipient.add_argument("address")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--state", default=".sandbox", help="state directory (default: .sandbox)")
    parser.add_argument("--institutions", default="institutions")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start BIND, the AWS emulator and the SMTP stand-in")
    sub.add_parser("down", help="stop them")
    sub.add_parser("env", help="print what to export so the CLI and the CDK CLI use the sandbox")
    clock = sub.add_parser("advance-clock", help="move sandbox time forward")
    clock.add_argument("hours", type=float)
    link = sub.add_parser("open-link", help="open the last verification link mailed to an address")
    link.add_argument("address")
    health = sub.add_parser("reputation", help="set an institution's bounce/complaint rates: metrics, events, "
                            "alarms and the pause action run as in AWS")
    health.add_argument("slug")
    health.add_argument("--bounce-rate", type=float)
    health.add_argument("--complaint-rate", type=float)
    health.add_argument("--sends", type=int, default=1000, help="messages sent in the hour (default 1000)")
    health.add_argument("--source", help="the From of the emitted events")
    who = sub.add_parser("principal", help="an IAM user holding exactly the named managed policies; its "
                         "variables are written 0600 to STATE/principal-NAME.json (the key is never printed)")
    who.add_argument("name")
    who.add_argument("policies", nargs="+")
    _account_parsers(sub)
    args = parser.parse_args(argv)
    state = Path(args.state)
    try:
        if args.command == "up":
            exports = launcher.up(state, Path(args.institutions))
            print(f"sandbox up in {state}: AWS {exports['AWS_ENDPOINT_URL']}, DNS {exports['TUTORMAIL_RESOLVER']}, "
                  f"SMTP {exports['TUTORMAIL_SMTP_ENDPOINT']}", file=sys.stderr)
        elif args.command == "down":
            launcher.down(state)
        elif args.command == "env":
            for key, value in sorted(launcher.read_env(state).items()):
                print(f"export {key}={shlex.quote(value)}")
        elif args.command == "advance-clock":
            offset = launcher.advance_clock(state, args.hours)
            print(f"sandbox clock is {offset / 3600:g} h ahead", file=sys.stderr)
        elif args.command == "reputation":
            from .reputation import request

            print(json.dumps(request(launcher.read_env(state)["TUTORMAIL_SANDBOX_URL"], args.slug, args.bounce_rate,
                                     args.complaint_rate, args.sends, args.source), indent=2, sort_keys=True))
        elif args.command == "principal":
            path = launcher.save_principal(state, args.name, args.policies)
            print(path)
        elif args.command == "open-link":
            status, text = launcher.open_link(state, args.address)
            print(text)
            return 0 if status == 200 else 1
        elif args.command == "account":
            state_view = launcher.account(state, production_access=args.production_access,
                                          sending_enabled=args.sending, enforcement_status=args.enforcement,
                                          reset_quota=args.reset_quota or None)
            print(json.dumps(state_view, sort_keys=True))
        elif args.command == "verify-recipient":
            status, text = launcher.verify_recipient(state, args.address)
            print(text)
            return 0 if status == 200 else 1
    except RuntimeError as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2
    except ConfigurationError as exc:  # bad institution files: nothing started
        print(f"sandbox: institution files are invalid\n{exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
