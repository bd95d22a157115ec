"""Route 53: a hosted zone's record sets as its API lists them and its name, and the one write
cleanup makes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tutormail.aws import client as aws


def _labels_reversed(name: str) -> str:
    return ".".join(reversed(name.split(".")))


def record_sets(client: Any, zone_id: str, under: str | None = None) -> Iterator[dict[str, Any]]:
    """Record sets of one hosted zone, as its API lists them; with `under`, only the names at and
    below that name: Route 53 lists in the order of names with their labels reversed, so they are
    one run starting at StartRecordName=under, read until a name leaves it
    (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListResourceRecordSets.html)."""
    kwargs: dict[str, Any] = {"HostedZoneId": zone_id, **({"StartRecordName": under} if under else {})}
    while True:
        page = aws.call(f"Route 53 ListResourceRecordSets {zone_id}", client.list_resource_record_sets, **kwargs)
        for rrset in page.get("ResourceRecordSets", []):
            if under and not _labels_reversed(rrset["Name"].lower().rstrip(".")).startswith(_labels_reversed(under)):
                return  # past the run of names under `under`
            yield rrset
        if not page.get("IsTruncated"):
            return
        kwargs.update(StartRecordName=page["NextRecordName"], StartRecordType=page["NextRecordType"])


def hosted_zone_name(route53: Any, zone_id: str) -> str | None:
    """The zone's name in lower case without the trailing dot GetHostedZone gives it
    (https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHostedZone.html; names compare in
    lower case, RFC 4343); None when the account has no zone of that id (NoSuchHostedZone)."""
    try:
        found = aws.call(f"Route 53 GetHostedZone {zone_id}", route53.get_hosted_zone, Id=zone_id)
    except aws.ServiceError as exc:
        if getattr(exc.__cause__, "response", {}).get("Error", {}).get("Code") != "NoSuchHostedZone":
            raise
        return None
    return found["HostedZone"]["Name"].rstrip(".").lower()


def delete_record_set(route53: Any, zone_id: str, rrset: dict, comment: str) -> bool:
    """Deletes one record set exactly as it was listed; False when Route 53 refuses the batch
    (InvalidChangeBatch): a DELETE must name all the values the set holds, so one changed since it was
    listed stays (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html)."""
    try:
        aws.call(f"Route 53 ChangeResourceRecordSets {zone_id}", route53.change_resource_record_sets,
                 HostedZoneId=zone_id, ChangeBatch={"Comment": comment, "Changes": [
                     {"Action": "DELETE", "ResourceRecordSet": rrset}]})
    except aws.ServiceError as exc:
        if "InvalidChangeBatch" not in str(exc):
            raise
        return False
    return True
