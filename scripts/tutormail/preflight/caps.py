"""How many more institutions this account and Region can take, by each cap, from the account's own
quotas (aws/account_quotas.py) and the files' use per institution (plan/fleet_caps.py): `preflight`
and `status --all`."""

from __future__ import annotations

from typing import Any

from tutormail.aws import client as aws
from tutormail.aws.account_quotas import read_account_quotas
from tutormail.catalog.model import Catalog
from tutormail.plan.fleet_caps import fleet_caps, with_account


def account_caps(catalog: Catalog) -> list[dict[str, Any]]:
    platform = catalog.platform
    return with_account(fleet_caps(catalog), read_account_quotas(aws.Clients(platform.region), platform.hosted_zone_id))


def caps_rows(caps: list[dict[str, Any]]) -> list[list[Any]]:
    """The table's rows: cap, used in the account (or by the files), quota, institutions left, where
    the numbers come from, and the Service Quotas name to raise."""
    return [[c["cap"], c["used_in_account"] if c["used_in_account"] is not None else f"{c['used']} (files)",
             c["account_quota"], c["institutions_left"], c["source"], c["quota"]] for c in caps]


CAPS_HEADER = ["cap", "used", "quota", "institutions left", "read from", "raise (Service Quotas)"]
