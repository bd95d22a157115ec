"""The senders a command acts on (`--company`, `--account`), chosen from the plan alone."""

from __future__ import annotations

from tutormail.catalog.problems import ConfigurationError, Problem
from tutormail.plan.build import InstitutionPlan, Sender


def select_senders(plan: InstitutionPlan, company: str | None, account: str | None) -> list[Sender]:
    chosen = [s for s in plan.senders if (company is None or s.company == company)
              and (account is None or s.account == account)]
    if not chosen:
        companies = sorted({s.company for s in plan.senders})
        accounts = sorted({s.account for s in plan.senders if company is None or s.company == company})
        raise ConfigurationError([Problem(plan.institution.source, 0, "--company/--account",
                                          f"no such account (companies: {', '.join(companies)}; "
                                          f"accounts: {', '.join(accounts)})")])
    return chosen
