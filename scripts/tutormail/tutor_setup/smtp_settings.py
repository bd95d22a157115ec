"""Phase 2: the fields of Tutor's "Contas de E-mail" screen, and the SMTP secret behind them."""

from __future__ import annotations

import errno
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutormail.aws.secrets import secret_value
from tutormail.catalog.names import derive_slug
from tutormail.catalog.problems import ConfigurationError, Problem
from tutormail.exitcodes import UsageError
from tutormail.plan.build import InstitutionPlan, Sender
from tutormail.tutor_setup.smtp_password import smtp_password
from tutormail.verification.identity_check import IdentityCheck

SMTP_PORT = 587
MASK = "********"
SSL_VALUE, TLS_VALUE = "Não", "SES"  # Tutor's choices: no implicit TLS; STARTTLS as SES wants it
# Tutor's "Contas de E-mail" fields in the screen's order: (row key, label on the screen, env suffix).
# De/Remetente is the article's `"Nome" <e-mail>` (catalog.names.render_mailbox).
TUTOR_FIELDS = (("from", "De/Remetente", "FROM"), ("smtp", "SMTP", "HOST"),
                ("port", "Porta", "PORT"), ("user", "Usuário", "USER"), ("password", "Senha", "PASSWORD"),
                ("ssl", "SSL", "SSL"), ("tls", "TLS", "TLS"))


@dataclass(frozen=True)
class SmtpSecret:
    access_key_id: str
    secret_access_key: str
    region: str
    key_generation: int

    def __repr__(self) -> str:  # never let a secret reach a log through repr
        return f"SmtpSecret(access_key_id={self.access_key_id!r}, region={self.region!r}, secret_access_key=***)"


def read_smtp_secret(plan: InstitutionPlan, client: Any = None) -> SmtpSecret:
    value = secret_value(plan.secret_name, plan.platform.region, client)
    data = json.loads(value["SecretString"])
    return SmtpSecret(data["access_key_id"], data["secret_access_key"], data.get("region", plan.platform.region),
                      int(data.get("key_generation", 1)))


@dataclass(frozen=True)
class AccountSettings:
    """One company's account as Tutor's Contas de E-mail screen takes it; `as_dict` is its JSON."""

    company: str
    account: str
    mailbox: str  # De/Remetente
    smtp: str
    port: int
    user: str | None
    password: str  # MASK unless released
    verified: bool
    missing: str | None
    rules: list[str]
    ssl: str = SSL_VALUE
    tls: str = TLS_VALUE

    def as_dict(self) -> dict[str, Any]:
        return {"company": self.company, "account": self.account, "from": self.mailbox, "smtp": self.smtp,
                "port": self.port, "user": self.user, "password": self.password, "ssl": self.ssl, "tls": self.tls,
                "verified": self.verified, "missing": self.missing, "rules": self.rules}

    def tutor_values(self) -> list[Any]:
        """The values of TUTOR_FIELDS, in the screen's order."""
        data = self.as_dict()
        return [data[key] for key, _, _ in TUTOR_FIELDS]


def settings_rows(plan: InstitutionPlan, senders: list[Sender], checks: dict[str, IdentityCheck],
                  secret: SmtpSecret | None, reveal: bool) -> list[AccountSettings]:
    """One row per company and account, fields in the screen's order."""
    rows = []
    for sender in senders:
        check = checks[sender.identity]
        released = reveal and check.verified and secret is not None
        rows.append(AccountSettings(
            company=sender.company, account=sender.account, mailbox=sender.mailbox,
            smtp=plan.smtp_endpoint, port=SMTP_PORT, user=secret.access_key_id if secret else None,
            password=smtp_password(secret.secret_access_key, plan.platform.region) if released else MASK,
            verified=check.verified, missing=check.missing or None,
            rules=sorted(rule for rule, target in plan.institution.company(sender.company).rules
                         if target == sender.account)))
    return rows


def env_prefix(company: str, account: str) -> str:
    # Accents folded as in slugs: "Instituição XY" -> INSTITUICAO_XY.
    return "TUTOR_SMTP_" + derive_slug(f"{company} {account}").upper().replace("-", "_")


def env_lines(rows: list[AccountSettings]) -> list[str]:
    """Shell assignments, one name per field and account; two accounts whose names fold to the same
    variable names are refused rather than one silently overwriting the other."""
    seen: dict[str, tuple[str, str]] = {}
    lines = []
    for row in rows:
        prefix = env_prefix(row.company, row.account)
        other = seen.setdefault(prefix, (row.company, row.account))
        if other != (row.company, row.account):
            raise UsageError(f"--format env: company {other[0]!r} account {other[1]!r} and company "
                             f"{row.company!r} account {row.account!r} both become {prefix}_*; choose one "
                             "with --company/--account, or use --format json")
        for (_, _, suffix), value in zip(TUTOR_FIELDS, row.tutor_values(), strict=True):
            escaped = str(value).replace("'", "'\\''")
            lines.append(f"{prefix}_{suffix}='{escaped}'")
    return lines


def _cannot_write(path: Path, exc: OSError, option: str) -> ConfigurationError:
    return ConfigurationError([Problem(str(path), 0, option, f"cannot write here: {exc.strerror or exc}")])


def write_private(path: Path, text: str, option: str = "--out") -> None:
    """A file that may hold a password, readable by its owner only from its first byte.

    The text goes to a new file made with O_EXCL in the same directory, which is then renamed over
    `path`: a symlink at `path` is replaced rather than followed, and an existing file (perhaps
    another user's, perhaps world-readable) is never written into, only replaced by ours.
    """
    path = Path(path)
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # O_EXCL|O_NOFOLLOW, 0600
    except OSError as exc:
        raise _cannot_write(path, exc, option) from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise _cannot_write(path, exc, option) from None
