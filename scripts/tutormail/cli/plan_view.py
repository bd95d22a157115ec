"""`tutormail plan`: the plan as data (JSON) and as tables; the changes of a plan as a table or in Markdown."""

from __future__ import annotations

from typing import Any, TextIO

from tutormail.cenario2.dmarc import DmarcLookups, domain_of
from tutormail.cli.output import section, table
from tutormail.cli.preflight import OFFLINE, report_text
from tutormail.dnsclient.resolver import DnsEndpoints
from tutormail.markdown import markdown_text
from tutormail.plan.build import InstitutionPlan
from tutormail.plan.change import Action, Change, Outcome
from tutormail.preflight.check import PreflightRun

SCENARIO_TEXT = {1: "Cenário 1 (DNS)", 2: "Cenário 2 (link)"}
DMARC_TEXT = {"publish": "we publish _dmarc", "keep": "theirs, kept", "inherit": "the parent domain's"}


ACTION_TEXT = {Action.CREATE: "create", Action.UPDATE: "update", Action.DELETE: "delete", Action.KEEP: "keep",
               Action.PERSON: "a person must act"}
DONE_TEXT = {Action.CREATE: "created", Action.UPDATE: "updated", Action.DELETE: "deleted"}
OUTCOME_TEXT = {Outcome.GONE: "already gone", Outcome.CHANGED: "changed since read: left, a person must act",
                Outcome.HELD: "held back"}


def action_text(change: Change) -> str:
    """What is to be done (a dry run: "would ..."), or once applied what was done."""
    if change.outcome == Outcome.DONE:
        return DONE_TEXT[change.action]
    if change.outcome is not None:
        return OUTCOME_TEXT[change.outcome]
    return f"would {ACTION_TEXT[change.action]}" if change.writes else ACTION_TEXT[change.action]


CHANGE_COLUMNS = ("action", "what", "name", "of", "why")


def _change_rows(changes: list[Change]) -> list[list[Any]]:
    return [[action_text(c), c.kind, f"{c.name} {c.type}".strip(), c.of, c.reason] for c in changes]


def changes_table(changes: list[Change]) -> str:
    """The one table of changes, the same in a dry run and in the apply."""
    return table(CHANGE_COLUMNS, _change_rows(changes))


def changes_markdown(changes: list[Change]) -> str:
    """The same rows as a GFM table, for a pull request or a ticket: names and reasons come from files
    and AWS, so each cell is escaped and kept on one line (a table row cannot hold a line break)."""
    def cell(value: Any) -> str:
        return markdown_text(" ".join(("" if value is None else str(value)).split()))

    return "\n".join(["| " + " | ".join(CHANGE_COLUMNS) + " |", "|" + "---|" * len(CHANGE_COLUMNS),
                      *("| " + " | ".join(cell(v) for v in row) + " |" for row in _change_rows(changes))])


def changes_view(changes: list[Change], output: str) -> str:
    """The changes as --output asks: markdown, else the table (json is written by the command)."""
    return changes_markdown(changes) if output == "markdown" else changes_table(changes)


def plan_data(plan: InstitutionPlan) -> dict[str, Any]:
    inst = plan.institution
    identities, records = [], []
    for identity in plan.identities:
        identities.append({
            "name": identity.name, "display": identity.display, "kind": identity.kind,
            "scenario": identity.scenario, "provider": identity.provider,
            "records_published_by": identity.owner, "mail_from": identity.mail_from,
            "dmarc": identity.dmarc if identity.kind == "domain" else None,
        })
        records.extend({"identity": r.identity, "name": r.name, "type": r.type, "value": r.value,
                        "purpose": r.purpose, "ttl": r.ttl, "published_by": identity.owner}
                       for r in plan.records(identity))
    companies = []
    for company in inst.companies:
        companies.append({
            "name": company.name, "logo": company.logo,
            "accounts": [{"account": s.account, "address": s.address_display, "mailbox": s.mailbox,
                          "identity": s.identity, "scenario": s.scenario,
                          "platform_default": s.is_platform_default}
                         for s in plan.senders if s.company == company.name],
            "rules": dict(company.rules),
        })
    return {
        "institution": {"name": inst.name, "slug": inst.slug, "source": inst.source},
        "stack": plan.stack_name,
        "region": plan.platform.region,
        "identities": identities,
        "records": records,
        "configuration_set": plan.configuration_set,
        "smtp_user": {"name": plan.smtp_user_name, "secret": plan.secret_name,
                      "key_generations": list(plan.key_generations),
                      "from_addresses": list(plan.from_addresses)},
        "companies": companies,
    }


def dmarc_warnings(plan: InstitutionPlan, endpoints: DnsEndpoints) -> list[dict[str, Any]]:
    """The DMARC pre-flight of every Cenário 2 address (DNS look-ups)."""
    found = []
    verdicts = DmarcLookups(endpoints).verdicts(domain_of(i.name) for i in plan.identities if i.kind == "email")
    for identity in plan.identities:
        if identity.kind == "email":
            finding = verdicts[domain_of(identity.name)]
            if finding.warning:
                found.append({"identity": identity.name, "domain": finding.domain, "record": finding.record,
                              "policy": finding.policy, "state": finding.state, "warning": finding.warning})
    return found


def print_plan(plan: InstitutionPlan, out: TextIO, warnings: list[dict[str, Any]] = (),
               preflight: PreflightRun | None = None) -> None:
    """`preflight`: None when it did not run (--offline)."""
    data = plan_data(plan)
    inst = data["institution"]
    out.write(f"Institution {inst['name']} ({inst['slug']}), stack {data['stack']}, "
              f"region {data['region']}\n\n")
    section("Identities (SES)", table(
        ["identity", "kind", "verified by", "records published by", "DMARC"],
        [[i["display"], i["kind"], SCENARIO_TEXT[i["scenario"]], i["records_published_by"] or "-",
          DMARC_TEXT.get(i["dmarc"], "-")] for i in data["identities"]]), out)
    section("DNS records (DKIM tokens are known after deploy)", table(
        ["name", "type", "value", "published by"],
        [[r["name"], r["type"], r["value"], r["published_by"]] for r in data["records"]]), out)
    user = data["smtp_user"]
    section("SMTP user", table(["field", "value"], [
        ["IAM user", user["name"]], ["secret", user["secret"]],
        ["key generation(s)", ", ".join(map(str, user["key_generations"]))],
        ["configuration set", data["configuration_set"]],
        ["may send as", ", ".join(user["from_addresses"])]]), out)
    for company in data["companies"]:
        section(f"Company {company['name']}: accounts", table(
            ["account", "De/Remetente", "verified by"],
            [[a["account"], a["mailbox"], SCENARIO_TEXT[a["scenario"]]] for a in company["accounts"]]), out)
        if company["rules"]:
            section(f"Company {company['name']}: rules", table(
                ["Tutor rule", "account"], sorted(company["rules"].items())), out)
    for warning in warnings:
        section(f"WARNING {warning['identity']}", warning["warning"], out)
    section("Preflight (what is there now)", OFFLINE if preflight is None else "\n".join(
        report_text(r) for r in preflight.institutions), out)
