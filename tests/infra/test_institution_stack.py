"""The institution stack, asserted on the real synthesized template."""

import dataclasses

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template
from tutormail.plan.loader import load_catalog

from infra.app_builder import build_app
from tests.conftest import INSTITUTIONS, cdk_context
from tests.infra.conftest import synthesize

# Changing any of these replaces a live resource (new DKIM keys, a new user and key): never do it.
PINNED_XY = {
    "IdentityInstituicaoXySistematutorComBr11CECFA0": "AWS::SES::EmailIdentity",
    "IdentityInstituicaoxyComBrFE7AF05B": "AWS::SES::EmailIdentity",
    "IdentityUniXyEduBrD244709A": "AWS::SES::EmailIdentity",
    "IdentityContatoColegioxyComBr81F1027B": "AWS::SES::EmailIdentity",
    "SmtpUser": "AWS::IAM::User",
    "SmtpKeyGen1": "AWS::IAM::AccessKey",
    "SmtpSecret": "AWS::SecretsManager::Secret",
    "ConfigurationSet": "AWS::SES::ConfigurationSet",
}


def resources(template, kind):
    return template.find_resources(kind)


def test_logical_ids_of_stateful_resources_are_pinned(xy_template):
    found = xy_template.to_json()["Resources"]
    for logical_id, kind in PINNED_XY.items():
        assert found.get(logical_id, {}).get("Type") == kind, logical_id


def test_one_identity_per_sender_kept_on_deletion_but_not_on_a_failed_create(xy_template):
    identities = resources(xy_template, "AWS::SES::EmailIdentity")
    names = sorted(r["Properties"]["EmailIdentity"] for r in identities.values())
    assert names == ["contato@colegioxy.com.br", "instituicao-xy.sistematutor.com.br", "instituicaoxy.com.br",
                     "uni-xy.edu.br"]
    for resource in identities.values():
        assert resource["DeletionPolicy"] == "RetainExceptOnCreate" and resource["UpdateReplacePolicy"] == "Retain"
        assert resource["Properties"]["ConfigurationSetAttributes"] == {
            "ConfigurationSetName": {"Ref": "ConfigurationSet"}}
        # the mark IAM checks before the operator may delete it (issue 20)
        assert {"Key": "tutormail:institution", "Value": "instituicao-xy"} in resource["Properties"]["Tags"]


def test_domain_identities_use_easy_dkim_2048_and_mail_from(xy_template):
    for name in ("instituicao-xy.sistematutor.com.br", "instituicaoxy.com.br", "uni-xy.edu.br"):
        xy_template.has_resource_properties("AWS::SES::EmailIdentity", {
            "EmailIdentity": name,
            "DkimSigningAttributes": {"NextSigningKeyLength": "RSA_2048_BIT"},
            "DkimAttributes": {"SigningEnabled": True},
            "MailFromAttributes": {"MailFromDomain": f"bounce.{name}", "BehaviorOnMxFailure": "USE_DEFAULT_VALUE"},
        })


def _record_sets(template, zone):
    groups = [r["Properties"] for r in resources(template, "AWS::Route53::RecordSetGroup").values()
              if r["Properties"]["HostedZoneId"] == zone]
    assert len(groups) == 1, f"one record-set group per Route 53 domain, got {len(groups)}"
    return groups[0]["RecordSets"]


def test_route53_domains_get_three_dkim_cnames_mail_from_and_dmarc(xy_template):
    platform_zone, own_zone = "Z0123456789ABCDEFGHIJ", "Z0987654321ZYXWVUTSRQ"
    identities = resources(xy_template, "AWS::SES::EmailIdentity")
    for zone, domain in ((platform_zone, "instituicao-xy.sistematutor.com.br"), (own_zone, "instituicaoxy.com.br")):
        records = _record_sets(xy_template, zone)
        identity_id = next(k for k, v in identities.items() if v["Properties"]["EmailIdentity"] == domain)
        cnames = [r for r in records if r["Type"] == "CNAME"]
        assert [c["Name"] for c in cnames] == [
            {"Fn::GetAtt": [identity_id, f"DkimDNSTokenName{n}"]} for n in (1, 2, 3)]
        assert [c["ResourceRecords"] for c in cnames] == [
            [{"Fn::GetAtt": [identity_id, f"DkimDNSTokenValue{n}"]}] for n in (1, 2, 3)]
        by_type = {(r["Type"], r["Name"]): r["ResourceRecords"] for r in records if r["Type"] != "CNAME"}
        expected = {
            ("MX", f"bounce.{domain}"): ["10 feedback-smtp.us-east-1.amazonses.com"],
            ("TXT", f"bounce.{domain}"): ['"v=spf1 include:amazonses.com ~all"'],
        }
        # The platform subdomain inherits the platform domain's policy (RFC 7489 6.6.3): no record of its own.
        if zone == own_zone:
            expected[("TXT", f"_dmarc.{domain}")] = ['"v=DMARC1; p=none;"']
        assert by_type == expected
    # uni-xy.edu.br is rfc2136: its records are published by `tutormail dns-publish`, not the stack.
    assert len(resources(xy_template, "AWS::Route53::RecordSetGroup")) == 2
    assert not resources(xy_template, "AWS::Route53::RecordSet")


def _dmarc_records(catalog, slug):
    template = Template.from_stack(synthesize(catalog, nag=False).node.find_child(f"TutorMail-{slug}"))
    groups = resources(template, "AWS::Route53::RecordSetGroup").values()
    return {r["Name"]: r["ResourceRecords"] for group in groups for r in group["Properties"]["RecordSets"]
            if isinstance(r["Name"], str) and r["Name"].startswith("_dmarc.")}


def test_dmarc_keep_writes_no_record_and_platform_dmarc_publishes_the_named_policy():
    catalog = load_catalog(INSTITUTIONS, only=["instituicao-xy"])
    xy = catalog.institutions["instituicao-xy"]
    kept = dataclasses.replace(xy, platform_dmarc="reject", dns=tuple(
        dataclasses.replace(d, dmarc="keep") if d.provider == "route53" else d for d in xy.dns))
    found = _dmarc_records(dataclasses.replace(catalog, institutions={"instituicao-xy": kept}), "instituicao-xy")
    assert found == {"_dmarc.instituicao-xy.sistematutor.com.br": ['"v=DMARC1; p=reject;"']}


def test_smtp_user_may_only_send_raw_email_as_its_addresses(xy_template):
    """A customer managed policy (6,144 characters, not an inline 2,048); addresses under a domain
    identity in any case, a Cenário 2 address exactly as verified (tutormail.plan.smtp_policy)."""
    assert not resources(xy_template, "AWS::IAM::Policy")
    [policy] = resources(xy_template, "AWS::IAM::ManagedPolicy").values()
    assert policy["Properties"]["Users"] == [{"Ref": "SmtpUser"}]
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert set(statements) == {"SendAsDomainAddresses", "SendAsVerifiedAddresses"}
    assert {s["Effect"] for s in statements.values()} == {"Allow"}
    assert {s["Action"] for s in statements.values()} == {"ses:SendRawEmail"}
    assert statements["SendAsDomainAddresses"]["Condition"] == {"StringEqualsIgnoreCase": {"ses:FromAddress": [
        "atendimento@instituicaoxy.com.br", "comunicacao@instituicao-xy.sistematutor.com.br",
        "comunicacao@instituicaoxy.com.br"]}}
    assert statements["SendAsVerifiedAddresses"]["Condition"] == {"StringEquals": {"ses:FromAddress": [
        "contato@colegioxy.com.br"]}}
    arn = "arn:aws:ses:us-east-1:123456789012:"

    def resolved(statement):
        return sorted(r if isinstance(r, str) else "".join(
            p if isinstance(p, str) else "aws" for p in r["Fn::Join"][1]) for r in statement["Resource"])

    assert resolved(statements["SendAsDomainAddresses"]) == sorted([
        f"{arn}configuration-set/tutormail-instituicao-xy", f"{arn}identity/instituicao-xy.sistematutor.com.br",
        f"{arn}identity/instituicaoxy.com.br"])
    assert resolved(statements["SendAsVerifiedAddresses"]) == [
        f"{arn}configuration-set/tutormail-instituicao-xy", f"{arn}identity/contato@colegioxy.com.br"]
    user = resources(xy_template, "AWS::IAM::User")["SmtpUser"]["Properties"]
    assert user["UserName"] == "tutormail-instituicao-xy-smtp"
    assert not {"Policies", "ManagedPolicyArns", "Groups"} & set(user)


def test_secret_holds_the_key_by_reference_only(xy_template):
    secret = resources(xy_template, "AWS::SecretsManager::Secret")["SmtpSecret"]["Properties"]
    assert secret["Name"] == "tutormail/instituicao-xy/smtp"
    parts = secret["SecretString"]["Fn::Join"][1]
    assert {"Fn::GetAtt": ["SmtpKeyGen1", "SecretAccessKey"]} in parts
    assert {"Ref": "SmtpKeyGen1"} in parts
    assert '"region":"us-east-1"' in "".join(p for p in parts if isinstance(p, str))


def test_configuration_set_sends_reputation_events_to_eventbridge(xy_template):
    xy_template.has_resource_properties("AWS::SES::ConfigurationSet", {"Name": "tutormail-instituicao-xy"})
    xy_template.has_resource_properties("AWS::SES::ConfigurationSetEventDestination", {
        "ConfigurationSetName": {"Ref": "ConfigurationSet"},
        "EventDestination": {
            "Enabled": True,
            "EventBridgeDestination": {"EventBusArn": Match.any_value()},
            "MatchingEventTypes": Match.array_equals(["bounce", "complaint", "reject", "delivery"]),
        }})


def test_the_stack_does_not_own_the_sending_switch(xy_template):
    """pause, resume, offboard and the pause action own it: a deploy must never switch sending back on."""
    [config_set] = xy_template.find_resources("AWS::SES::ConfigurationSet").values()
    assert "SendingOptions" not in config_set["Properties"]


def test_outputs_name_what_the_scripts_need_and_never_a_secret(xy_template):
    outputs = xy_template.to_json()["Outputs"]
    values = [o["Value"] for o in outputs.values()]
    assert "tutormail-instituicao-xy" in values and {"Ref": "SmtpSecret"} in values
    assert ("instituicao-xy.sistematutor.com.br,instituicaoxy.com.br,uni-xy.edu.br,contato@colegioxy.com.br"
            in values)
    assert "SecretAccessKey" not in str(outputs)


def test_the_dkim_cnames_a_route53_domain_got_are_outputs_for_cleanup(xy_template):
    """Resolved at each deploy: cleanup leaves these to the stack when SES's tokens change (issue 23)."""
    dkim = [o for o in xy_template.to_json()["Outputs"].values()
            if o.get("Description", "").startswith("DKIM CNAMEs this stack wrote for ")]
    assert sorted(o["Description"].rsplit(" ", 1)[1] for o in dkim) == [  # its domains in Route 53 zones
        "instituicao-xy.sistematutor.com.br", "instituicaoxy.com.br"]
    for joined in dkim:
        assert [part["Fn::GetAtt"][1] for part in joined["Value"]["Fn::Join"][1]] == [
            f"DkimDNSTokenName{n}" for n in (1, 2, 3)]


def test_platform_default_institution_has_only_the_platform_identity(example_app):
    template = Template.from_stack(example_app.node.find_child("TutorMail-escola-padrao"))
    template.resource_count_is("AWS::SES::EmailIdentity", 1)
    template.has_resource_properties("AWS::IAM::ManagedPolicy", {"PolicyDocument": {"Statement": [Match.object_like({
        "Condition": {"StringEqualsIgnoreCase": {"ses:FromAddress": [
            "comunicacao@escola-padrao.sistematutor.com.br"]}}})]}})


def test_rotation_keeps_the_previous_key_and_the_secret_takes_the_newest():
    catalog = load_catalog(INSTITUTIONS, only=["escola-padrao"])
    rotating = dataclasses.replace(catalog.institutions["escola-padrao"], smtp_key_generation=3,
                                   smtp_key_keep_previous=True)
    catalog = dataclasses.replace(catalog, institutions={"escola-padrao": rotating})
    template = Template.from_stack(synthesize(catalog, nag=False).node.find_child("TutorMail-escola-padrao"))
    keys = resources(template, "AWS::IAM::AccessKey")
    assert sorted(keys) == ["SmtpKeyGen2", "SmtpKeyGen3"]
    assert keys["SmtpKeyGen3"]["Properties"]["Serial"] == 3
    parts = resources(template, "AWS::SecretsManager::Secret")["SmtpSecret"]["Properties"]["SecretString"]
    assert {"Fn::GetAtt": ["SmtpKeyGen3", "SecretAccessKey"]} in parts["Fn::Join"][1]
    # the next deploy drops generation 2
    dropped = dataclasses.replace(catalog, institutions={
        "escola-padrao": dataclasses.replace(rotating, smtp_key_keep_previous=False)})
    template = Template.from_stack(synthesize(dropped, nag=False).node.find_child("TutorMail-escola-padrao"))
    assert sorted(resources(template, "AWS::IAM::AccessKey")) == ["SmtpKeyGen3"]


def test_cdk_nag_stops_synthesis_on_an_unacknowledged_finding():
    app = App(context=cdk_context())
    build_app(app, load_catalog(INSTITUTIONS, only=["escola-padrao"]))
    extra = Stack(app, "Extra")
    iam.User(extra, "Careless").add_to_policy(iam.PolicyStatement(actions=["ses:*"], resources=["*"]))
    with pytest.raises(RuntimeError, match=r"ValidationFailed(.|\n)*AwsSolutions-IAM5\[Action::ses:\*\]"):
        app.synth()


def test_operator_policy_is_built_from_the_table_of_what_commands_call(example_app):
    from tutormail.aws.permissions import actions_by_resource

    template = Template.from_stack(example_app.node.find_child("TutorMail-Platform"))
    policies = {p["Properties"]["ManagedPolicyName"]: p["Properties"]["PolicyDocument"]["Statement"]
                for p in resources(template, "AWS::IAM::ManagedPolicy").values()}
    granted = sorted(a for s in policies["tutormail-operator"] for a in ([s["Action"]] if isinstance(
        s["Action"], str) else s["Action"]))
    assert granted == sorted(a for actions in actions_by_resource().values() for a in actions)
    assert not any(a.endswith("*") for a in granted)
    # Route 53: reads, and a DELETE of DKIM CNAMEs only (cleanup), by condition
    assert [a for a in granted if a.startswith("route53:")] == ["route53:ChangeResourceRecordSets",
                                                                "route53:GetHostedZone",
                                                                "route53:GetHostedZoneLimit",
                                                                "route53:ListResourceRecordSets"]
    [write] = [s for s in policies["tutormail-operator"] if s["Action"] == "route53:ChangeResourceRecordSets"]
    assert write["Condition"]["ForAllValues:StringEquals"] == {"route53:ChangeResourceRecordSetsActions": ["DELETE"],
                                                               "route53:ChangeResourceRecordSetsRecordTypes": ["CNAME"]}
    [deploy] = policies["tutormail-deploy"]
    assert deploy["Action"] == "sts:AssumeRole" and len(deploy["Resource"]) == 3


def test_many_addresses_get_several_send_policies_on_the_one_user(tmp_path):
    """Issue 23: split by tutormail.plan.smtp_policy.send_policies, the first keeping its logical id."""
    import shutil

    from tutormail.plan.loader import load_catalog

    from tests.conftest import INSTITUTIONS
    from tests.infra.conftest import synthesize

    shutil.copy(INSTITUTIONS / "platform.yaml", tmp_path / "platform.yaml")
    accounts = "".join(f"      conta{n}: contato{n}@escola-muitas-{n}.com.br\n" for n in range(60))
    (tmp_path / "escola-muitas.yaml").write_text(
        f"name: Escola Muitas\ncompanies:\n  - name: Escola Muitas\n    accounts:\n{accounts}")
    app = synthesize(load_catalog(tmp_path), nag=False)
    policies = Template.from_stack(app.node.find_child("TutorMail-escola-muitas")).find_resources(
        "AWS::IAM::ManagedPolicy")
    assert len(policies) > 1 and any(k.startswith("SmtpSendPolicy") and "SendPolicy2" not in k for k in policies)
    assert all(p["Properties"]["Users"] == [{"Ref": "SmtpUser"}] for p in policies.values())
