"""The words that cross modules are the vocabulary's types, and read as the plain strings they stand for."""

import json

import pytest
from tutormail.aws.ses import IdentityState
from tutormail.catalog.fields import DNS_ENTRY, PROVIDERS
from tutormail.cenario2 import dmarc
from tutormail.clock import FixedClock
from tutormail.fleet import status
from tutormail.plan.build import plan_for
from tutormail.plan.loader import load_catalog
from tutormail.verification import deliverability
from tutormail.verification.identity_check import check_identity
from tutormail.vocabulary import Provider, Publisher, Readiness, SenderState, TutorAdvice, VerificationStatus

from tests.factory import institution, manual, rfc2136, route53, write_institutions


def test_the_file_table_offers_the_providers_of_the_enum():
    assert PROVIDERS == tuple(Provider)
    assert all(type(p) is str for p in PROVIDERS)  # the schema's enum is plain JSON strings
    assert set(DNS_ENTRY.variants) == set(Provider)


def test_a_parsed_entry_carries_the_enum_and_its_publisher(tmp_path):
    doc = institution("Escola Teste", dns=[route53("escolateste.com.br", "Z0987654321ZYXWVUTSRQ"),
                                           rfc2136("escolateste.edu.br", "ns1.escolateste.edu.br:53", "escola"),
                                           manual("escolateste.org.br")])
    plan = plan_for(load_catalog(write_institutions(tmp_path, {"escola": doc})), "escola")
    owners = {i.name: (i.provider, i.owner) for i in plan.identities if i.dns is not None}
    assert owners == {"escolateste.com.br": (Provider.ROUTE53, Publisher.STACK),
                      "escolateste.edu.br": (Provider.RFC2136, Publisher.RFC2136),
                      "escolateste.org.br": (Provider.MANUAL, Publisher.PERSON)}
    assert all(isinstance(i.dns.provider, Provider) for i in plan.identities if i.dns is not None)
    assert json.dumps([i.owner for i in plan.identities]) == json.dumps([str(i.owner) if i.owner else None
                                                                        for i in plan.identities])


@pytest.mark.parametrize("enum", [Provider, Publisher, VerificationStatus, SenderState, Readiness, TutorAdvice])
def test_json_reads_each_word_as_its_plain_string(enum):
    assert json.dumps({"state": list(enum)}, sort_keys=True) == json.dumps({"state": [m.value for m in enum]})
    assert [f"{m}" for m in enum] == [m.value for m in enum]


def test_the_states_modules_compare_are_the_vocabulary_types(plans):
    assert (dmarc.READY, dmarc.BLOCKED, dmarc.UNKNOWN) == (Readiness.READY, Readiness.BLOCKED, Readiness.UNKNOWN)
    assert all(isinstance(s, Readiness) for s in (dmarc.READY, dmarc.BLOCKED, deliverability.ACCEPTED,
                                                   deliverability.UNCHECKED))
    assert isinstance(status.CONFIGURE, TutorAdvice) and isinstance(status.NOT_YET, TutorAdvice)
    name = "escolateste.com.br"
    checks = [check_identity(plans["escola"], name, IdentityState(name, exists, code, False), FixedClock(), {})
              for exists, code in ((False, None), (True, VerificationStatus.SUCCESS), (True, "FAILED"),
                                   (True, VerificationStatus.PENDING))]
    assert [c.state for c in checks] == [SenderState.MISSING, SenderState.VERIFIED, SenderState.FAILED,
                                         SenderState.PENDING]
    assert all(isinstance(c.state, SenderState) for c in checks)
