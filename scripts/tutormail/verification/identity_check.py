"""Where each sender stands, and the one answer the phase gate needs: "is this account's sender
verified for sending?" (`check_identity(...).verified`, the gate of smtp-settings and send-test)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tutormail.aws.ses import IdentityState
from tutormail.cenario2.links import link_state
from tutormail.clock import Clock, iso
from tutormail.exitcodes import Exit
from tutormail.plan.build import InstitutionPlan
from tutormail.vocabulary import IdentityKind, Publisher, Scenario, SenderState, VerificationStatus

PLATFORM, INSTITUTION = "platform team", "institution"


@dataclass(frozen=True)
class IdentityCheck:
    identity: str
    scenario: int
    state: SenderState
    verified: bool
    missing: str
    next_action: str
    actor: str
    link_expires_at: datetime | None = None

    @property
    def exit_code(self) -> Exit:
        return {SenderState.VERIFIED: Exit.OK, SenderState.PENDING: Exit.PENDING}.get(self.state,
                                                                                     Exit.ACTION_NEEDED)


def check_identity(plan: InstitutionPlan, name: str, state: IdentityState, clock: Clock,
                   progress: dict[str, str]) -> IdentityCheck:
    planned = plan.identity(name)
    slug = plan.slug
    if not state.exists:
        return IdentityCheck(name, planned.scenario, SenderState.MISSING, False, "the identity does not exist in SES",
                             f"deploy the stack: cdk deploy {plan.stack_name} --exclusively", PLATFORM)
    if state.verified_for_sending or state.status == VerificationStatus.SUCCESS:
        return IdentityCheck(name, planned.scenario, SenderState.VERIFIED, True, "", "none: go on to phase 2", PLATFORM)
    if planned.kind == IdentityKind.DOMAIN:
        hours = plan.platform.dkim_window_hours
        if state.status in (VerificationStatus.FAILED, VerificationStatus.TEMPORARY_FAILURE):
            return IdentityCheck(name, Scenario.DNS, SenderState.FAILED, False,
                                 f"SES stopped looking for the DKIM records (its {hours} h window elapsed)",
                                 f"publish the records (tutormail dns-records {slug}), then restart DKIM "
                                 "verification: aws sesv2 put-email-identity-dkim-signing-attributes "
                                 f"--email-identity {name} --signing-attributes-origin AWS_SES", PLATFORM)
        action, actor = {
            Publisher.STACK: ("wait: the stack published the records in Route 53; SES checks them "
                              f"(tutormail verify {slug} --wait)", PLATFORM),
            Publisher.RFC2136: (f"tutormail dns-publish {slug}, then tutormail verify {slug} --wait", PLATFORM),
            Publisher.PERSON: (f"the institution publishes the records of tutormail dns-records {slug}", INSTITUTION),
        }[planned.owner]
        return IdentityCheck(name, Scenario.DNS, SenderState.PENDING, False,
                             "SES has not yet seen the three DKIM CNAMEs", action, actor)
    link = link_state(progress, name, plan.platform.link_validity_hours)
    now = clock.now()
    expired = state.status == VerificationStatus.FAILED or (link.expires_at is not None and now > link.expires_at)
    if expired:
        return IdentityCheck(name, Scenario.LINK, SenderState.EXPIRED, False,
                             "the verification link expired before it was opened",
                             f"request a new link: tutormail request-link {slug} (the institution must open it "
                             f"within {plan.platform.link_validity_hours} h)", PLATFORM, link.expires_at)
    if link.expires_at is None:
        return IdentityCheck(name, Scenario.LINK, SenderState.PENDING, False,
                             f"{name} has not opened SES's verification link",
                             f"the institution opens the link SES mailed to {name}; if it never arrived, "
                             f"tutormail request-link {slug}", INSTITUTION)
    left = link.expires_at - now
    hours, minutes = divmod(int(left.total_seconds()) // 60, 60)
    return IdentityCheck(name, Scenario.LINK, SenderState.PENDING, False,
                         f"{name} has not opened SES's verification link",
                         f"the institution opens the link SES mailed to {name} before {iso(link.expires_at)} "
                         f"({hours} h {minutes:02d} min left)", INSTITUTION, link.expires_at)

