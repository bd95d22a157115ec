"""cleanup's decisions without AWS: which identities are this institution's leftovers, where a
removed domain's DNS is, and the exit code (the sandbox run is tests/lifecycle/test_cleanup.py)."""

from __future__ import annotations

import json
from dataclasses import replace

from botocore.exceptions import ClientError
from tutormail.aws.ses import IdentityState
from tutormail.catalog.entities import DnsDomain
from tutormail.dnsclient.resolver import DnsEndpoints
from tutormail.exitcodes import Exit
from tutormail.lifecycle import cleanup
from tutormail.lifecycle.offboard import claimed_identities
from tutormail.plan.change import Action, Change, Kind, Outcome, Plan, apply

from tests.unit.fakes import FakeTable

SLUG = "instituicao-xy"


class FakeSes:
    """SES v2 as cleanup reads it: identities with their default configuration set."""

    def __init__(self, identities: dict[str, str | None]):
        self.identities = dict(identities)
        self.deleted: list[str] = []

    def list_email_identities(self, **kwargs):
        return {"EmailIdentities": [{"IdentityName": n, "VerificationStatus": "SUCCESS"} for n in self.identities]}

    def get_email_identity(self, EmailIdentity):
        if EmailIdentity not in self.identities:
            raise ClientError({"Error": {"Code": "NotFoundException"}}, "GetEmailIdentity")
        return {"IdentityType": "EMAIL_ADDRESS", "ConfigurationSetName": self.identities[EmailIdentity]}

    def delete_email_identity(self, EmailIdentity):
        self.deleted.append(EmailIdentity)
        del self.identities[EmailIdentity]


class FakeCfn:
    def __init__(self, declared: list[str]):
        self.template = {"Resources": {f"I{n}": {"Type": "AWS::SES::EmailIdentity", "Properties": {
            "EmailIdentity": name}} for n, name in enumerate(declared)}}

    def get_template(self, **kwargs):
        return {"TemplateBody": json.dumps(self.template)}


def job(examples, identities, declared=(), apply=False, table=None):
    ses = FakeSes(identities)
    clients = {"sesv2": ses, "cloudformation": FakeCfn(list(declared)), "dynamodb": table or FakeTable()}
    return cleanup.cleanup_job(examples, SLUG, apply, DnsEndpoints(), clients=clients), ses


def test_only_unclaimed_identities_of_the_institutions_configuration_set_are_leftovers(examples):
    claimed = sorted(claimed_identities(examples))
    ours = f"tutormail-{SLUG}"
    identities = {"velho@antigo.com.br": ours, "outro@antigo.com.br": "tutormail-escola-padrao",
                  "semdono@antigo.com.br": None, "aguarda@antigo.com.br": ours, claimed[0]: ours}
    dry, ses = job(examples, identities, declared=["aguarda@antigo.com.br"])
    found = {i.name: i for i in cleanup.run(dry)}
    assert set(found) == {"velho@antigo.com.br", "aguarda@antigo.com.br"}
    assert found["velho@antigo.com.br"].action == Action.DELETE and found["velho@antigo.com.br"].outcome is None
    assert ses.deleted == []
    assert found["aguarda@antigo.com.br"].action == Action.PERSON and "deploy" in found["aguarda@antigo.com.br"].reason
    assert cleanup.outcome(list(found.values())) == Exit.ACTION_NEEDED

    table = FakeTable()
    applied, ses = job(examples, identities, declared=["aguarda@antigo.com.br"], apply=True, table=table)
    found = {i.name: i for i in cleanup.run(applied)}
    assert ses.deleted == ["velho@antigo.com.br"] and found["velho@antigo.com.br"].outcome == Outcome.DONE
    # its DMARC acceptance goes with it: a later identity of that name is blocked again (issue 20)
    assert table.deleted == [(SLUG, "tutormail:dmarc-risk:velho@antigo.com.br")]


def test_nothing_left_is_exit_0_and_left_or_gone_items_need_no_one():
    delete = Change(Kind.IDENTITY, "d", Action.DELETE)
    assert cleanup.outcome([]) == Exit.OK
    assert cleanup.outcome([Change(Kind.RECORD, "x", Action.KEEP, "not ours", type="TXT", of="d"),
                            delete.applied(), delete.applied(Outcome.GONE)]) == Exit.OK
    assert cleanup.outcome([delete]) == Exit.ACTION_NEEDED  # a dry run that lists removals: run it with --apply


def test_an_identity_is_held_back_when_its_records_changed_at_the_server_during_the_apply():
    record = Change(Kind.RECORD, "t1._domainkey.d.com.br", Action.DELETE, type="CNAME", of="d.com.br")
    planned = Plan()
    planned.add(record, lambda done: (Outcome.CHANGED, "changed at the server while we removed it"))
    deleted = []
    job = type("J", (), {"client": lambda self, name: type("S", (), {
        "delete_email_identity": lambda self, EmailIdentity: deleted.append(EmailIdentity)})()})()
    planned.add(Change(Kind.IDENTITY, "d.com.br", Action.DELETE), cleanup._delete_identity(job, "d.com.br"))
    applied = apply(planned)
    assert [c.outcome for c in applied] == [Outcome.CHANGED, Outcome.HELD] and deleted == []
    assert applied[1].reason == cleanup.KEPT_FOR_RECORDS and cleanup.outcome(applied) == Exit.ACTION_NEEDED


def entry(domain, provider="rfc2136", **kwargs):
    return DnsDomain(domain=domain, provider=provider, mail_from=f"bounce.{domain}", server="127.0.0.1",
                     tsig_key="tutormail/x/tsig", **kwargs)


def test_a_removed_domains_dns_is_found_in_the_file_before_the_change_first(examples):
    dry, _ = job(examples, {})
    now = entry("antigo.com.br", provider="manual")
    dry.plan = replace(dry.plan, institution=replace(dry.plan.institution, dns=(now,)))
    assert cleanup._dns_entry(dry, "mail.antigo.com.br") == now  # covered by today's entry
    assert cleanup._dns_entry(dry, "outro.com.br") is None
    before = entry("mail.antigo.com.br")
    dry.previous = replace(dry.plan.institution, dns=(entry("antigo.com.br"), before))
    assert cleanup._dns_entry(dry, "mail.antigo.com.br") == before  # the most specific entry of before


def test_a_leftover_domain_takes_mail_from_from_ses_and_dmarc_only_from_its_own_entry():
    state = IdentityState("antigo.com.br", exists=True, mail_from_domain="envio.antigo.com.br")
    exact = entry("antigo.com.br", dmarc_policy="quarantine")
    assert cleanup._leftover("antigo.com.br", exact, state).mail_from == "envio.antigo.com.br"
    assert cleanup._leftover("antigo.com.br", exact, state).dmarc_policy == "quarantine"
    parent = cleanup._leftover("sub.antigo.com.br", exact, replace(state, mail_from_domain=None))
    assert (parent.dmarc_policy, parent.mail_from, parent.provider) == ("none", "mail.sub.antigo.com.br", "rfc2136")
    assert cleanup._leftover("x.com.br", None, state).provider is None


def test_the_files_before_the_change_name_the_institution_or_it_is_new(examples, tmp_path):
    import shutil

    import pytest
    from tutormail.exitcodes import UsageError

    from tests.conftest import INSTITUTIONS

    shutil.copy(INSTITUTIONS / "platform.yaml", tmp_path)
    assert cleanup.cleanup_job(examples, SLUG, False, DnsEndpoints(), previous=tmp_path).previous is None
    before = shutil.copytree(INSTITUTIONS, tmp_path / "before")
    assert cleanup.cleanup_job(examples, SLUG, False, DnsEndpoints(), previous=before).previous.slug == SLUG
    with pytest.raises(UsageError, match="--previous"):
        cleanup.cleanup_job(examples, SLUG, False, DnsEndpoints(), previous=tmp_path / "nowhere")


class FakeRoute53:
    """A zone listed as Route 53 lists it: names in the order of their reversed labels, 2 per page."""

    def __init__(self, names):
        self.rrsets = sorted(({"Name": f"{n}.", "Type": "CNAME", "TTL": 1800, "ResourceRecords": [{"Value": "x."}]}
                              for n in names), key=lambda r: ".".join(reversed(r["Name"].rstrip(".").split("."))))
        self.calls = 0

    def list_resource_record_sets(self, HostedZoneId, StartRecordName=None, StartRecordType=None):
        self.calls += 1
        key = ".".join(reversed((StartRecordName or "").rstrip(".").split(".")))
        rest = [r for r in self.rrsets if ".".join(reversed(r["Name"].rstrip(".").split("."))) >= key]
        page = {"ResourceRecordSets": rest[:2], "IsTruncated": len(rest) > 2}
        if len(rest) > 2:
            page.update(NextRecordName=rest[2]["Name"], NextRecordType="CNAME")
        return page


def test_route53_names_under_one_name_read_only_that_run_of_the_zone():
    from tutormail.preflight.check import Route53Names

    base = "_domainkey.a.sistematutor.com.br"
    zone = FakeRoute53([f"t{n}.{base}" for n in range(3)] + [base, "www.a.sistematutor.com.br",
                        "b.sistematutor.com.br", "t9._domainkey.b.sistematutor.com.br"] +
                       [f"x{n}.z.sistematutor.com.br" for n in range(20)])
    listed = Route53Names(zone, "Z1", under=base)
    assert sorted(name for name, _ in listed.sets) == sorted([base] + [f"t{n}.{base}" for n in range(3)])
    assert zone.calls == 3  # the run's two pages and the one that leaves it, not all 14 pages
    assert len(Route53Names(zone, "Z1").sets) == 27


class DkimSes(FakeSes):
    def get_email_identity(self, EmailIdentity):
        return {"IdentityType": "DOMAIN", "ConfigurationSetName": f"tutormail-{SLUG}",
                "DkimAttributes": {"Status": "SUCCESS", "Tokens": ["novo1", "novo2", "novo3"]}}


class OutputsCfn(FakeCfn):
    def __init__(self, outputs):
        super().__init__([])
        self.outputs = outputs

    def describe_stacks(self, StackName):
        return {"Stacks": [{"StackName": StackName, "Outputs": self.outputs}]}


def test_a_stale_looking_dkim_cname_the_stack_wrote_is_left_to_the_stack(examples):
    """SES's tokens changed outside CloudFormation (issue 23): the CNAMEs the deployed stack wrote (its
    outputs) are the record-set group's, whose next update would fail if cleanup had deleted them."""
    domain = "instituicaoxy.com.br"
    base = f"_domainkey.{domain}"
    zone = FakeRoute53([f"velho{n}.{base}" for n in range(1, 4)] + [f"solto.{base}"])
    for rrset in zone.rrsets:
        label = rrset["Name"].split(".")[0]
        rrset["ResourceRecords"] = [{"Value": f"{label}.dkim.amazonses.com"}]
    stack_wrote = ",".join(f"velho{n}.{base}" for n in range(1, 4))
    clients = {"sesv2": DkimSes({}), "route53": zone,
               "cloudformation": OutputsCfn([{"OutputKey": "DkimRecords", "OutputValue": stack_wrote}])}
    dry = cleanup.cleanup_job(examples, SLUG, False, DnsEndpoints(), clients=clients)
    planned = cleanup._stale_dkim(dry, cleanup.Ses(dry.plan.platform, sesv2=clients["sesv2"]))
    found = {c.label: c for c in planned.changes if c.of == domain}
    assert {n for n, c in found.items() if c.action == Action.KEEP} == {f"velho{n}.{base} CNAME" for n in (1, 2, 3)}
    assert found[f"solto.{base} CNAME"].action == Action.DELETE  # nobody's: cleanup's to delete
