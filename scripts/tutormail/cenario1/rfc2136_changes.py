"""Cenário 1 over RFC 2136: what to write at the server, planned from what it holds (the changes of
one TSIG-signed update of exactly the records we own), and the TSIG key that signs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tutormail.aws.secrets import secret_value
from tutormail.catalog.fields import DMARC_POLICIES
from tutormail.catalog.model import DnsDomain
from tutormail.cenario1.records import DomainRecords
from tutormail.dnsclient.rfc2136 import PublishError, TsigKey, key_problem, normal, parse_key, read_set
from tutormail.exitcodes import Exit
from tutormail.plan.build import dmarc_value
from tutormail.plan.change import Action, Change, Kind


def load_key(dns_entry: DnsDomain, region: str, key_file: Path | None, client: Any = None) -> TsigKey:
    if key_file is not None:
        try:
            return parse_key(key_file.read_text(encoding="utf-8"), str(key_file))
        except OSError as exc:
            raise PublishError(f"cannot read the TSIG key file {key_file}: {exc.strerror}", Exit.BAD_INPUT) from None
        except UnicodeDecodeError:
            raise key_problem(str(key_file), "binary content") from None
    value = secret_value(dns_entry.tsig_key, region, client)
    if "SecretString" not in value:
        raise key_problem(f"the secret {dns_entry.tsig_key}", "binary secret")
    return parse_key(value["SecretString"], f"the secret {dns_entry.tsig_key}")


def txt_starting(values: tuple[str, ...], tag: str) -> list[str]:
    return [v for v in values if v.strip('"').lower().startswith(tag)]


KEEP_DMARC = "set `dmarc: keep` on this domain in the institution file (the record stays as it is, byte for byte)"


def _dmarc_decision(found: tuple[str, ...]) -> tuple[str, str]:
    """`dmarc: publish` where a DMARC policy is already published. RFC 7489 6.6.3: with two DMARC records no
    policy applies, and replacing it could weaken it: a person decides, and the file then says so."""
    existing = txt_starting(found, "v=dmarc1")
    if not existing:
        return "add", ""
    ours = existing[0].strip('"') in {dmarc_value(policy) for policy in DMARC_POLICIES}
    return "conflict", (f"a DMARC policy is already published: {existing[0]}; {KEEP_DMARC}" + (
        "; it has the form tutor-mail writes: if it is ours from an earlier dmarc_policy, change it by hand "
        "(a DMARC record is never replaced)" if ours else ""))


def decide(purpose: str, found: tuple[str, ...], want: tuple[str, ...], cname: tuple[str, ...]) -> tuple[str, str]:
    """What to do at one (name, type) we own, never overwriting what someone else published there."""
    if purpose == "dmarc" and cname:
        return "conflict", f"the name is a CNAME to {cname[0]} (a DMARC policy kept elsewhere): {KEEP_DMARC}"
    if purpose != "dkim" and cname:
        return "conflict", f"the name is a CNAME to {cname[0]}: choose another mail_from or remove the CNAME"
    if found == want:
        return "nothing", ""
    if purpose == "dmarc":
        return _dmarc_decision(found)
    if purpose == "mail-from-spf":
        if set(want) <= set(found):
            return "nothing", ""
        other = txt_starting(found, "v=spf1")  # RFC 7208 3.2: two SPF records are a permanent error
        return ("conflict", f"another SPF record is published there: {other[0]}") if other else ("add", "")
    if purpose == "mail-from-mx":
        # SES requires exactly one MX at the MAIL FROM domain, which must not receive mail
        # (https://docs.aws.amazon.com/ses/latest/dg/mail-from.html).
        return ("conflict", f"the name already has MX {', '.join(found)}: it receives mail, choose another "
                            "mail_from") if found else ("add", "")
    return ("change" if found else "add"), ""


# decide()'s words, which preflight reports as they are, as the actions of a Change
DECIDED = {"add": Action.CREATE, "change": Action.UPDATE, "nothing": Action.KEEP, "conflict": Action.PERSON}


def plan_changes(item: DomainRecords, address: str, port: int) -> list[Change]:
    """What to write at the server, from what it holds now (reads only)."""
    purposes = {(record.name, record.type): record.purpose for record in item.records}
    wanted = {key: (purposes[key], values) for key, values in item.record_sets().items()}
    changes = []
    for (name, rtype), (purpose, values) in wanted.items():
        found = read_set(address, port, name, rtype)
        cname = read_set(address, port, name, "CNAME") if rtype != "CNAME" else ()
        want = normal(rtype, values)
        action, reason = decide(purpose, found, want, cname)
        changes.append(Change(Kind.RECORD, name, DECIDED[action], reason, type=rtype, of=item.identity.name,
                              wanted=want, found=found))
    return changes


