"""An institution's companies: their accounts (addresses), rules and logo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from tutormail.catalog.checker import Checker, where
from tutormail.catalog.entities import Account, Company, Platform, platform_default_address
from tutormail.catalog.fields import ACCOUNT_MAPPING, COMPANY, NAME_RE
from tutormail.catalog.names import Address, is_same_or_subdomain, wildcard_problem
from tutormail.catalog.yaml_reader import FileProblem, open_regular

DEFAULT_ACCOUNTS = ("comunicacao", "news")
LOGO_MAX_BYTES = 512 * 1024
LOGO_MAGIC = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpeg"}


class _Context:
    """What the parts of one company need: the checker, the institution's slug, the platform."""

    def __init__(self, chk: Checker, slug: str | None, platform: Platform | None, directory: Path):
        self.chk, self.slug, self.platform, self.directory = chk, slug, platform, directory


def _address(node: CommentedMap, key: str, raw: str, ctx: _Context, field_name: str) -> Address | None:
    try:
        address = Address.parse(raw)
    except ValueError as exc:
        ctx.chk.add(node, key, field_name, f"{raw!r}: {exc}")
        return None
    if reason := wildcard_problem(address.local):
        ctx.chk.add(node, key, field_name, reason)
        return None
    platform = ctx.platform
    if platform and ctx.slug and is_same_or_subdomain(address.domain, platform.platform_domain):
        own = f"{ctx.slug}.{platform.platform_domain}"
        if address.domain != own:
            ctx.chk.add(node, key, field_name, f"the platform domain belongs to the platform: an address on "
                        f"it must be <local>@{own}")
            return None
    return address


def _account(node: CommentedMap, key: Any, prefix: str, ctx: _Context, company_name: str | None
             ) -> Account | None:
    field_name = where(f"{prefix}.accounts", key)
    if not isinstance(key, str) or not NAME_RE.fullmatch(key):
        ctx.chk.add(node, key, field_name, "account name must be lower case letters, digits, '-' or '_', "
                    "starting with a letter")
        return None
    value, display_name = node[key], company_name
    if isinstance(value, CommentedMap):
        before = len(ctx.chk.problems)
        ctx.chk.unknown(value, ACCOUNT_MAPPING, field_name)
        raw = ctx.chk.text(value, ACCOUNT_MAPPING.get("email"), field_name)
        if "display_name" in value:
            display_name = ctx.chk.display(value, ACCOUNT_MAPPING.get("display_name"), field_name)
        if raw is None or len(ctx.chk.problems) > before:
            return None
    elif isinstance(value, str):
        raw = value
    else:
        ctx.chk.add(node, key, field_name, "must be an e-mail address or {email, display_name}")
        return None
    address = _address(node, key, raw, ctx, field_name)
    if address is None or display_name is None:
        return None
    return Account(key, address, display_name)


def _logo_file(path: Path) -> tuple[int, bytes] | str:
    """(size, first bytes) of a regular file, or why it cannot be a logo."""
    try:
        handle, size = open_regular(path)
    except FileProblem as exc:
        return f"{exc.reason} (paths are relative to the institutions directory)"
    with handle:
        return size, handle.read(8)


def check_logo(node: CommentedMap, prefix: str, ctx: _Context) -> str | None:
    logo = ctx.chk.text(node, COMPANY.get("logo"), prefix)
    if logo is None:
        return None
    field_name = where(prefix, "logo")
    root = ctx.directory.resolve()
    path = (ctx.directory / logo).resolve()
    # resolve() follows every symlink on the way, so a link pointing outside is caught here too.
    if Path(logo).is_absolute() or not path.is_relative_to(root):
        ctx.chk.add(node, "logo", field_name, "must be a path inside the institutions directory (no '..', "
                    "no absolute path, no symbolic link leading out of it)")
        return None
    found = _logo_file(path)
    if isinstance(found, str):
        ctx.chk.add(node, "logo", field_name, f"file {logo!r} {found}")
        return None
    size, head = found
    if size > LOGO_MAX_BYTES:
        ctx.chk.add(node, "logo", field_name, f"is {size} bytes, larger than {LOGO_MAX_BYTES // 1024} KiB")
        return None
    if not any(head.startswith(magic) for magic in LOGO_MAGIC):
        ctx.chk.add(node, "logo", field_name, "must be a PNG or JPEG image")
        return None
    return logo


def _accounts(node: CommentedMap, prefix: str, ctx: _Context, name: str | None) -> tuple[dict, CommentedMap]:
    raw = node.get("accounts") or CommentedMap()
    if not isinstance(raw, CommentedMap):
        ctx.chk.add(node, "accounts", f"{prefix}.accounts", "must be a mapping of account name to address")
        raw = CommentedMap()
    accounts = {}
    for key in raw:
        if account := _account(raw, key, prefix, ctx, name):
            accounts[account.name] = account
    if ctx.platform and ctx.slug and name:
        default = Address.parse(platform_default_address(ctx.slug, ctx.platform))
        for missing in DEFAULT_ACCOUNTS:
            if missing not in raw:
                accounts[missing] = Account(missing, default, name, is_platform_default=True)
    return accounts, raw


def _rules(node: CommentedMap, prefix: str, ctx: _Context, known: set[str]) -> list[tuple[str, str]]:
    raw = node.get("rules") or CommentedMap()
    if not isinstance(raw, CommentedMap):
        ctx.chk.add(node, "rules", f"{prefix}.rules", "must be a mapping of Tutor rule to account name")
        return []
    rules = []
    for rule, target in raw.items():
        field_name = where(f"{prefix}.rules", rule)
        if not isinstance(rule, str) or not NAME_RE.fullmatch(rule):
            ctx.chk.add(raw, rule, field_name, "rule name must be lower case letters, digits, '-' or '_'")
        elif not isinstance(target, str):
            ctx.chk.add(raw, rule, field_name, "must name an account")
        elif target not in known:
            ctx.chk.add(raw, rule, field_name, f"points at account {target!r}, which this company does not "
                        f"have (accounts: {', '.join(sorted(known))})")
        else:
            rules.append((rule, target))
    return rules


def parse_company(companies: list, index: int, chk: Checker, slug: str | None, platform: Platform | None,
                  directory: Path) -> Company | None:
    node, prefix = companies[index], f"companies[{index}]"
    if not isinstance(node, CommentedMap):
        chk.add(companies, index, prefix, "must be a mapping with name, accounts and rules")
        return None
    ctx = _Context(chk, slug, platform, directory)
    before = len(chk.problems)
    chk.unknown(node, COMPANY, prefix)
    name = chk.display(node, COMPANY.get("name"), prefix)
    logo = check_logo(node, prefix, ctx)
    accounts, raw_accounts = _accounts(node, prefix, ctx, name)
    known = set(accounts) | {str(k) for k in raw_accounts} | set(DEFAULT_ACCOUNTS)
    rules = _rules(node, prefix, ctx, known)
    if len(chk.problems) > before or name is None:
        return None
    ordered = tuple(sorted(accounts.values(), key=lambda a: (a.name not in DEFAULT_ACCOUNTS, a.name)))
    return Company(name=name, accounts=ordered, rules=tuple(rules), logo=logo)
