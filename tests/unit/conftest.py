"""The institutions the in-process unit tests share."""

from __future__ import annotations

import pytest
from tutormail.plan.build import plan_for
from tutormail.plan.loader import load_catalog

from tests.factory import company, institution, manual, rfc2136, route53


@pytest.fixture
def plans(institution_files):
    directory = institution_files(
        escola=institution("Escola Teste", dns=[
            route53("escolateste.com.br", "Z0000000000000000TEST"),
            rfc2136("rede.escolateste.edu.br", "127.0.0.1", "escola"),
            manual("manual.escolateste.org.br")], companies=[
            company("Escola Teste", {"comunicacao": "comunicacao@escolateste.com.br",
                                     "news": "news@sub.rede.escolateste.edu.br",
                                     "atendimento": "atendimento@manual.escolateste.org.br"},
                    rules={"avisos": "comunicacao"}),
            company("Colégio Teste", {"comunicacao": "contato@colegioteste.com.br"})]),
        padrao=institution("Padrão"))
    catalog = load_catalog(directory)
    return {slug: plan_for(catalog, slug) for slug in catalog.institutions}
