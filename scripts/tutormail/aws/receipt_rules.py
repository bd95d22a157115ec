"""The account's active receipt rule set (SES v1; issue 25).

One receipt rule set is active per account and region
(https://docs.aws.amazon.com/ses/latest/DeveloperGuide/receiving-email-receipt-rule-set.html), and no
CloudFormation property activates one
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ses-receiptruleset.html):
SetActiveReceiptRuleSet does it, and would silently switch off another application's receiving
(https://docs.aws.amazon.com/ses/latest/APIReference/API_SetActiveReceiptRuleSet.html). So tutor-mail's set
is activated only when no set is active, and another active set is a conflict for a person
(`preflight --platform` and `receiving-activate` report it). Run by the platform's deployer, as
`preflight --platform` is: the operator's policy holds no receipt-rule action.
"""

from __future__ import annotations

from dataclasses import dataclass

from tutormail.aws.client import call, client
from tutormail.exitcodes import Exit
from tutormail.names import RECEIPT_RULE_SET


@dataclass(frozen=True)
class ActiveRuleSet:
    region: str
    active: str | None  # the active set's name; None: no set is active (nothing is received)
    exists: bool = True  # tutor-mail's set exists (TutorMail-Platform deployed with receiving:)
    activated: bool = False  # this run made it active

    @property
    def conflict(self) -> str:
        if self.active is not None and self.active != RECEIPT_RULE_SET:
            return (f"the active receipt rule set in {self.region} is {self.active!r}, not tutor-mail's: one set is "
                    "active per account and region, and activating "
                    f"{RECEIPT_RULE_SET} would stop that set's receiving. Move that set's rules into "
                    f"{RECEIPT_RULE_SET} (or deploy tutor-mail in another account), then run "
                    "tutormail receiving-activate --apply")
        if not self.exists:
            return (f"the receipt rule set {RECEIPT_RULE_SET} does not exist in {self.region}: deploy "
                    "TutorMail-Platform with receiving: first")
        return ""

    @property
    def exit_code(self) -> Exit:
        if self.conflict:
            return Exit.ACTION_NEEDED
        return Exit.OK if self.active == RECEIPT_RULE_SET or self.activated else Exit.PENDING

    @property
    def message(self) -> str:
        if self.conflict:
            return self.conflict
        if self.active == RECEIPT_RULE_SET:
            return f"{RECEIPT_RULE_SET} is the active receipt rule set in {self.region}" + (
                " (activated now)" if self.activated else "")
        return (f"no receipt rule set is active in {self.region}: receiving-activate --apply makes {RECEIPT_RULE_SET} "
                "the active one")

    def as_dict(self) -> dict:
        return {"region": self.region, "active": self.active, "ours": RECEIPT_RULE_SET, "exists": self.exists,
                "activated": self.activated, "conflict": self.conflict or None, "message": self.message}


def active_rule_set(region: str, ses=None) -> ActiveRuleSet:
    ses = ses if ses is not None else client("ses", region)
    found = call("SES DescribeActiveReceiptRuleSet", ses.describe_active_receipt_rule_set)
    active = (found.get("Metadata") or {}).get("Name")
    listed = call("SES ListReceiptRuleSets", ses.list_receipt_rule_sets)
    exists = any(r.get("Name") == RECEIPT_RULE_SET for r in listed.get("RuleSets", []))
    return ActiveRuleSet(region, active, exists)


def activate(region: str, apply: bool, ses=None) -> ActiveRuleSet:
    ses = ses if ses is not None else client("ses", region)
    state = active_rule_set(region, ses)
    if state.conflict or state.active == RECEIPT_RULE_SET or not apply:
        return state
    call("SES SetActiveReceiptRuleSet", ses.set_active_receipt_rule_set, RuleSetName=RECEIPT_RULE_SET)
    return ActiveRuleSet(region, RECEIPT_RULE_SET, True, activated=True)


