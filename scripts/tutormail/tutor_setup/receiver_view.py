"""What a receiver sees of the test message (`send-test --check`): From, DKIM, SPF, DMARC, and the exit rule.

SES's receiving adds an Authentication-Results header (authserv-id `amazonses.com`) with its SPF, DKIM
and DMARC verdicts before it stores the message. Its form is not quite RFC 8601: it carries
`client-ip=`, `envelope-from=` and `helo=` as items of their own and names the DKIM signer by
`header.i=@domain` (a stored example: the LambdaAction event of
https://docs.aws.amazon.com/ses/latest/dg/receiving-email-action-lambda-event.html). It is read with
`authres` (the RFC 8601 parser) when it parses, and item by item when `authres` refuses SES's form.
Only the topmost header of authserv-id amazonses.com counts: one further down came with the message and
could say anything (RFC 8601 section 5).

Alignment is relaxed (RFC 7489 section 3.1): the DKIM `d=` or the MAIL FROM domain has the From
domain's organisational domain. The exit code follows SES's DMARC verdict: 0 only when DMARC passes
with an aligned identifier; 1 otherwise, with the reason and the way out.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import Message
from email.utils import parseaddr

import authres

from tutormail.cenario2.dmarc import organisational_domain
from tutormail.exitcodes import Exit

AUTHSERV_ID = "amazonses.com"
METHODS = ("spf", "dkim", "dmarc")
_RESULT = re.compile(r"^(spf|dkim|dmarc)\s*=\s*([A-Za-z]+)\b(.*)$", re.DOTALL)
_PROPERTY = re.compile(r"([A-Za-z][A-Za-z0-9.-]*)\s*=\s*(\"[^\"]*\"|[^\s;]+)")
HANDOFF_SECTION = "contas-prontas-mas-sem-alinhamento-dmarc"  # handoff_dmarc.alignment_blocks' heading


@dataclass(frozen=True)
class Result:
    result: str  # pass, fail, none, softfail, ... as SES wrote it; "none" when SES wrote no result
    properties: dict[str, str]


def _strip_comments(text: str) -> str:
    depth, out = 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif not depth:
            out.append(char)
    return "".join(out)


def _with_authres(value: str) -> tuple[str, dict[str, Result]] | None:
    try:
        header = authres.AuthenticationResultsHeader.parse_value(value)
    except authres.AuthResError:
        return None
    results: dict[str, Result] = {}
    for found in header.results:
        if found.method in METHODS and found.method not in results:
            results[found.method] = Result(found.result.lower(), {
                f"{p.type}.{p.name}".lower(): str(p.value) for p in found.properties})
    return header.authserv_id.lower(), results


def _item_by_item(value: str) -> tuple[str, dict[str, Result]]:
    """SES's own form: `id; spf=pass (...) client-ip=..; envelope-from=..; helo=..; dkim=pass header.i=@d; ...`."""
    items = [item.strip() for item in _strip_comments(value).split(";")]
    authserv_id, results, current = items[0].split()[0].lower() if items[0] else "", {}, None
    for item in items[1:]:
        match = _RESULT.match(item)
        if match:
            method, result, rest = match.groups()
            current = method if method not in results else None
            if current:
                results[current] = Result(result.lower(), {})
            item = rest
        if current:  # properties of the result, or SES's extra items after it
            results[current].properties.update((k.lower(), v.strip('"')) for k, v in _PROPERTY.findall(item))
    return authserv_id, results


def ses_results(message: Message) -> dict[str, Result] | None:
    """SES's verdicts from the topmost Authentication-Results of authserv-id amazonses.com, or None."""
    for value in message.get_all("Authentication-Results", []):
        text = " ".join(str(value).split())
        authserv_id, results = _with_authres(text) or _item_by_item(text)
        if authserv_id == AUTHSERV_ID:
            return results
    return None


def _domain(value: str | None) -> str | None:
    if not value:
        return None
    return value.rpartition("@")[2].strip().strip(".").lower() or None


def _aligned(domain: str | None, from_domain: str) -> bool:
    return bool(domain) and organisational_domain(domain) == organisational_domain(from_domain)


@dataclass(frozen=True)
class ReceiverView:
    from_display: str  # the From header as a mail program shows it (encoded words decoded)
    from_domain: str
    dkim: str
    dkim_domain: str | None
    spf: str
    mail_from_domain: str | None
    dmarc: str
    policy: str | None = None  # the From domain's DMARC policy: what a receiver applies when DMARC fails

    @property
    def dkim_aligned(self) -> bool:
        return self.dkim == "pass" and _aligned(self.dkim_domain, self.from_domain)

    @property
    def spf_aligned(self) -> bool:
        return self.spf == "pass" and _aligned(self.mail_from_domain, self.from_domain)

    @property
    def passes(self) -> bool:
        return self.dmarc == "pass" and (self.dkim_aligned or self.spf_aligned)

    @property
    def exit_code(self) -> Exit:
        return Exit.OK if self.passes else Exit.ACTION_NEEDED

    @property
    def reason(self) -> str | None:
        if self.passes:
            return None
        signer = self.dkim_domain or "nobody"
        return (f"DMARC {self.dmarc} for {self.from_domain}: DKIM {self.dkim} signed by {signer} "
                f"({'aligned' if self.dkim_aligned else 'not aligned'}), SPF {self.spf} for the MAIL FROM "
                f"{self.mail_from_domain or '(none)'} ({'aligned' if self.spf_aligned else 'not aligned'})")

    def way_out(self, slug: str) -> str | None:
        if self.passes:
            return None
        handoff = f"handoff/{slug}/{slug}.md#{HANDOFF_SECTION}"
        if self.dkim == "pass" and not self.dkim_aligned:
            return (f"the message is signed by {self.dkim_domain}, not by {self.from_domain} (Cenário 2): give "
                    f"{self.from_domain} a dns entry in the institution file (Cenário 1, Easy DKIM signs as the "
                    f"domain) and publish its records, or send from the platform address; the handoff explains "
                    f"it in Portuguese ({handoff})")
        return (f"verify {self.from_domain}'s records (tutormail verify {slug}): the DKIM CNAMEs, the MAIL FROM MX "
                f"and SPF; the handoff explains alignment in Portuguese ({handoff})")

    def as_dict(self, slug: str) -> dict:
        return {"from": self.from_display, "from_domain": self.from_domain,
                "dkim": {"result": self.dkim, "domain": self.dkim_domain, "aligned": self.dkim_aligned},
                "spf": {"result": self.spf, "mail_from_domain": self.mail_from_domain, "aligned": self.spf_aligned},
                "dmarc": {"result": self.dmarc, "policy": self.policy, "aligned_pass": self.passes},
                "reason": self.reason, "way_out": self.way_out(slug)}


def receiver_view(raw: bytes, policy: str | None = None) -> ReceiverView | None:
    """The view of a stored message; None when SES wrote no Authentication-Results (nothing to judge)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    results = ses_results(message)
    if results is None:
        return None
    from_display = str(message.get("From", ""))
    from_domain = _domain(parseaddr(from_display)[1]) or ""
    none = Result("none", {})
    spf, dkim, dmarc = (results.get(method, none) for method in METHODS)
    dkim_domain = dkim.properties.get("header.d") or _domain(dkim.properties.get("header.i"))
    mail_from = (spf.properties.get("smtp.mailfrom") or spf.properties.get("envelope-from")
                 or spf.properties.get("smtp.mail"))
    return ReceiverView(from_display, from_domain, dkim.result, dkim_domain, spf.result, _domain(mail_from),
                        dmarc.result, policy)
