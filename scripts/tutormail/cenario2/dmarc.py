"""Whether receivers will take mail from a Cenário 2 address: its domain's DMARC policy.

SES signs a Cenário 2 message with DKIM for amazonses.com and bounces it through SES's own MAIL
FROM, so neither identifier aligns with the address's domain (RFC 7489 section 3.1) and DMARC
fails. What the receiver then does is the policy the domain publishes: `p=reject` bounces the
mail, `p=quarantine` sends it to spam. A free-mail domain (gmail.com, ...) is the same case, and
cannot be moved to Cenário 1. https://www.rfc-editor.org/rfc/rfc7489

Policy discovery follows RFC 7489 section 6.6.3: `_dmarc.<domain>`; when that holds no DMARC
record, `_dmarc.<organisational domain>` (section 3.2: one label below the public suffix), whose
`sp=` then applies (section 6.3); `pct=` samples the policy (section 6.6.4). A look-up that fails
is "unknown", never "ready": RFC 7489 section 6.6.3 leaves DNS errors to the receiver.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import dns.exception

from tutormail.dnsclient.resolver import SYSTEM, DnsEndpoints, txt_values
from tutormail.vocabulary import Readiness

FREE_MAIL = frozenset({"gmail.com", "googlemail.com", "hotmail.com", "outlook.com", "live.com", "msn.com",
                       "yahoo.com", "yahoo.com.br", "icloud.com", "me.com", "aol.com", "bol.com.br", "uol.com.br",
                       "terra.com.br", "ig.com.br", "zoho.com", "proton.me", "protonmail.com", "gmx.com"})
READY, BLOCKED, UNKNOWN = Readiness.READY, Readiness.BLOCKED, Readiness.UNKNOWN
POLICIES = ("none", "quarantine", "reject")
WORKERS = 16
RFC = "RFC 7489"


@dataclass(frozen=True)
class DmarcVerdict:
    domain: str  # the sender's domain
    state: str  # ready | blocked | unknown
    record: str | None = None  # the record that decides it
    record_name: str | None = None  # where that record was found
    policy: str | None = None  # what receivers apply to our unaligned mail; None: no DMARC processing
    reason: str = ""  # plain words, with the section of RFC 7489 that says so
    note: str | None = None  # worth telling although it does not block (malformed, pct=0, ...)

    @property
    def blocked(self) -> bool:
        return self.state == BLOCKED

    @property
    def way_out(self) -> str | None:
        if self.state != BLOCKED:
            return None
        if self.record is None:  # free mail: nobody but the provider can publish records there
            return "use another address, at a domain of the institution or the platform default"
        return (f"move {self.domain} to Cenário 1 (a dns entry for it in the institution file: SES then signs "
                f"as {self.domain}, aligned) or use another address")

    @property
    def warning(self) -> str | None:
        """What `plan`, `request-link` and `dmarc` print: the reason and way out when not ready, else the note."""
        if self.state == READY:
            return self.note
        label = "blocked by DMARC" if self.state == BLOCKED else "DMARC unknown"
        return f"{label}: {self.reason}" + (f"; way out: {self.way_out}" if self.way_out else "")

    def as_dict(self) -> dict[str, str | None]:
        return {"domain": self.domain, "state": self.state, "record": self.record, "record_name": self.record_name,
                "policy": self.policy, "reason": self.reason, "note": self.note, "way_out": self.way_out}


@functools.cache
def _suffixes():
    from publicsuffixlist import PublicSuffixList  # the list ships inside the package: no download

    return PublicSuffixList()


def organisational_domain(domain: str) -> str:
    """RFC 7489 section 3.2: the public suffix plus one label (the domain itself when it is a suffix)."""
    return _suffixes().privatesuffix(domain) or domain


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[1].lower().rstrip(".")


def _tags(record: str) -> list[tuple[str, str]]:
    pairs = (part.split("=", 1) for part in record.split(";") if part.strip())
    return [(pair[0].strip().lower(), pair[1].strip() if len(pair) == 2 else "") for pair in pairs]


def tag_map(record: str) -> dict[str, str]:
    """A DMARC record's tags by lower-case name (section 6.3), the last of a repeated tag winning."""
    return dict(_tags(record))


def is_dmarc(record: str) -> bool:
    """Section 6.6.3 steps 2 and 4: only records whose first tag is v=DMARC1 count. The version's
    case is forgiven here: a reading that finds more policies is the safe one for readiness."""
    tags = _tags(record)
    return bool(tags) and tags[0][0] == "v" and tags[0][1].upper() == "DMARC1"


# RFC 7489 section 6.4: pct = 1*3DIGIT, and DIGIT is ASCII 0-9 (RFC 5234 appendix B.1). str.isdigit()
# would also take "²" or "٠", which int() refuses or reads as a number no receiver sees.
PCT = re.compile(r"[0-9]{1,3}")


@dataclass(frozen=True)
class PolicyTags:
    """A DMARC record's p=, sp= and pct= as the strictest receiver reads them."""

    p: str | None  # None: no p= tag
    sp: str | None
    pct: int
    unreadable: tuple[str, ...] = ()  # tags present whose value no reading agrees on
    repeated: tuple[str, ...] = ()


def policy_value(value: str) -> str | None:
    """A p=/sp= value as OpenDMARC reads it: any case-insensitive left match of a policy name
    ("r", "rej", "QUAR"), so a receiver running it rejects on `p=rej`. libopendmarc's
    opendmarc_policy_parse_dmarc compares with strncasecmp(value, "reject", strlen(value))
    (https://github.com/trusteddomainproject/OpenDMARC, libopendmarc/opendmarc_policy.c); the three
    names begin with different letters, so a prefix names one policy. None: not readable."""
    if not value or not value.isascii():  # before lower(): "\u212a".lower() is an ASCII "k"
        return None
    value = value.lower()
    return next((policy for policy in ("reject", "quarantine", "none") if policy.startswith(value)), None)


def _pct_value(value: str) -> int | None:
    return int(value) if PCT.fullmatch(value) and int(value) <= 100 else None


def read_policy(record: str) -> PolicyTags:
    """p=, sp= and pct=; a repeated tag counts at its strictest (RFC 7489 section 6.3 gives a tag
    once; parsers differ on which copy wins, OpenDMARC takes the last), so no receiver applies a
    stricter one than we read. A value that is not readable makes the record unknown."""
    values: dict[str, list[str]] = {}
    for key, value in _tags(record):
        values.setdefault(key, []).append(value)
    unreadable: list[str] = []

    def strictest(key: str, read: Callable[[str], Any], order: Callable[[Any], int]) -> Any:
        found = values.get(key, [])
        readings = [read(value) for value in found]
        unreadable.extend(f"{key}={value!r}" for value, reading in zip(found, readings, strict=True)
                          if reading is None)
        readings = [r for r in readings if r is not None]
        return max(readings, key=order) if readings else None

    p = strictest("p", policy_value, POLICIES.index)
    sp = strictest("sp", policy_value, POLICIES.index)
    pct = strictest("pct", _pct_value, int)
    repeated = tuple(sorted(key for key in ("p", "sp", "pct") if len(values.get(key, [])) > 1))
    return PolicyTags(p, sp, 100 if pct is None else pct, tuple(unreadable), repeated)


def _sampled(policy: str, pct: int) -> str:
    """Section 6.6.4: mail outside the pct sample of p=reject is quarantined, and outside that of
    p=quarantine gets the receiver's ordinary filtering (none)."""
    if pct > 0 or policy == "none":
        return policy
    return "quarantine" if policy == "reject" else "none"


def judge(domain: str, own: list[str], organisational: tuple[str, list[str]] | None = None) -> DmarcVerdict:
    """The verdict for `domain` from the TXT strings of `_dmarc.<domain>` and, when those hold no
    DMARC record, of `_dmarc.<organisational domain>` (name, strings)."""
    name, records = f"_dmarc.{domain}", [r for r in own if is_dmarc(r)]
    if not records and organisational:
        name, records = organisational[0], [r for r in organisational[1] if is_dmarc(r)]
    if not records:
        ignored = [r for r in own if r]
        return DmarcVerdict(domain, READY, reason=f"no DMARC record at _dmarc.{domain} nor at its organisational "
                            f"domain: receivers apply no DMARC policy ({RFC} 6.6.3 step 5)", note=(
                                f"_dmarc.{domain} holds {ignored[0]!r}, which is not a DMARC record (v=DMARC1 must "
                                f"be its first tag, {RFC} 6.3): receivers ignore it; once it is fixed, its policy "
                                "applies") if ignored else None)
    if len(records) > 1:
        return DmarcVerdict(domain, READY, " | ".join(records), name, reason="", note=(
            f"{name} publishes {len(records)} DMARC records, so receivers apply none ({RFC} 6.6.3 step 5); "
            "once the owner removes one, the other's policy applies"))
    return _judge_record(domain, records[0], name)


def _unreadable(domain: str, record: str, name: str, tags: PolicyTags) -> DmarcVerdict:
    return DmarcVerdict(domain, UNKNOWN, record, name, reason=(
        f"{name} publishes {record!r}, whose {', '.join(tags.unreadable)} cannot be read ({RFC} 6.3: p= and sp= "
        "are none, quarantine or reject, pct= is 0 to 100 in ASCII digits); receivers may read it as anything "
        "up to reject, so it is never taken as ready"))


def _judge_record(domain: str, record: str, name: str) -> DmarcVerdict:
    tags = read_policy(record)
    if tags.unreadable:
        return _unreadable(domain, record, name, tags)
    subdomain = name != f"_dmarc.{domain}"
    if tags.p is None:
        fallback = "none" if "rua" in tag_map(record) else None
        return DmarcVerdict(domain, READY, record, name, fallback, "", (
            f"{name} has a malformed DMARC record ({record!r}): without a valid p= receivers apply "
            f"{'p=none' if fallback else 'no DMARC policy'} ({RFC} 6.6.3 step 6); once it is fixed, its policy "
            "applies"))
    key = "sp" if subdomain and tags.sp else "p"
    requested, pct = (tags.sp if key == "sp" else tags.p), tags.pct
    policy = _sampled(requested, pct)
    which = f"{key}={requested}" + (f" with pct={pct}" if pct < 100 else "")
    repeated = (f"{name} repeats {', '.join(tags.repeated)}: read at the strictest copy, as the strictest "
                "receiver may") if tags.repeated else None
    if policy == "none":
        note = (f"{name} asks for {which}, so receivers do not enforce it today ({RFC} 6.6.4); if the owner raises "
                "pct, this address stops delivering") if requested != "none" else repeated
        return DmarcVerdict(domain, READY, record, name, policy, "", note)
    inherited = f" (inherited by {domain} from its organisational domain, {RFC} 6.6.3 step 3)" if subdomain else ""
    effect = "rejected (bounced)" if policy == "reject" else "sent to spam (quarantined)"
    return DmarcVerdict(domain, BLOCKED, record, name, policy, (
        f"{name} publishes {record!r}{inherited}; {which} means mail sent from {domain} through "
        f"SES, which signs with its own domain and so fails DMARC alignment ({RFC} 3.1), is {effect}"
        + (f" (outside the pct sample, reject becomes quarantine: {RFC} 6.6.4)" if requested != policy else "")),
        repeated)


def free_mail(domain: str) -> DmarcVerdict | None:
    if domain in FREE_MAIL or organisational_domain(domain) in FREE_MAIL:
        return DmarcVerdict(domain, BLOCKED, reason=(
            f"{domain} is a free-mail provider; its mail must be signed by the provider, so "
            "receivers reject or junk what SES sends as it, and nobody but the provider can publish records there"))
    return None


class DmarcLookups:
    """The DMARC verdicts of one run: one TXT query per distinct `_dmarc` name, queries run
    concurrently, answers kept for the run, so a fleet costs one query per distinct domain."""

    def __init__(self, endpoints: DnsEndpoints = SYSTEM, fetch: Callable[[str], list[str]] | None = None,
                 workers: int = WORKERS):
        self._fetch = fetch or (lambda name: txt_values(name, endpoints))
        self._workers = workers
        self._answers: dict[str, list[str] | str] = {}  # name -> TXT strings, or why the look-up failed
        self.queries = 0

    def _ask(self, name: str) -> list[str] | str:
        try:
            return self._fetch(name)
        except (dns.exception.DNSException, OSError, ValueError) as exc:  # any failure is "unknown", never ready
            return f"could not look up {name}: {exc.__class__.__name__}" + (f" ({exc})" if str(exc) else "")

    def _fill(self, names: Iterable[str]) -> None:
        todo = sorted(set(names) - set(self._answers))
        if not todo:
            return
        self.queries += len(todo)
        with ThreadPoolExecutor(max_workers=min(self._workers, len(todo))) as pool:
            self._answers.update(zip(todo, pool.map(self._ask, todo), strict=True))

    def verdicts(self, domains: Iterable[str]) -> dict[str, DmarcVerdict]:
        domains = sorted({d.lower().rstrip(".") for d in domains})
        looked_up = [d for d in domains if free_mail(d) is None]
        self._fill(f"_dmarc.{d}" for d in looked_up)
        # Step 3 only for the domains whose own name answered and held no DMARC record.
        parents = {d: organisational_domain(d) for d in looked_up
                   if isinstance(self._answers[f"_dmarc.{d}"], list)
                   and not any(is_dmarc(r) for r in self._answers[f"_dmarc.{d}"])}
        self._fill(f"_dmarc.{org}" for d, org in parents.items() if org != d)
        return {d: free_mail(d) or self._verdict(d, parents.get(d)) for d in domains}

    def verdict(self, domain: str) -> DmarcVerdict:
        return next(iter(self.verdicts([domain]).values()))

    def _verdict(self, domain: str, org: str | None) -> DmarcVerdict:
        own = self._answers[f"_dmarc.{domain}"]
        parent = self._answers.get(f"_dmarc.{org}", []) if org and org != domain else None
        for failed in (own, parent):
            if isinstance(failed, str):
                return DmarcVerdict(domain, UNKNOWN, reason=f"{failed}; an unknown policy is never taken as ready")
        return judge(domain, own, (f"_dmarc.{org}", parent) if parent is not None else None)


def preflight(domain: str, endpoints: DnsEndpoints = SYSTEM) -> DmarcVerdict:
    """One domain's verdict, in a run of its own (`tutormail dmarc`, `plan`, `request-link`)."""
    return DmarcLookups(endpoints).verdict(domain)
