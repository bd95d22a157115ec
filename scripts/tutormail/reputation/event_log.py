"""The platform's event-record Lambda: one line per bounce, complaint or reject, recipients cut to `*@domain`.

Run by the EventBridge rule on SES's "Email Bounced", "Email Complaint Received" and "Email
Rejected" events of `tutormail-*` configuration sets (infra/reputation.py). What it prints, Lambda
writes to the function's own log group (`names.EVENT_LOG_GROUP`), which `tutormail reputation`
reads (health.read_events). Operators see which providers bounce (all at one domain?) and never
whose address it was. The fields are SES's event record:
https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html
(the EventBridge event carries the same record as its `detail`:
https://docs.aws.amazon.com/ses/latest/dg/monitoring-eventbridge.html).

Standard library only: the Lambda package carries this module and `names` (LAMBDA_FILES).
"""

from __future__ import annotations

import json
import re
from email.utils import parseaddr
from typing import Any

from tutormail import names

# What is written when a recipient has no domain that can be shown: the address is never echoed.
NO_DOMAIN = "*@?"
# A host name in its ASCII (punycode) form, or an address literal such as [192.0.2.1].
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$|^\[[0-9a-f:.]+\]$")
# Where each event type lists its recipients; a reject has no list of its own, only the message's.
_RECIPIENTS = {"Bounce": ("bounce", "bouncedRecipients"), "Complaint": ("complaint", "complainedRecipients")}


def mask(address: Any) -> str:
    """`*@domain` for one recipient as SES reports it (`Ana <Ana@Example.ORG>` gives `*@example.org`).

    The local part never survives: an address without a readable domain becomes `*@?`. A Unicode
    domain is written in its punycode form, so one provider reads the same however it was typed."""
    if not isinstance(address, str):
        return NO_DOMAIN
    local, at, domain = parseaddr(address)[1].rpartition("@")
    if not (local and at):
        return NO_DOMAIN
    domain = domain.strip().rstrip(".").lower()
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return NO_DOMAIN
    return f"*@{domain}" if _DOMAIN.match(domain) else NO_DOMAIN


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def masked_recipients(detail: dict[str, Any]) -> list[str]:
    """The event's recipients (the bounced or complained ones; for a reject, the message's), each
    masked, each domain once."""
    section, key = _RECIPIENTS.get(detail.get("eventType"), ("", ""))
    listed = _mapping(detail.get(section)).get(key) if section else None
    if isinstance(listed, list):
        addresses = [_mapping(recipient).get("emailAddress") for recipient in listed]
    else:
        addresses = _mapping(detail.get("mail")).get("destination") or []
    return sorted({mask(address) for address in addresses}) if isinstance(addresses, list) else []


def _configuration_set(mail: dict[str, Any]) -> str | None:
    found = _mapping(mail.get("tags")).get(names.DIMENSION)
    return found[0] if isinstance(found, list) and found and isinstance(found[0], str) else None


def _joined(*parts: Any) -> str | None:
    present = [str(part) for part in parts if part]
    return "/".join(present) or None


def record(event: dict[str, Any]) -> dict[str, Any]:
    """The one line kept for an EventBridge event of SES; a field SES left out is null, never a guess."""
    detail = _mapping(_mapping(event).get("detail"))
    mail = _mapping(detail.get("mail"))
    bounce, complaint = _mapping(detail.get("bounce")), _mapping(detail.get("complaint"))
    source = mail.get("source")
    return {"event": detail.get("eventType") or _mapping(event).get("detail-type"),
            # The From is the institution's own address; SES may give it with a display name.
            "from": (parseaddr(source)[1] or None) if isinstance(source, str) else None,
            "bounce": _joined(bounce.get("bounceType"), bounce.get("bounceSubType")),
            "complaint": complaint.get("complaintFeedbackType"),
            "reject": _mapping(detail.get("reject")).get("reason"),
            "message_id": mail.get("messageId"),
            "configuration_set": _configuration_set(mail),
            "recipients": masked_recipients(detail)}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda's entry point: the printed line is the record (Lambda sends a function's stdout to its
    log group: https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html)."""
    line = record(event)
    print(json.dumps(line, sort_keys=True))
    return line
