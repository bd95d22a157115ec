"""The words that cross modules are the vocabulary's types, and read as the plain strings they stand for."""

import json

from tutormail.catalog.fields import DNS_ENTRY, PROVIDERS
from tutormail.plan.build import plan_for
from tutormail.plan.loader import load_catalog
from tutormail.vocabulary import Provider, Publisher

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
