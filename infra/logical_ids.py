"""Logical ids of stateful resources, fixed here so a refactor can never replace them.

CloudFormation replaces a resource whose logical id changes; for an SES identity that means a
new identity, new DKIM tokens and broken mail. Tests pin these values.
"""

import hashlib
import re

SMTP_USER = "SmtpUser"
SMTP_SECRET = "SmtpSecret"  # noqa: S105 (a logical id, not a secret)
CONFIGURATION_SET = "ConfigurationSet"
PROGRESS_TABLE = "ProgressTable"
SENDING_EVENTS_LOG = "SendingEventsLog"  # the event record (issue 14): its retained log group


def identity(name: str) -> str:
    """`Identity` + the name's letters and digits + a short hash (a-b.com and ab.com differ)."""
    readable = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name) if part)
    digest = hashlib.sha256(name.encode()).hexdigest()[:8].upper()
    return f"Identity{readable[:200]}{digest}"


def smtp_key(generation: int) -> str:
    return f"SmtpKeyGen{generation}"
# Receiving (issue 25): the stored mail, the rule set other rules hang on, who was answered today.
INBOUND_BUCKET = "InboundMailBucket"
RECEIPT_RULE_SET = "InboundRuleSet"
INBOUND_TABLE = "InboundTable"
