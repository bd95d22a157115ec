"""Names that end up in DNS, SES and e-mail headers: slugs, addresses, mailboxes.

Everything here is pure (no DNS look-ups) so that validation is fast and repeatable.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import email_validator
import idna
from confusable_homoglyphs import confusables

MAX_LABEL = 63
LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# The JSON Schema pattern of `default_local_part` only (a schema needs a regular expression): RFC 5322
# dot-atom in ASCII. Addresses themselves are checked by email-validator (Address.parse).
LOCAL_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
# Letters that NFKD does not decompose into ASCII but that people expect to survive in a slug.
_TRANSLIT = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "œ": "oe",
                           "Œ": "oe", "đ": "d", "Đ": "d", "ł": "l", "Ł": "l", "þ": "th"})
_APOSTROPHES = re.compile(r"['\u2019\u2018`\u00b4]")


# A host name to connect to (RFC 1123 2.1: letters, digits and hyphens; no empty label, no hyphen at
# either end of one); case is kept, as a resolver ignores it.
HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                         r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


def is_host_name(text: str) -> bool:
    return bool(HOSTNAME_RE.fullmatch(text))


def is_dns_label(text: str) -> bool:
    return bool(LABEL_RE.fullmatch(text))


def derive_slug(name: str) -> str:
    """"Universidade São João d'Arc" -> "universidade-sao-joao-darc" (may exceed 63: caller checks)."""
    text = _APOSTROPHES.sub("", name.translate(_TRANSLIT))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def to_ascii_domain(domain: str) -> str:
    """Validates a domain (Unicode or A-labels) and returns its lower-case A-label form.

    Raises ValueError with a reason a person can act on.
    """
    if not domain or domain != domain.strip():
        raise ValueError("domain is empty or has surrounding spaces")
    if domain.endswith("."):
        raise ValueError("domain must not end with a dot")
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii").lower()
    except idna.IDNAError as exc:
        raise ValueError(f"not a valid (internationalized) domain name: {exc}") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2:
        raise ValueError("domain needs at least two labels (e.g. example.com.br)")
    if len(ascii_domain) > 253:
        raise ValueError("domain is longer than 253 characters")
    for label in labels:
        if not is_dns_label(label):
            raise ValueError(f"label {label!r} is not a DNS label (a-z, 0-9, '-', 1-63, no '-' at the ends)")
    if labels[-1].isdigit():
        raise ValueError("top-level label must not be numeric")
    return ascii_domain


def to_unicode_domain(ascii_domain: str) -> str:
    try:
        return idna.decode(ascii_domain)
    except idna.IDNAError:
        return ascii_domain


def is_same_or_subdomain(domain: str, parent: str) -> bool:
    """Both in A-label form."""
    return domain == parent or domain.endswith("." + parent)


@dataclass(frozen=True, order=True)
class Address:
    """An e-mail address: ASCII local part, domain kept in both forms."""

    local: str
    domain: str  # A-labels, lower case: what SES, IAM and DNS see

    @classmethod
    def parse(cls, text: str) -> Address:
        """Syntax and special-use domains (RFC 6761: .invalid, .localhost, .local, .test, .arpa,
        .onion; a top-level label that is not one) are email-validator's
        (https://pypi.org/project/email-validator/), without deliverability look-ups and without
        SMTPUTF8; on top only what SES and IAM add: an ASCII local part of at most 64 characters
        (SES: https://docs.aws.amazon.com/ses/latest/APIReference/API_Destination.html; `*` and `?`
        are refused by `wildcard_problem`, where the file is checked)."""
        if not isinstance(text, str):
            raise ValueError("must be an e-mail address string")
        local = text.rpartition("@")[0]
        if not local.isascii():
            raise ValueError("local part must be ASCII (SES does not send from SMTPUTF8 addresses)")
        if len(local) > 64:
            raise ValueError("local part is longer than 64 characters")
        try:
            valid = email_validator.validate_email(text, check_deliverability=False, allow_smtputf8=False,
                                                   allow_quoted_local=False, allow_domain_literal=False)
        except email_validator.EmailNotValidError as exc:
            raise ValueError(str(exc)) from None
        return cls(valid.local_part, valid.ascii_domain.lower())

    @property
    def ascii(self) -> str:
        return f"{self.local}@{self.domain}"

    @property
    def unicode_domain(self) -> str:
        return to_unicode_domain(self.domain)

    @property
    def display(self) -> str:
        return f"{self.local}@{self.unicode_domain}"

    def __str__(self) -> str:
        return self.display


# Characters a display name may not hold: controls and line/paragraph separators would break or
# fold the e-mail header, bidirectional and other format controls make the name read differently
# from what it is (U+202E turns "moc.ofni" into "info.com"), private-use and unassigned code points
# show as nothing anyone can check.
_FORBIDDEN_IN_NAMES = {"Cc": "a control character", "Cs": "a lone surrogate", "Zl": "a line separator",
                       "Zp": "a paragraph separator", "Cf": "an invisible format character",
                       "Co": "a private-use character", "Cn": "an unassigned character"}
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# In a sender address, IAM's ses:FromAddress condition would read these as wildcards.
IAM_WILDCARDS = ("*", "?")


def check_display_name(name: str) -> str | None:
    """The reason a display name cannot be used, or None."""
    if not isinstance(name, str) or not name.strip():
        return "must be a non-empty text"
    for char in name:
        what = "a bidirectional control" if char in _BIDI_CONTROLS else _FORBIDDEN_IN_NAMES.get(
            unicodedata.category(char))
        if what:
            return f"must not contain control characters (U+{ord(char):04X} is {what})"
    if len(name) > 200:
        return "is longer than 200 characters"
    return confusable_problem(name)


def canonical_name(text: str) -> str:
    """The one spelling names are kept and compared in: NFC, so "Colégio" typed with a combining
    accent (NFD, as some systems and keyboards send it) is the same company as the composed one."""
    return unicodedata.normalize("NFC", text)


def confusable_problem(name: str) -> str | None:
    """A name that mixes scripts with a letter that reads as a Latin one ("Instituiçãо XY" with a
    Cyrillic о) would show, in De/Remetente and on the status page, as another tenant's name.
    Decided on Unicode's confusables data (UTS #39, https://www.unicode.org/reports/tr39/) as the
    confusable-homoglyphs package ships it; a name in one script only (all Cyrillic) is its own."""
    found = confusables.is_confusable(name, preferred_aliases=["latin", "common"], greedy=False)
    if not found or not confusables.is_dangerous(name, preferred_aliases=["latin", "common"]):
        return None
    char = found[0]["character"]
    return (f"mixes scripts: U+{ord(char):04X} ({unicodedata.name(char, '?')}) reads as a Latin letter, so the "
            "name would look like another one (Unicode confusables, UTS #39): write it in one script")


def wildcard_problem(local: str) -> str | None:
    """Why a sender's local part cannot go into an IAM condition, or None."""
    found = [c for c in IAM_WILDCARDS if c in local]
    if found:
        return (f"local part {local!r} contains {' and '.join(map(repr, found))}, which IAM reads as a "
                "wildcard: the SMTP user could send as other addresses")
    return None


def render_mailbox(display_name: str, address: Address) -> str:
    """`"Nome" <email>` exactly as the help article has Tutor's De/Remetente field typed.

    The name stays readable, always a quoted-string with backslash and double quote escaped (RFC
    5322 quoted-pair), so any name is safe; the address is in the ASCII form SES accepts (no
    SMTPUTF8: the domain in punycode). Tutor encodes a non-ASCII name when it sends, as the
    article implies (its example name has accents); `send-test` does the same with Python's
    `email` package (an RFC 2047 encoded word outside any quoted string).
    """
    quoted = display_name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{address.ascii}>'
