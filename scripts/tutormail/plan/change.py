"""One change of a plan: what it acts on, what is to be done to it and why, and, once applied, what
happened. `dns-publish`, `plan-changes`, `cleanup` and `offboard` plan a list of these without
writing anything; their apply carries out exactly the changes that write and returns them with an
outcome; a dry run stops before the apply (as octoDNS's `Manager.sync` returns before `Plan.apply`).
`as_dict()` is the JSON contract of every one of those commands."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from tutormail.exitcodes import Exit

SCHEMA_VERSION = 2  # of the output of those four commands; 2: this one shape for all four


class Kind(StrEnum):
    RECORD = "record"  # one record set: "NAME TYPE"
    IDENTITY = "identity"
    STACK = "stack"
    CONFIGURATION_SET = "configuration-set"
    ACCESS_KEY = "access-key"  # an IAM access key of the SMTP user
    SMTP_KEY = "smtp-key"  # a key generation the stack declares (infra/smtp_user.py)
    FROM_ADDRESS = "from-address"  # an address the SMTP user may send as
    MARK = "mark"  # a progress mark


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    KEEP = "keep"  # already as wanted, already gone, or not ours to touch: the reason says which
    PERSON = "person"  # left for a person, the reason says what to do


class Outcome(StrEnum):
    DONE = "done"
    GONE = "already-gone"  # gone between the plan and the apply
    CHANGED = "changed"  # changed since it was read, so left in place: a person looks
    HELD = "held"  # not done: a change before it in the plan was left for a person


WRITES = frozenset({Action.CREATE, Action.UPDATE, Action.DELETE})


@dataclass(frozen=True)
class Change:
    kind: Kind
    name: str
    action: Action
    reason: str = ""
    type: str = ""  # a record's type
    of: str = ""  # what it belongs to (a record's identity, a key's user); "" when it stands alone
    wanted: tuple[str, ...] = ()
    found: tuple[str, ...] = ()
    outcome: Outcome | None = None  # None: not applied (a dry run, or nothing to write)

    @property
    def writes(self) -> bool:
        return self.action in WRITES

    def applied(self, outcome: Outcome = Outcome.DONE, reason: str | None = None) -> Change:
        return replace(self, outcome=outcome, reason=self.reason if reason is None else reason)

    @property
    def label(self) -> str:
        return f"{self.name} {self.type}" if self.type else f"{self.kind.replace('-', ' ')} {self.name}"

    @property
    def for_a_person(self) -> bool:
        return self.action == Action.PERSON or self.outcome == Outcome.CHANGED

    def as_dict(self) -> dict[str, Any]:
        return {"kind": str(self.kind), "name": self.name, "type": self.type or None, "action": str(self.action),
                "reason": self.reason or None, "of": self.of or None, "wanted": list(self.wanted),
                "found": list(self.found), "outcome": str(self.outcome) if self.outcome else None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        """The change `as_dict()` wrote (a renderer given the JSON form shows the same object)."""
        return cls(Kind(data["kind"]), data["name"], Action(data["action"]), data["reason"] or "", data["type"] or "",
                   data["of"] or "", tuple(data["wanted"]), tuple(data["found"]),
                   Outcome(data["outcome"]) if data["outcome"] else None)


def exit_code(changes: Iterable[Change], pending: Exit = Exit.OK) -> Exit:
    """1 when a person must act; `pending` when writes are planned and not applied (a dry run), which a
    command that wants its dry run to fail a pipeline sets to 1; else 0."""
    changes = list(changes)
    if any(c.for_a_person for c in changes):
        return Exit.ACTION_NEEDED
    return pending if any(c.writes and c.outcome is None for c in changes) else Exit.OK


# Given the changes applied before it, makes one write: its outcome, or the outcome and why.
Write = Callable[[list[Change]], "Outcome | tuple[Outcome, str]"]


@dataclass
class Plan:
    """The changes, in order, and for each one that writes the call that makes it (not yet made)."""
    changes: list[Change] = field(default_factory=list)
    writes: dict[int, Write] = field(default_factory=dict)  # by position in `changes`

    def add(self, change: Change, write: Write | None = None) -> None:
        if write is not None:
            self.writes[len(self.changes)] = write
        self.changes.append(change)

    def extend(self, other: Plan) -> None:
        for position, change in enumerate(other.changes):
            self.add(change, other.writes.get(position))


def apply(plan: Plan) -> list[Change]:
    """Carries out exactly the planned writes, in order; returns every change, those with their outcome."""
    done: list[Change] = []
    for position, change in enumerate(plan.changes):
        write = plan.writes.get(position)
        if write is None or not change.writes:
            done.append(change)
            continue
        result = write(done)
        outcome, reason = result if isinstance(result, tuple) else (result, None)
        done.append(change.applied(outcome, reason))
    return done
