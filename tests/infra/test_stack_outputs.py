"""Issue 23: CloudFormation allows 200 outputs per template; an institution with many Route 53
domains (sub-domain senders included) must be refused by `validate` before its stack would be."""

from __future__ import annotations

import json

from aws_cdk.assertions import Template
from tutormail.plan.build import build_plan
from tutormail.plan.limits import STACK_OUTPUTS_MAX, stack_outputs
from tutormail.plan.loader import load_catalog

from tests.conftest import run_cli
from tests.factory import company, institution, route53
from tests.infra.conftest import synthesize

SLUG, ZONE = "escola-muitas", "Z0MANYOUTPUTS00000001"


def _doc(senders: int) -> dict:
    """One Route 53 domain and `senders` addresses, each on a sub-domain of its own."""
    accounts = {"comunicacao": "comunicacao@muitas.edu.br", "news": "news@muitas.edu.br",
                **{f"conta{n}": f"contato@s{n}.muitas.edu.br" for n in range(senders)}}
    return institution("Escola Muitas", dns=[route53("muitas.edu.br", ZONE)],
                       companies=[company("Escola Muitas", accounts)])


def test_the_count_is_the_synthesized_templates(institution_files):
    catalog = load_catalog(institution_files(**{SLUG: _doc(12)}))
    app = synthesize(catalog, nag=False)
    outputs = Template.from_stack(app.node.find_child(f"TutorMail-{SLUG}")).to_json()["Outputs"]
    # the platform sub-domain, muitas.edu.br and its 12 sub-domains: 14 DkimRecords, and the stack's own 5
    assert len(outputs) == stack_outputs(build_plan(catalog.institutions[SLUG], catalog.platform)) == 19
    assert sum(name.endswith("DkimRecords") or "DkimRecords" in name for name in outputs) == 14


def test_validate_refuses_a_stack_over_200_outputs(institution_files):
    fits = institution_files(**{SLUG: _doc(STACK_OUTPUTS_MAX - 7)})  # 193 + 2 domains + 5 = 200
    assert stack_outputs(build_plan(*(lambda c: (c.institutions[SLUG], c.platform))(load_catalog(fits)))) == 200
    assert run_cli("validate", "--output", "json", "--institutions", str(fits)).returncode == 0
    over = institution_files(**{SLUG: _doc(STACK_OUTPUTS_MAX - 6)})
    result = run_cli("validate", "--output", "json", "--institutions", str(over))
    assert result.returncode == 2, result.stdout + result.stderr
    [problem] = [p for p in json.loads(result.stdout)["problems"] if "outputs" in p["reason"]]
    assert problem["field"] == "dns" and "201 outputs" in problem["reason"] and "allows 200" in problem["reason"]
