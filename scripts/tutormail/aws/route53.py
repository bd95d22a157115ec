"""Route 53: the record sets of a zone as its API lists them, and the one write cleanup makes."""

from __future__ import annotations

from typing import Any

from tutormail.aws import client as aws


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
