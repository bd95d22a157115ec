"""What a use case reaches outside the process: SES, the progress marks, the DNS servers and the
DMARC look-ups, the clock. Built once per command from the runtime settings (`Services.of`, in
`cli/` and `pipeline/`) and passed down whole, instead of a client, a store and a look-up threaded
through every parameter list; a test builds one from its fakes (`tests/unit/fakes.py` `services`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tutormail.aws.progress_marks import Progress, fleet_marks
from tutormail.aws.ses import Ses
from tutormail.catalog.model import Platform
from tutormail.cenario2.dmarc import DmarcLookups
from tutormail.clock import Clock
from tutormail.dnsclient.resolver import DnsEndpoints
from tutormail.plan.build import InstitutionPlan


@dataclass(frozen=True)
class Services:
    clock: Clock
    dns: DnsEndpoints
    lookups: DmarcLookups  # one DMARC query per domain for the whole command
    ses: Callable[[Platform], Ses] = Ses
    progress: Callable[[InstitutionPlan], Progress] = Progress
    fleet_marks: Callable[[Platform, Iterable[str]], dict[str, dict[str, str]]] = fleet_marks  # status

    @classmethod
    def of(cls, clock: Clock, dns: DnsEndpoints) -> Services:
        return cls(clock, dns, DmarcLookups(dns))
