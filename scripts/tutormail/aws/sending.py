"""An institution's configuration set: its sending switch, and whether sending is on.

Turning a configuration set off stops only mail that uses it
(https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_PutConfigurationSetSendingOptions.html);
GetConfigurationSet gives its SendingOptions, SendingEnabled true when absent
(https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_GetConfigurationSet.html)."""

from __future__ import annotations

from typing import Any

from tutormail.aws import client as aws


def set_sending(sesv2: Any, configuration_set: str, enabled: bool) -> None:
    """Raises ServiceError, NotFoundException included (aws.is_not_found) when the set does not exist."""
    aws.call(f"SES PutConfigurationSetSendingOptions {configuration_set}", sesv2.put_configuration_set_sending_options,
             ConfigurationSetName=configuration_set, SendingEnabled=enabled)


def sending_enabled(sesv2: Any, configuration_set: str) -> bool | None:
    """None when the configuration set does not exist."""
    try:
        found = aws.call(f"SES GetConfigurationSet {configuration_set}", sesv2.get_configuration_set,
                         ConfigurationSetName=configuration_set)
    except aws.ServiceError as exc:
        if aws.is_not_found(exc):
            return None
        raise
    return bool((found.get("SendingOptions") or {}).get("SendingEnabled", True))
