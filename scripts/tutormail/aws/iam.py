"""IAM reads of the account (the SMTP user's keys are aws/smtp_keys.py)."""

from __future__ import annotations

from typing import Any

from tutormail.aws import client as aws


def oidc_provider_arns(iam: Any) -> list[str]:
    """Every IAM OIDC provider of the account, one call with no paging
    (https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListOpenIDConnectProviders.html)."""
    listed = aws.call("IAM ListOpenIDConnectProviders", iam.list_open_id_connect_providers)
    return [p["Arn"] for p in listed.get("OpenIDConnectProviderList", [])]
