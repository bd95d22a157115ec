"""The one Change of dns-publish, plan-changes, cleanup and offboard: its JSON contract, the exit code
it gives, the apply that carries out exactly the planned writes, and the one table (and its Markdown) that shows it."""

from __future__ import annotations

from tutormail.cli.plan_view import action_text, changes_markdown, changes_table, changes_view
from tutormail.exitcodes import Exit
from tutormail.plan.change import Action, Change, Kind, Outcome, Plan, apply, exit_code

IDENTITY = Change(Kind.IDENTITY, "velho.com.br", Action.DELETE, "no file claims it")
RECORD = Change(Kind.RECORD, "t1._domainkey.velho.com.br", Action.DELETE, type="CNAME", of="velho.com.br",
                wanted=("t1.dkim.amazonses.com.",), found=("t1.dkim.amazonses.com.",))
KEPT = Change(Kind.RECORD, "_dmarc.velho.com.br", Action.KEEP, "holds theirs", type="TXT", of="velho.com.br")
PERSON = Change(Kind.IDENTITY, "novo.com.br", Action.PERSON, "deploy the stack first")


def test_the_json_contract_has_every_key_and_reads_back():
    assert sorted(RECORD.as_dict()) == ["action", "found", "kind", "name", "of", "outcome", "reason", "type",
                                        "wanted"]
    assert IDENTITY.as_dict()["type"] is None and IDENTITY.as_dict()["of"] is None
    for change in (IDENTITY, RECORD, KEPT, PERSON, RECORD.applied(Outcome.CHANGED)):
        assert Change.from_dict(change.as_dict()) == change


def test_a_person_is_1_a_pending_write_is_what_the_command_says_else_0():
    assert exit_code([KEPT]) == Exit.OK
    assert exit_code([KEPT, PERSON]) == Exit.ACTION_NEEDED
    assert exit_code([RECORD]) == Exit.OK and exit_code([RECORD], pending=Exit.ACTION_NEEDED) == Exit.ACTION_NEEDED
    assert exit_code([RECORD.applied()], pending=Exit.ACTION_NEEDED) == Exit.OK
    assert exit_code([RECORD.applied(Outcome.CHANGED)]) == Exit.ACTION_NEEDED  # left as it was found changed


def test_apply_makes_exactly_the_planned_writes_in_order():
    calls = []
    plan = Plan()
    plan.add(RECORD, lambda done: calls.append(("record", len(done))) or Outcome.CHANGED)
    plan.add(KEPT, lambda done: calls.append("never: keep writes nothing") or Outcome.DONE)
    plan.add(IDENTITY, lambda done: Outcome.HELD if done[0].outcome == Outcome.CHANGED else Outcome.DONE)
    plan.add(PERSON)
    assert calls == []  # planning writes nothing
    applied = apply(plan)
    assert calls == [("record", 0)]
    assert [c.outcome for c in applied] == [Outcome.CHANGED, None, Outcome.HELD, None]
    assert [c.outcome for c in plan.changes] == [None] * 4  # the plan itself is unchanged (a dry run shows it)


def test_one_table_shows_the_plan_and_then_what_was_done():
    assert [action_text(c) for c in (RECORD, KEPT, PERSON)] == ["would delete", "keep", "a person must act"]
    assert [action_text(RECORD.applied(o)) for o in Outcome] == [
        "deleted", "already gone", "changed since read: left, a person must act", "held back"]
    shown = changes_table([RECORD, KEPT]).splitlines()
    assert shown[0].split() == ["action", "what", "name", "of", "why"]
    assert shown[2].split()[:5] == ["would", "delete", "record", "t1._domainkey.velho.com.br", "CNAME"]
    assert "holds theirs" in shown[3]


def test_markdown_shows_the_same_rows_escaped_one_line_each():
    hostile = Change(Kind.IDENTITY, "a|b_c.com.br", Action.PERSON, "line one\nline two <script>*x*</script> [l](u)")
    shown = changes_markdown([RECORD, KEPT, hostile]).splitlines()
    assert shown[:2] == ["| action | what | name | of | why |", "|---|---|---|---|---|"]
    assert len(shown) == 5  # a reason's line break does not break the table
    assert shown[2] == "| would delete | record | t1.\\_domainkey.velho.com.br CNAME | velho.com.br |  |"
    assert shown[4] == ("| a person must act | identity | a\\|b\\_c.com.br |  | line one line two "
                        "\\<script\\>\\*x\\*\\</script\\> \\[l\\](u) |")
    # every row has the header's five cells: no unescaped | inside a cell
    assert {row.replace("\\|", "").count("|") for row in shown} == {6}
    assert changes_view([RECORD], "markdown") == changes_markdown([RECORD])
    assert changes_view([RECORD], "table") == changes_table([RECORD])
