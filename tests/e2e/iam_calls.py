"""What each command called as its principal, from the sandbox's own IAM decisions, compared with
the one table the operator policy is built from (tutormail.aws.permissions)."""

from __future__ import annotations

import json
import urllib.request
from collections import defaultdict

from tests.conftest import run_cli


def iam_decisions(env) -> list[dict]:
    with urllib.request.urlopen(f"{env['TUTORMAIL_SANDBOX_URL']}/_sandbox/iam-decisions") as response:  # noqa: S310
        return json.loads(response.read())["decisions"]


class CallLog:
    """Runs the installed command and keeps, per command, the IAM actions its principal was decided on."""

    def __init__(self) -> None:
        self.calls: dict[str, set[str]] = defaultdict(set)

    def run(self, env, *args):
        before = len(iam_decisions(env))
        result = run_cli(*args, env=env)
        self.calls[args[0]].update(d["action"] for d in iam_decisions(env)[before:])
        return result

    def differences(self, commands: set[str], receiving: bool = False
                    ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """(called but not in the table, in the table but never called), for these commands; the
        table's one-time migration rows may go uncalled, and its receiving rows unless `receiving`."""
        from tutormail.aws.permissions import COMMAND_ACTIONS

        table: dict[str, set[str]] = defaultdict(set)
        for grant in COMMAND_ACTIONS:
            table[grant.command].add(grant.action)
        once = {(g.command, g.action) for g in COMMAND_ACTIONS if g.migration or (g.receiving and not receiving)}
        missing = {c: sorted(a - table[c]) for c, a in self.calls.items() if a - table[c]}
        unused = {c: sorted(x for x in table[c] - self.calls.get(c, set()) if (c, x) not in once)
                  for c in commands}
        return missing, {c: a for c, a in unused.items() if a}
