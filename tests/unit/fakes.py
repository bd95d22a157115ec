"""Fakes of what the library asks AWS and DNS, shared by the in-process unit tests: SES, the
progress store, Secrets Manager, DMARC look-ups that ask no server, identity states, and status rows."""

from __future__ import annotations

from tutormail.aws.ses import IdentityState
from tutormail.cenario1.rfc2136_changes import DECIDED
from tutormail.cenario2.dmarc import DmarcLookups
from tutormail.fleet.status import StatusRow
from tutormail.plan.change import Change, Kind
from tutormail.tutor_setup.smtp_settings import SmtpSecret
from tutormail.verification.deliverability import Deliverability
from tutormail.verification.identity_check import PLATFORM
from tutormail.vocabulary import Readiness, SenderState, TutorAdvice

SECRET = SmtpSecret("FAKEKEYIDFORTESTS001", "tutormailFAKEsecretKEY/notREAL+000000000", "us-east-1", 1)


class FakeSes:
    """SES as the library sees it: identity states by name, and a count of links asked for."""

    def __init__(self, states: dict[str, IdentityState] | None = None):
        self.states = states or {}
        self.links: list[str] = []

    def identity(self, name):
        return self.states.get(name, IdentityState(name, exists=False))

    def resend_link(self, address):
        self.links.append(address)


class FakeProgress:
    def __init__(self, tags: dict[str, str] | None = None):
        self.tags = dict(tags or {})
        self.writes: list[dict[str, str]] = []

    def read(self):
        return dict(self.tags)

    def write(self, tags):
        self.writes.append(tags)
        self.tags.update(tags)

    def write_if(self, key, value, expected):
        if self.tags.get(key) != expected:
            return False
        self.write({key: value})
        return True


class FakeTable:
    """The progress table as cleanup and offboard delete from it: the keys each BatchWriteItem deletes."""

    def __init__(self):
        self.deleted: list[tuple[str, str]] = []

    def batch_write_item(self, RequestItems):
        for requests in RequestItems.values():
            self.deleted += [(r["DeleteRequest"]["Key"]["institution"]["S"], r["DeleteRequest"]["Key"]["mark"]["S"])
                             for r in requests]
        return {}


def no_dmarc():
    """DMARC look-ups that find no record (ready), without asking any DNS server."""
    return DmarcLookups(fetch=lambda name: [])


def verified(name):
    return IdentityState(name, True, "SUCCESS", True, dkim_tokens=("t1", "t2", "t3"))


def pending(name, tokens=("t1", "t2", "t3")):
    return IdentityState(name, True, "PENDING", False, dkim_tokens=tokens)


class FakeSecrets:
    """Secrets Manager: GetSecretValue and a ListSecrets paginator over pages given here."""

    def __init__(self, value=None, pages=()):
        self.value, self.pages, self.asked = value, list(pages), []

    def get_secret_value(self, SecretId):
        self.asked.append(SecretId)
        return {"SecretString": self.value}

    def get_paginator(self, name):
        assert name == "list_secrets"
        fake = self

        class Paginator:
            def paginate(self, **kwargs):
                fake.asked.append(kwargs)
                return iter(fake.pages)

        return Paginator()


def services(ses, progress=None, clock=None, dns=None, lookups=None, fleet_marks=None):
    """A Services of fakes: one SES and one progress store for every institution (a new
    FakeProgress when none is given), a FixedClock, DMARC look-ups against `dns` unless given;
    the fleet's marks (status) only where a test gives their reader."""
    from tutormail.catalog.model import Platform
    from tutormail.clock import FixedClock
    from tutormail.dnsclient.resolver import DnsEndpoints
    from tutormail.plan.build import InstitutionPlan
    from tutormail.services import Services

    dns = DnsEndpoints() if dns is None else dns
    progress = FakeProgress() if progress is None else progress

    def ses_of(platform):  # the use case asks for its platform's SES, and the progress of its plan
        assert isinstance(platform, Platform), f"SES asked for {platform!r}, not a platform"
        return ses

    def progress_of(plan):
        assert isinstance(plan, InstitutionPlan), f"progress asked for {plan!r}, not a plan"
        return progress

    def no_fleet_marks(platform, slugs):
        raise AssertionError(f"the fleet's marks read for {list(slugs)}, and the test gave no reader")

    return Services(clock or FixedClock(), dns, lookups or DmarcLookups(dns), ses=ses_of, progress=progress_of,
                    fleet_marks=fleet_marks or no_fleet_marks)


def record_change(name, rtype, decided, wanted, found, reason="", of=""):
    """A record set's change in dns-publish's words (add, change, nothing, conflict)."""
    return Change(Kind.RECORD, name, DECIDED[decided], reason, type=rtype, of=of, wanted=wanted, found=found)


def status_row(institution="escola-padrao", company="Escola Padrão", account="comunicacao",
               address="comunicacao@escola-padrao.sistematutor.com.br", **fields):
    """A row of `status` (fleet/status.py) at phase 1 verified, but for what the test gives."""
    return StatusRow(**{"institution": institution, "company": company, "account": account, "address": address,
                        "scenario": 1, "state": SenderState.VERIFIED, "phase": "1 verified", "missing": None,
                        "next_action": "none", "actor": PLATFORM, "link_expires_at": None,
                        "deliverability": Deliverability(Readiness.READY), "tutor": TutorAdvice.CONFIGURE, **fields})
