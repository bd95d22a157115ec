"""Route 53 record-set groups that create, never overwrite, as CloudFormation's do.

CloudFormation creates each record with ChangeResourceRecordSets CREATE, which fails when the record
set exists ("Tried to create resource record set [name='...', type='...'] but it already exists",
https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html); a record
set that is identical in name, type, values and TTL is taken over instead
(https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/560). A CNAME cannot
share its name with another type (RFC 1034 3.6.2), which Route 53 refuses too. moto 5.2 appends
duplicates, and the sandbox's BIND mirror replaced what was there: both now refuse, so the stack
fails and rolls back (cfn_rollback.py) instead of silently rewriting an institution's records.
"""

from __future__ import annotations

from typing import Any

from tutormail.dnsclient.rdata import comparable


class InvalidChangeBatch(Exception):
    pass


def _name(text: str) -> str:
    return text.lower().rstrip(".")


def _values(rtype: str, record: Any) -> tuple[str, ...]:
    raw = record.get("ResourceRecords", []) if isinstance(record, dict) else record.records
    return tuple(sorted(comparable(rtype, v if isinstance(v, str) else v["Value"]) for v in raw))


def _ttl(record: Any) -> int:
    return int((record.get("TTL") if isinstance(record, dict) else record.ttl) or 0)


def existing(zone: Any, name: str, rtype: str) -> Any | None:
    return next((r for r in zone.rrsets if _name(r.name) == _name(name) and r.type == rtype), None)


def identical(found: Any, record: dict[str, Any]) -> bool:
    return _values(record["Type"], found) == _values(record["Type"], record) and _ttl(found) == _ttl(record)


def check_create(zone: Any, record_sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The record sets to add (identical ones are taken over); InvalidChangeBatch on a conflict."""
    to_add = []
    for record in record_sets:
        name, rtype = record["Name"], record["Type"]
        found = existing(zone, name, rtype)
        if found is not None and not identical(found, record):
            raise InvalidChangeBatch(f"[Tried to create resource record set [name='{_name(name)}.', type='{rtype}'] "
                                     "but it already exists]")
        others = {r.type for r in zone.rrsets if _name(r.name) == _name(name)} - {rtype}
        if others and (rtype == "CNAME" or "CNAME" in others):
            raise InvalidChangeBatch(f"[RRSet of type {rtype} with DNS name {_name(name)}. is not permitted because "
                                     f"a conflicting RRSet of type {sorted(others)[0]} with the same DNS name already "
                                     "exists]")
        if found is None:
            to_add.append(record)
    return to_add


def release(zone: Any, record_sets: list[dict[str, Any]]) -> None:
    """Removes the record sets a group created (its update or deletion), only where they are still ours."""
    for record in record_sets:
        found = existing(zone, record["Name"], record["Type"])
        if found is not None and identical(found, record):
            zone.rrsets.remove(found)
