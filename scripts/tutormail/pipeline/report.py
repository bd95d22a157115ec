"""What a pipeline job did: one JSON report (stable keys) and its Markdown summary.

Per institution (or stack) one outcome: deployed, refused (a check a person must answer), failed
(AWS said no), up to date, offboarded, cleaned, ...; each with why, and the steps after it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutormail.exitcodes import Exit, worst
from tutormail.vocabulary import SCHEMA_VERSION

DEPLOYED, REFUSED, FAILED, UP_TO_DATE = "deployed", "refused", "failed", "up to date"
# A pull request comment's body is refused past 65,536 characters (GitHub's 422 "Body is too long
# (maximum is 65536 characters)"; reports that the real cap is in bytes are the looser reading).
COMMENT_LIMIT = 65536
# A refusal is a person's decision; a stack CloudFormation failed, too (its reason says what to fix).
CODES = {REFUSED: Exit.ACTION_NEEDED, FAILED: Exit.ACTION_NEEDED}


@dataclass
class Report:
    job: str
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    codes: list[Exit] = field(default_factory=list)

    def outcome(self, name: str, outcome: str, why: list[str] | None = None, *, exit_code: int | None = None,
                **more: Any) -> None:
        """`exit_code`: what the failure was, when not the outcome's own (an AWS error after retries: 4)."""
        entry = self.entries.setdefault(name, {"name": name, "steps": {}})
        entry.update(outcome=outcome, why=list(why or []), **more)
        self.codes.append(Exit(exit_code) if exit_code is not None else CODES.get(outcome, Exit.OK))

    def step(self, name: str, step: str, exit_code: int, detail: Any = None) -> None:
        """A step after the outcome (dns-publish, verify, handoff, ...), with its exit code."""
        entry = self.entries.setdefault(name, {"name": name, "steps": {}, "outcome": "", "why": []})
        entry["steps"][step] = {"exit_code": int(exit_code), **({"detail": detail} if detail is not None else {})}
        # still pending (3) is not a failure of the job: the next run or the schedule follows it up
        if exit_code not in (Exit.OK, Exit.PENDING):
            self.codes.append(Exit(exit_code))

    def exit_code(self) -> Exit:
        return worst(self.codes)

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for entry in self.entries.values():
            found[entry["outcome"]] = found.get(entry["outcome"], 0) + 1
        return dict(sorted(found.items()))

    def as_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "job": self.job, "exit_code": int(self.exit_code()),
                "counts": self.counts(), **self.extra,
                "entries": [self.entries[name] for name in sorted(self.entries)]}


def write_json(data: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _step_word(code: int) -> str:
    return {0: "ok", 3: "pending"}.get(code, f"exit {code}")


def _steps(entry: dict[str, Any]) -> str:
    return ", ".join(f"{step} {_step_word(s['exit_code'])}" for step, s in sorted(entry["steps"].items()))


def markdown(data: dict[str, Any]) -> str:
    """The summary people read (GitHub's step summary, the pull request's comment)."""
    counts = ", ".join(f"{n} {outcome or 'other'}" for outcome, n in data["counts"].items()) or "nothing to do"
    lines = [f"## tutor-mail pipeline: {data['job']}", "", f"exit {data['exit_code']}: {counts}", ""]
    for key in ("credentials", "waves"):
        if data.get(key):
            lines.append(f"- {key}: {_cell(json.dumps(data[key], sort_keys=True))}")
    if lines[-1] != "":
        lines.append("")
    shown = [e for e in data["entries"] if e["outcome"] != UP_TO_DATE]
    if shown:
        lines += ["| name | outcome | why | steps |", "|---|---|---|---|"]
        lines += [f"| {_cell(e['name'])} | {_cell(e['outcome'])} | {_cell('; '.join(e['why']))} | {_cell(_steps(e))} |"
                  for e in shown]
    up = [e["name"] for e in data["entries"] if e["outcome"] == UP_TO_DATE]
    if up:
        lines += ["", f"{len(up)} up to date."]
    for e in data["entries"]:
        if e.get("details"):
            lines += ["", f"### {e['name']}", "", "```", str(e["details"]).rstrip(), "```"]
    return "\n".join(lines) + "\n"


def comment(data: dict[str, Any], artifact: str, limit: int = COMMENT_LIMIT) -> str:
    """The summary as a pull request comment: whole when it fits, else only what a person must answer
    (refused, failed), cut at the limit, saying where the whole summary is."""
    whole = markdown(data)
    if len(whole) <= limit:
        return whole
    needed = [e for e in data["entries"] if e["outcome"] in (REFUSED, FAILED)]
    note = (f"\n{len(data['entries']) - len(needed)} more entries are only in the artifact `{artifact}` "
            "(summary.md, report.json): this comment holds what a person must answer.\n")
    cut = f"\nCut at GitHub's comment limit: the whole summary is in the artifact `{artifact}`.\n"
    kept, size = [], max(len(note), len(cut))
    for line in markdown({**data, "entries": needed}).splitlines(keepends=True):
        if size + len(line) > limit:
            note = cut
            break
        kept.append(line)
        size += len(line)
    return "".join(kept) + note
