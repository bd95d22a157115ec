"""The sandbox's SES signs what it sends and receives as SES receiving does (issue 25, the sandbox side).

What a receiver sees of a Cenário 1 and a Cenário 2 sender, read back from the Authentication-Results
that SES receiving writes on the message it stores; the receipt rules' S3 and Lambda actions with the
permissions SES needs; only the active rule set applies. The resources are built here with boto3 (a
CloudFormation stack of the five types, then SetActiveReceiptRuleSet): the product's own come from its
platform stack. sandbox/amazonses.py, sandbox/mailauth.py and sandbox/receiving.py cite the AWS pages.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import smtplib
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from tutormail.catalog.model import load_catalog
from tutormail.tutor_setup.smtp_password import smtp_password

from sandbox import launcher
from tests.conftest import INSTITUTIONS, smtp_login

DOMAIN = "recebe.sistematutor.com.br"
CHECK = f"check@{DOMAIN}"
RULE_SET, OTHER_SET, RULE, OTHER_RULE = "sandbox-receiving", "sandbox-receiving-other", "store", "store-other"
BUCKET = "sandbox-receiving-mail"
CENARIO_1 = "comunicacao@instituicaoxy.com.br"
CENARIO_2 = "contato@colegioxy.com.br"


def rule_arn(account: str, rule_set: str, rule: str) -> str:
    return f"arn:aws:ses:us-east-1:{account}:receipt-rule-set/{rule_set}:receipt-rule/{rule}"


def bucket_policy(account: str) -> dict:
    """SES's documented policy (https://docs.aws.amazon.com/ses/latest/dg/receiving-email-permissions.html),
    for the two rules of these tests."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "AllowSESPuts", "Effect": "Allow", "Principal": {"Service": "ses.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*",
        "Condition": {"StringEquals": {"AWS:SourceAccount": account, "AWS:SourceArn": [
            rule_arn(account, RULE_SET, RULE), rule_arn(account, OTHER_SET, OTHER_RULE)]}}}]}


def template(account: str, zone_id: str) -> dict:
    cnames = [{"Name": {"Fn::GetAtt": ["Identity", f"DkimDNSTokenName{i}"]}, "Type": "CNAME", "TTL": "300",
               "ResourceRecords": [{"Fn::GetAtt": ["Identity", f"DkimDNSTokenValue{i}"]}]} for i in (1, 2, 3)]
    mx = {"Name": DOMAIN, "Type": "MX", "TTL": "300", "ResourceRecords": ["10 inbound-smtp.us-east-1.amazonaws.com"]}
    return {"Resources": {
        "Identity": {"Type": "AWS::SES::EmailIdentity", "Properties": {"EmailIdentity": DOMAIN}},
        "Records": {"Type": "AWS::Route53::RecordSetGroup",
                    "Properties": {"HostedZoneId": zone_id, "RecordSets": [*cnames, mx]}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": BUCKET}},
        "Policy": {"Type": "AWS::S3::BucketPolicy",
                   "Properties": {"Bucket": {"Ref": "Bucket"}, "PolicyDocument": bucket_policy(account)}},
        "RuleSet": {"Type": "AWS::SES::ReceiptRuleSet", "Properties": {"RuleSetName": RULE_SET}},
        "Rule": {"Type": "AWS::SES::ReceiptRule", "DependsOn": ["Policy"], "Properties": {
            "RuleSetName": {"Ref": "RuleSet"},
            "Rule": {"Name": RULE, "Enabled": True, "Recipients": [DOMAIN],
                     "Actions": [{"S3Action": {"BucketName": {"Ref": "Bucket"}, "ObjectKeyPrefix": "check/"}}]}}},
    }}


@pytest.fixture(scope="module")
def receiving(deployed):
    env = deployed["env"]
    session = boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                    aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name=env["AWS_REGION"])

    def client(name):
        return session.client(name, endpoint_url=env["AWS_ENDPOINT_URL"])

    platform = load_catalog(INSTITUTIONS, only=[]).platform
    cfn, ses, s3 = client("cloudformation"), client("ses"), client("s3")
    cfn.create_stack(StackName="SandboxReceiving", TemplateBody=json.dumps(template(platform.account,
                                                                                    platform.hosted_zone_id)))
    stack = cfn.describe_stacks(StackName="SandboxReceiving")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    ses.set_active_receipt_rule_set(RuleSetName=RULE_SET)
    # Cenário 2's address is verified by its link, as an operator does it.
    ses.verify_email_identity(EmailAddress=CENARIO_2)
    assert launcher.open_link(deployed["state"], CENARIO_2)[0] == 200
    yield {"env": env, "client": client, "account": platform.account, "state": deployed["state"]}
    ses.set_active_receipt_rule_set()
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    cfn.delete_stack(StackName="SandboxReceiving")


def send(env: dict, sender: str, to: str, marker: str) -> None:
    """Through the SES SMTP stand-in, as Tutor sends, with the institution's SMTP user."""
    secret = json.loads(boto3.client("secretsmanager", endpoint_url=env["AWS_ENDPOINT_URL"],
                                     region_name=env["AWS_REGION"], aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                     aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"]).get_secret_value(
        SecretId="tutormail/instituicao-xy/smtp")["SecretString"])
    message = (f"From: Teste <{sender}>\r\nTo: {to}\r\nSubject: {marker}\r\nMessage-ID: <{marker}@teste>\r\n"
               f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nRecuperar senha.\r\n").encode()
    with smtp_login(env, secret["access_key_id"], smtp_password(secret["secret_access_key"], "us-east-1")) as smtp:
        assert smtp.sendmail(sender, [to], message) == {}


def stored(receiving, prefix: str, marker: str) -> list[email.message.Message]:
    s3 = receiving["client"]("s3")
    found = []
    for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []):
        body = s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
        if marker.encode() in body:
            found.append(email.message_from_bytes(body, policy=email.policy.compat32))
    return found


def results(message: email.message.Message) -> dict[str, list[str]]:
    """Authentication-Results' methods (spf, dkim, dmarc), each with its result and properties as one
    string: SES separates the properties with ";" too, so a part that names no method belongs to the last."""
    text = re.sub(r"\s+", " ", message["Authentication-Results"])
    found: dict[str, list[str]] = {}
    last = None
    for part in (p.strip() for p in text.split(";")[1:]):
        method, _, rest = part.partition("=")
        if method in ("spf", "dkim", "dmarc"):
            found.setdefault(method, []).append(rest)
            last = method
        elif part and last:
            found[last][-1] += f"; {part}"
    return found


def test_a_cenario_1_sender_passes_dkim_spf_and_dmarc_aligned(receiving):
    marker = f"c1-{uuid.uuid4().hex}"
    send(receiving["env"], CENARIO_1, CHECK, marker)
    [message] = stored(receiving, "check/", marker)
    found = results(message)
    assert any(r.startswith("pass ") and "header.i=instituicaoxy.com.br" in r for r in found["dkim"]), found
    assert any(r.startswith("pass ") and "header.i=amazonses.com" in r for r in found["dkim"]), found
    assert found["spf"][0].startswith("pass ") and "@bounce.instituicaoxy.com.br" in found["spf"][0], found
    assert found["dmarc"] == ["pass header.from=instituicaoxy.com.br"], found
    assert message["Return-Path"].endswith("@bounce.instituicaoxy.com.br>")


def test_a_cenario_2_sender_is_signed_by_amazonses_only_and_fails_dmarc(receiving):
    marker = f"c2-{uuid.uuid4().hex}"
    send(receiving["env"], CENARIO_2, CHECK, marker)
    [message] = stored(receiving, "check/", marker)
    found = results(message)
    assert [r.split()[1] for r in found["dkim"]] == ["header.i=amazonses.com"] and found["dkim"][0].startswith("pass")
    assert found["spf"][0].startswith("pass ") and "@us-east-1.amazonses.com" in found["spf"][0], found
    assert found["dmarc"] == ["fail header.from=colegioxy.com.br"], found


def direct(env: dict, mail_from: str, to: str, marker: str) -> tuple[int, bytes]:
    """Straight to the inbound endpoint from 127.0.0.1 (not SES's sending address)."""
    host, port = env["TUTORMAIL_INBOUND_SMTP_ENDPOINT"].rsplit(":", 1)
    with smtplib.SMTP(host, int(port), timeout=10) as smtp:
        smtp.ehlo("teste.example")
        smtp.mail(mail_from)
        code, text = smtp.rcpt(to)
        if code != 250:
            return code, text
        return smtp.data(f"From: {mail_from}\r\nTo: {to}\r\nSubject: {marker}\r\n\r\nx\r\n".encode())


def test_spf_passes_only_from_ses_sending_address(receiving):
    marker = f"spf-{uuid.uuid4().hex}"
    assert direct(receiving["env"], "impostor@us-east-1.amazonses.com", CHECK, marker)[0] == 250
    [message] = stored(receiving, "check/", marker)
    found = results(message)
    assert found["spf"][0].startswith("softfail ") and "client-ip=127.0.0.1" in found["spf"][0], found
    assert found["dkim"] == ["none"], found


@pytest.mark.parametrize("recipient, reason", [
    ("alguem@escola-padrao.sistematutor.com.br", b"no receipt rule"),  # a verified domain no rule names
    (f"alguem@sub.{DOMAIN}", b"no receipt rule"),  # a domain condition does not take its subdomains
    ("alguem@naoverificado.example", b"not a verified domain"),
])
def test_a_recipient_no_rule_matches_is_rejected(receiving, recipient, reason):
    code, text = direct(receiving["env"], "alguem@exemplo.com.br", recipient, "x")
    assert code == 550 and reason in text, text


def test_s3_is_refused_without_the_bucket_policy(receiving):
    s3, ses = receiving["client"]("s3"), receiving["client"]("ses")
    policy = s3.get_bucket_policy(Bucket=BUCKET)["Policy"]
    s3.delete_bucket_policy(Bucket=BUCKET)
    try:
        code, text = direct(receiving["env"], "alguem@exemplo.com.br", CHECK, "sem-politica")
        assert code == 554 and b"Could not write to bucket" in text, text
        with pytest.raises(ClientError) as info:  # and SES refuses a rule it could not carry out
            ses.create_receipt_rule(RuleSetName=RULE_SET, After=RULE, Rule={
                "Name": "another", "Enabled": True, "Recipients": [DOMAIN],
                "Actions": [{"S3Action": {"BucketName": BUCKET}}]})
        assert info.value.response["Error"]["Code"] == "InvalidS3Configuration"
    finally:
        s3.put_bucket_policy(Bucket=BUCKET, Policy=policy)
    assert stored(receiving, "check/", "sem-politica") == []


def test_only_the_active_rule_set_applies(receiving):
    ses = receiving["client"]("ses")
    ses.create_receipt_rule_set(RuleSetName=OTHER_SET)
    ses.create_receipt_rule(RuleSetName=OTHER_SET, Rule={
        "Name": OTHER_RULE, "Enabled": True, "Recipients": [CHECK],
        "Actions": [{"S3Action": {"BucketName": BUCKET, "ObjectKeyPrefix": "other/"}}]})
    try:
        assert direct(receiving["env"], "alguem@exemplo.com.br", CHECK, "ativo-1")[0] == 250
        assert len(stored(receiving, "check/", "ativo-1")) == 1 and stored(receiving, "other/", "ativo-1") == []
        ses.set_active_receipt_rule_set(RuleSetName=OTHER_SET)
        assert direct(receiving["env"], "alguem@exemplo.com.br", CHECK, "ativo-2")[0] == 250
        assert stored(receiving, "check/", "ativo-2") == [] and len(stored(receiving, "other/", "ativo-2")) == 1
        ses.set_active_receipt_rule_set()
        code, _ = direct(receiving["env"], "alguem@exemplo.com.br", CHECK, "ativo-3")
        assert code == 550
    finally:
        ses.set_active_receipt_rule_set(RuleSetName=RULE_SET)
        ses.delete_receipt_rule_set(RuleSetName=OTHER_SET)


def lambda_function(receiving, name: str) -> str:
    iam, lam, logs = (receiving["client"](n) for n in ("iam", "lambda", "logs"))
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    group = f"arn:aws:logs:us-east-1:{receiving['account']}:log-group:/aws/lambda/{name}"
    iam.put_role_policy(RoleName=name, PolicyName="logs", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["logs:CreateLogStream",
                                                                              "logs:PutLogEvents"],
                                                "Resource": [group, f"{group}:*"]}]}))
    logs.create_log_group(logGroupName=f"/aws/lambda/{name}")
    import io
    import zipfile

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("index.py", "# the sandbox imports the Handler from the repository\n")
    return lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Code={"ZipFile": archive.getvalue()},
                               Handler="tests.e2e.receiving_handler.handler")["FunctionArn"]


def test_the_lambda_action_runs_the_handler_with_the_receipt_verdicts(receiving):
    ses, lam, logs = (receiving["client"](n) for n in ("ses", "lambda", "logs"))
    name, rule_set, rule = "sandbox-receiving-replies", "sandbox-receiving-lambda", "replies"
    function = lambda_function(receiving, name)
    ses.create_receipt_rule_set(RuleSetName=rule_set)
    lambda_rule = {"Name": rule, "Enabled": True, "Recipients": [DOMAIN],
                   "Actions": [{"LambdaAction": {"FunctionArn": function, "InvocationType": "Event"}}]}
    with pytest.raises(ClientError) as info:  # no resource policy yet: SES may not invoke it
        ses.create_receipt_rule(RuleSetName=rule_set, Rule=lambda_rule)
    assert info.value.response["Error"]["Code"] == "InvalidLambdaFunction"
    lam.add_permission(FunctionName=name, StatementId="AllowSES", Action="lambda:InvokeFunction",
                       Principal="ses.amazonaws.com", SourceAccount=receiving["account"],
                       SourceArn=rule_arn(receiving["account"], rule_set, rule))
    ses.create_receipt_rule(RuleSetName=rule_set, Rule=lambda_rule)
    ses.set_active_receipt_rule_set(RuleSetName=rule_set)
    try:
        send(receiving["env"], CENARIO_2, f"resposta@{DOMAIN}", f"lambda-{uuid.uuid4().hex}")
        lines = [e["message"] for e in logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]]
        printed = [json.loads(line) for line in lines if line.startswith("{")]
        assert len(printed) == 1, lines
        event = printed[0]
        assert event["recipients"] == [f"resposta@{DOMAIN}"] and event["action"] == "Lambda"
        assert (event["spf"], event["dkim"], event["dmarc"], event["dmarcPolicy"]) == ("PASS", "PASS", "FAIL", "reject")
        assert event["source"].endswith("@us-east-1.amazonses.com") and event["has_role_credentials"]

        lam.remove_permission(FunctionName=name, StatementId="AllowSES")
        code, text = direct(receiving["env"], "alguem@exemplo.com.br", f"resposta@{DOMAIN}", "sem-permissao")
        assert code == 554 and b"Could not invoke Lambda function" in text
    finally:
        ses.set_active_receipt_rule_set(RuleSetName=RULE_SET)
        ses.delete_receipt_rule_set(RuleSetName=rule_set)
