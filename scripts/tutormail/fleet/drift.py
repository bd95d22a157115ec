"""`status --drift`: the drift `verify` reports (verification/drift.py), for each institution that
`status` names, as a `drift` field of every row.

Opt-in, because it is what the batched sweep avoids: per institution one SES GetEmailIdentity per
identity (DKIM status and tokens), one IAM ListAccessKeys (the SMTP key's age), and the records of
every verified domain asked of each of its authoritative servers. A row's drift is that of its
sender's identity plus the institution's SMTP key (the key sends for every account).

A record that could not be checked (the resolver or a server hung, refused, failed or answered
garbage) is not "no drift": the row's `drift_unchecked` says why and that institution's code is 4;
the other institutions are still checked.
"""

from __future__ import annotations

from typing import Any

from tutormail.aws import client as aws
from tutormail.aws.ses import Ses
from tutormail.aws.smtp_keys import access_keys
from tutormail.catalog.model import Catalog
from tutormail.cenario1.check import Finding, check_domain, not_checked
from tutormail.cenario1.records import records_for
from tutormail.exitcodes import Exit, worst
from tutormail.fleet.status import StatusRow
from tutormail.plan.build import InstitutionPlan, build_plan
from tutormail.services import Services
from tutormail.verification.drift import identity_drift, key_drift
from tutormail.verification.identity_check import check_identity
from tutormail.vocabulary import IdentityKind

SMTP_KEY = "smtp_key"


def institution_drift(plan: InstitutionPlan, ses: Ses, iam: Any, services: Services
                      ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Drift lines by identity name, and the SMTP key's under SMTP_KEY; and by identity name, why
    its records could not be checked."""
    found: dict[str, list[str]] = {}
    unchecked: dict[str, list[str]] = {}
    for identity in plan.identities:
        state = ses.identity(identity.name)
        verified = check_identity(plan, identity.name, state, services.clock, {}).verified
        findings: list[Finding] = []
        if verified and identity.kind == IdentityKind.DOMAIN:
            findings, problem = check_domain(records_for(plan, identity, state), services.dns)
            unchecked[identity.name] = not_checked(findings, problem)
        found[identity.name] = identity_drift(verified, state.dkim_status, findings)
    found[SMTP_KEY] = key_drift(plan, access_keys(plan, iam) or [], services.clock.now())
    return found, unchecked


def _code(row: StatusRow) -> Exit:
    return Exit.SERVICE_ERROR if row.drift_unchecked else Exit.ACTION_NEEDED if row.drift else Exit.OK


def add_drift(catalog: Catalog, rows: list[StatusRow], services: Services, checked: bool, iam: Any = None) -> Exit:
    """Fills each status row's `drift` and `drift_unchecked` (None when not `checked`); exit 1 when
    any row has drift (a person must act), 4 when some record could not be checked."""
    if not checked:
        for row in rows:
            row.drift = row.drift_unchecked = None
        return Exit.OK
    iam = iam or aws.Clients(catalog.platform.region)["iam"]
    ses = services.ses(catalog.platform)
    plans: dict[str, InstitutionPlan] = {}
    drift: dict[str, tuple[dict[str, list[str]], dict[str, list[str]]]] = {}
    for row in rows:
        slug = row.institution
        if slug not in plans:
            plans[slug] = build_plan(catalog.institutions[slug], catalog.platform)
            drift[slug] = institution_drift(plans[slug], ses, iam, services)
        sender = next(s for s in plans[slug].senders if (s.company, s.account) == (row.company, row.account))
        found, unchecked = drift[slug]
        row.drift = found[sender.identity] + found[SMTP_KEY]
        row.drift_unchecked = unchecked.get(sender.identity, [])
    return worst(_code(row) for row in rows)


def drift_lines(rows: list[StatusRow]) -> list[str]:
    """The rows' drift, and what could not be checked, as lines under the table: each once per address."""
    lines: list[str] = []
    for row in rows:
        texts = [f"drift: {row.institution} {row.address}: {line}" for line in row.drift or ()]
        texts += [f"drift not checked: {row.institution} {row.address}: {line}" for line in row.drift_unchecked or ()]
        lines += [text for text in texts if text not in lines]
    return lines
