"""Issue 23: a sender on a sub-domain of a `dns` entry gets a domain identity of its own, whose default
configuration set is the institution's, so its mail carries the set whichever identity SES applies
(whether a parent domain's default set covers its sub-domains is not documented)."""

from __future__ import annotations

from aws_cdk.assertions import Template
from tutormail.plan.build import build_plan
from tutormail.plan.loader import load_catalog
from tutormail.plan.smtp_policy import send_policies

from tests.factory import company, institution, route53
from tests.infra.conftest import synthesize

SLUG, ZONE = "escola-sub", "Z0SUBDOMAIN0000000001"


def _catalog(institution_files):
    doc = institution("Escola Sub", dns=[route53("escolasub.com.br", ZONE)], companies=[company("Escola Sub", {
        "comunicacao": "comunicacao@escolasub.com.br", "news": "news@avisos.escolasub.com.br"})])
    return load_catalog(institution_files(**{SLUG: doc}))


def test_the_sub_domain_is_its_own_identity_in_the_entrys_dns(institution_files):
    catalog = _catalog(institution_files)
    plan = build_plan(catalog.institutions[SLUG], catalog.platform)
    senders = {s.address: s.identity for s in plan.senders}
    assert senders == {"comunicacao@escolasub.com.br": "escolasub.com.br",
                       "news@avisos.escolasub.com.br": "avisos.escolasub.com.br"}
    sub = plan.identity("avisos.escolasub.com.br")
    assert (sub.kind, sub.provider, sub.hosted_zone_id, sub.mail_from) == (
        "domain", "route53", ZONE, "bounce.avisos.escolasub.com.br")
    assert sub.dmarc == "inherit"  # the parent's policy applies (RFC 7489 6.6.3): no record of its own
    names = {(r.name, r.type) for r in plan.records(sub)}
    assert ("bounce.avisos.escolasub.com.br", "MX") in names and not any(n.startswith("_dmarc") for n, _ in names)
    assert sum(t == "CNAME" and n.endswith("._domainkey.avisos.escolasub.com.br") for n, t in names) == 3
    # The SMTP user may send from the sub-domain's own identity.
    resources = {r for statements in send_policies(plan) for s in statements for r in (
        [s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])}
    assert any(r.endswith(":identity/avisos.escolasub.com.br") for r in resources), resources


def test_its_identity_has_the_institutions_default_configuration_set(institution_files):
    app = synthesize(_catalog(institution_files), nag=False)
    template = Template.from_stack(app.node.find_child(f"TutorMail-{SLUG}"))
    identities = {r["Properties"]["EmailIdentity"]: r["Properties"]
                  for r in template.find_resources("AWS::SES::EmailIdentity").values()}
    assert {"escolasub.com.br", "avisos.escolasub.com.br"} <= set(identities)
    for name in ("escolasub.com.br", "avisos.escolasub.com.br"):
        assert identities[name]["ConfigurationSetAttributes"]["ConfigurationSetName"] == {
            "Ref": next(k for k, r in template.find_resources("AWS::SES::ConfigurationSet").items())}, name
