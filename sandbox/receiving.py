"""SES email receiving: the stand-in for inbound-smtp.<region>.amazonaws.com (issue 25).

Interfaces:
- `start_inbound(config, port, cert, key)`: the endpoint, real SMTP (aiosmtpd) on 127.0.0.1, STARTTLS
  offered, no AUTH (an MX host). The launcher announces it as TUTORMAIL_INBOUND_SMTP_ENDPOINT.
- `deliver(config, mail_from, recipients, raw)`: what the sandbox's SES sending side does for each
  recipient whose domain's MX (in the sandbox BIND) is `inbound-smtp.<this region>.amazonaws.com`:
  SMTP to this endpoint from `amazonses.SES_SENDING_IP`. Returns one line per such recipient.
- `INBOUND_HOST`: the MX target of a region.

What SES does, and the sandbox with it
(https://docs.aws.amazon.com/ses/latest/dg/receiving-email-concepts.html#receiving-email-process):
- only the account's active receipt rule set applies (one per account and region:
  https://docs.aws.amazon.com/ses/latest/APIReference/API_SetActiveReceiptRuleSet.html);
- a recipient is accepted only when an enabled rule of that set matches it ("if there aren't any
  matches, Amazon SES rejects the email"), and only on a verified domain (the prerequisite in
  https://docs.aws.amazon.com/ses/latest/dg/receiving-email-receipt-rules-console-walkthrough.html).
  The sandbox rejects it at RCPT TO with 550 (the words are ours). A rule's recipient is an address,
  a domain (its addresses, not its subdomains) or `.domain` (its subdomains); no recipients = every
  verified domain of the account;
- the message is authenticated (SPF for the MAIL FROM and the connecting IP, DKIM, DMARC: see
  sandbox/mailauth.py), `Return-Path`, `Received` and `Authentication-Results` are added on top, and
  the matching rules run in order, each one's actions in order:
  - S3Action: the object `<ObjectKeyPrefix><message id>` in the bucket
    (https://docs.aws.amazon.com/ses/latest/dg/receiving-email-notifications-contents.html: objectKey
    is the messageId), written as the principal ses.amazonaws.com with aws:SourceAccount and
    aws:SourceArn (the rule's ARN), decided on the bucket policy by the sandbox's IAM evaluator
    (https://docs.aws.amazon.com/ses/latest/dg/receiving-email-permissions.html); the bucket's
    default encryption applies;
  - LambdaAction: the function's resource policy must allow lambda:InvokeFunction to
    ses.amazonaws.com with the same conditions (same page); then its handler runs in this process with
    the event of https://docs.aws.amazon.com/ses/latest/dg/receiving-email-action-lambda-event.html,
    with its role's credentials in the environment as Lambda gives them, its prints in its log group
    (sandbox/reputation.py `_invoke`). RequestResponse honours the returned `disposition`
    (STOP_RULE, STOP_RULE_SET);
  - AddHeaderAction adds its header; StopAction (Scope RuleSet) ends the rule set.
  An action SES could not carry out refuses the message (554, with the reason): the sender's MTA
  bounces it, which is what a sender of a message SES could not deliver sees.
A matching rule with TlsPolicy Require refuses a message not received over STARTTLS (554).
Not played (refused with 451 and the reason, never ignored): BounceAction, SNSAction, WorkmailAction,
an S3Action's KmsKeyArn (SES's client-side encryption) or TopicArn, a LambdaAction's TopicArn. Not
modelled: IP address filters, spam and virus scanning (verdicts DISABLED), the 30 MB size limit,
which regions receive mail (the sandbox's own region always does).
"""

from __future__ import annotations

import base64
import email
import email.policy
import importlib
import json
import os
import secrets
import smtplib
import ssl
import time
from datetime import UTC, datetime
from email.utils import format_datetime, getaddresses
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
from aiosmtpd.controller import Controller

from . import amazonses, mailauth
from .config import SandboxConfig
from .iam.evaluator import ALLOWED, EVALUATOR

INBOUND_HOST = "inbound-smtp.{region}.amazonaws.com"
NO_RULE = "550 5.1.1 Requested action not taken: mailbox unavailable (no receipt rule of the active rule set " \
          "matches <{address}>)"
NOT_VERIFIED_DOMAIN = "550 5.1.1 Requested action not taken: mailbox unavailable ({domain} is not a verified " \
                      "domain of this account)"
NOT_PLAYED = "451 4.3.0 The sandbox does not play {what} (sandbox/receiving.py)"
# TlsPolicy Require: "Amazon SES will bounce emails that are not received over TLS"
# (https://docs.aws.amazon.com/ses/latest/APIReference/API_ReceiptRule.html); the words are ours.
TLS_REQUIRED = "554 5.7.1 Rule {rule} requires TLS: the message was not received over TLS"


class ActionFailed(Exception):
    """An action SES could not carry out; the message is refused with this reply."""


def _ses(config: SandboxConfig):
    from moto.ses.models import ses_backends

    return ses_backends[config.account][config.region]


def rule_arn(config: SandboxConfig, rule_set: str, rule: str) -> str:
    prefix = f"arn:{config.partition}:ses:{config.region}:{config.account}"
    return f"{prefix}:receipt-rule-set/{rule_set}:receipt-rule/{rule}"


def _verified_domain(address: str) -> bool:
    from .moto_ext.ses_lifecycle import find_identity

    for name in amazonses.domains_of(address):
        identity = find_identity(name)
        if identity is not None and identity.identity_type == "DOMAIN":
            identity.refresh()
            if identity.verification_status == "SUCCESS":
                return True
    return False


def matches(recipients: list[str], address: str) -> bool:
    """A rule's recipient conditions against one RCPT TO address (case-insensitive)."""
    if not recipients:
        return True
    address = address.lower()
    domain = address.rpartition("@")[2]
    for condition in (c.lower() for c in recipients):
        if "@" in condition and condition == address:
            return True
        if condition.startswith(".") and domain.endswith(condition):
            return True
        if "@" not in condition and not condition.startswith(".") and condition == domain:
            return True
    return False


def active_rules(config: SandboxConfig) -> tuple[str, list[dict[str, Any]]] | None:
    rule_set = _ses(config).describe_active_receipt_rule_set()
    if rule_set is None:
        return None
    return rule_set.name, [rule for rule in rule_set.rules if rule.get("Enabled") in (True, "true", "True")]


def rcpt_refusal(config: SandboxConfig, address: str) -> str | None:
    if not _verified_domain(address):
        return NOT_VERIFIED_DOMAIN.format(domain=address.rpartition("@")[2].lower())
    found = active_rules(config)
    if found is None or not any(matches(rule.get("Recipients") or [], address) for rule in found[1]):
        return NO_RULE.format(address=address)
    return None


# --- the actions -------------------------------------------------------------------------------------

def put_as_ses(config: SandboxConfig, action: dict[str, Any], arn: str, name: str, raw: bytes) -> dict[str, Any]:
    """`raw` at `<ObjectKeyPrefix><name>`, written as SES writes: its principal, decided on the bucket policy."""
    from moto.s3.models import s3_backends

    if action.get("KmsKeyArn") or action.get("TopicArn"):
        raise ActionFailed(NOT_PLAYED.format(what="an S3Action's KmsKeyArn or TopicArn"))
    backend = s3_backends[config.account][config.partition]
    bucket_name, key = action["BucketName"], f"{action.get('ObjectKeyPrefix') or ''}{name}"
    bucket = backend.buckets.get(bucket_name)
    policy = json.loads(bucket.policy) if bucket is not None and bucket.policy else None
    answer = EVALUATOR.decide(action="s3:PutObject", principal="ses.amazonaws.com",
                              resource=f"arn:{config.partition}:s3:::{bucket_name}/{key}", account=config.account,
                              policies=[], context=_service_context(config, arn), resource_policy=policy)
    if bucket is None or answer.get("decision") != ALLOWED:
        raise ActionFailed(f"554 5.3.0 Could not write to bucket: {bucket_name} (ses.amazonaws.com may not "
                           f"s3:PutObject {key}: the bucket policy must allow it for {arn})")
    default = ((bucket.encryption or {}).get("Rule") or {}).get("ApplyServerSideEncryptionByDefault") or {}
    backend.put_object(bucket_name, key, raw, encryption=default.get("SSEAlgorithm"),
                       kms_key_id=default.get("KMSMasterKeyID"))
    return {"type": "S3", "bucketName": bucket_name, "objectKey": key}


def _service_context(config: SandboxConfig, arn: str) -> dict[str, str]:
    """What SES's requests carry: the account and rule (the conditions of
    https://docs.aws.amazon.com/ses/latest/dg/receiving-email-permissions.html), and aws:Referer with the
    account id, which SES's earlier bucket policy tested and the CDK's S3 action still writes
    (https://github.com/aws/aws-cdk/issues/29811)."""
    return {"aws:SourceAccount": config.account, "aws:SourceArn": arn, "aws:Referer": config.account,
            "aws:SecureTransport": "true"}


def _from_cloudformation(statement: dict[str, Any]) -> dict[str, Any]:
    """A statement moto's CloudFormation made from AWS::Lambda::Permission keeps the property
    `FunctionName` and gets moto's default Resource `<arn>:$LATEST`; AWS makes the statement's Resource
    the function the property names (the type has no Qualifier:
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-lambda-permission.html).
    Statements made by AddPermission carry no FunctionName and stay as they are."""
    if "FunctionName" not in statement:
        return statement
    named = statement["FunctionName"]
    return {**{k: v for k, v in statement.items() if k != "FunctionName"}, "Resource": named}


def may_invoke(config: SandboxConfig, function_arn: str, arn: str):
    """The function, once its resource policy lets SES invoke it for this rule."""
    from moto.awslambda.models import lambda_backends

    try:
        function = lambda_backends[config.account][config.region].get_function(function_arn)
    except Exception as exc:  # moto raises its own not-found types
        raise ActionFailed(f"554 5.3.0 Invalid Lambda function: {function_arn}") from exc
    statements = [_from_cloudformation(s) for s in function.policy.statements]
    policy = {"Version": "2012-10-17", "Statement": statements} if statements else None
    answer = EVALUATOR.decide(action="lambda:InvokeFunction", principal="ses.amazonaws.com", resource=function_arn,
                              account=config.account, policies=[], context=_service_context(config, arn),
                              resource_policy=policy)
    if answer.get("decision") != ALLOWED:
        raise ActionFailed(f"554 5.3.0 Could not invoke Lambda function: {function_arn} (its resource policy must "
                           f"allow lambda:InvokeFunction to ses.amazonaws.com for {arn})")
    return function


def _lambda(config: SandboxConfig, action: dict[str, Any], arn: str, event: dict[str, Any]) -> dict[str, Any]:
    from .reputation import _invoke

    if action.get("TopicArn"):
        raise ActionFailed(NOT_PLAYED.format(what="a LambdaAction's TopicArn"))
    function_arn = action["FunctionArn"]
    function = may_invoke(config, function_arn, arn)
    invocation = action.get("InvocationType") or "Event"
    receipt_action = {"type": "Lambda", "functionArn": function_arn, "invocationType": invocation}
    event["Records"][0]["ses"]["receipt"]["action"] = receipt_action
    handler = _handler(function.handler)
    result = _invoke(config, function.function_name,
                     lambda session: _with_credentials(session, function, lambda: handler(event, _context(function))))
    return {**receipt_action, "result": result if invocation == "RequestResponse" else None}


def _handler(name: str):
    """`package.module.function`, imported from this repository: the sandbox runs the handler the
    function names, not the uploaded archive (docs/ARCHITECTURE.md)."""
    module, _, attribute = name.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ActionFailed(f"451 4.3.0 The sandbox cannot import the Lambda handler {name!r}: {exc}") from exc


def _context(function) -> SimpleNamespace:
    return SimpleNamespace(function_name=function.function_name, invoked_function_arn=function.function_arn,
                           aws_request_id=secrets.token_hex(16), memory_limit_in_mb=function.memory_size,
                           get_remaining_time_in_millis=lambda: 30000)


def _with_credentials(session: boto3.session.Session, function, call):
    """The handler's environment as Lambda sets it: the role's credentials, the region, the function's
    variables; put back afterwards (reputation._invoke holds the process-wide lock around this)."""
    credentials = session.get_credentials()
    values = {"AWS_ACCESS_KEY_ID": credentials.access_key, "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
              "AWS_SESSION_TOKEN": credentials.token or "", "AWS_REGION": session.region_name,
              "AWS_DEFAULT_REGION": session.region_name, "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
              **(function.environment_vars or {})}
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    boto3.DEFAULT_SESSION = None
    try:
        return call()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        boto3.DEFAULT_SESSION = None


# --- the message -------------------------------------------------------------------------------------

def new_message_id() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode().lower()[:28]


def _headers(raw: bytes) -> list[dict[str, str]]:
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    return [{"name": name, "value": str(value)} for name, value in message.items()]


def lambda_event(received: dict[str, Any], raw: bytes, verdicts: mailauth.Verdicts, recipients: list[str],
                 scan: bool) -> dict[str, Any]:
    message = email.message_from_bytes(raw, policy=email.policy.compat32)

    def addresses(name: str) -> list[str]:
        return [str(value) for value in message.get_all(name, [])]

    common = {"returnPath": received["source"], "from": addresses("From"), "to": addresses("To"),
              "date": str(message.get("Date", "")), "messageId": str(message.get("Message-ID", "")),
              "subject": str(message.get("Subject", ""))}
    for field, header in (("cc", "Cc"), ("replyTo", "Reply-To"), ("sender", "Sender")):
        if message.get_all(header):
            common[field] = addresses(header)
    receipt = {"timestamp": received["timestamp"], "processingTimeMillis": received["elapsed"](),
               "recipients": recipients, "spamVerdict": {"status": "PROCESSING_FAILED" if scan else "DISABLED"},
               "virusVerdict": {"status": "PROCESSING_FAILED" if scan else "DISABLED"},
               "spfVerdict": {"status": verdicts.spf_verdict}, "dkimVerdict": {"status": verdicts.dkim_verdict},
               "dmarcVerdict": {"status": verdicts.dmarc_verdict}}
    if verdicts.dmarc_verdict == mailauth.FAIL and verdicts.dmarc_policy:
        receipt["dmarcPolicy"] = verdicts.dmarc_policy
    destination = [a for _, a in getaddresses(addresses("To") + addresses("Cc")) if a]
    mail = {"timestamp": received["timestamp"], "source": received["source"], "messageId": received["id"],
            "destination": destination, "headersTruncated": False, "headers": _headers(raw),
            "commonHeaders": common}
    return {"Records": [{"eventSource": "aws:ses", "eventVersion": "1.0", "ses": {"mail": mail, "receipt": receipt}}]}


def _run_rule(config: SandboxConfig, rule_set: str, rule: dict[str, Any], state: dict[str, Any]) -> bool:
    """The rule's actions in order; False when the rule set stops here."""
    arn = rule_arn(config, rule_set, rule["Name"])
    for action in rule.get("Actions") or []:
        kind = next(iter(action))
        if kind == "S3Action":
            state["done"].append(put_as_ses(config, action[kind], arn, state["id"], state["raw"]))
        elif kind == "LambdaAction":
            event = lambda_event(state["received"], state["raw"], state["verdicts"], state["recipients"],
                                 bool(rule.get("ScanEnabled")))
            outcome = _lambda(config, action[kind], arn, event)
            state["done"].append(outcome)
            disposition = str((outcome.get("result") or {}).get("disposition", "")).upper()
            if disposition in ("STOP_RULE", "STOP_RULE_SET"):
                return disposition != "STOP_RULE_SET"
        elif kind == "AddHeaderAction":
            header = action[kind]
            state["raw"] = f"{header['HeaderName']}: {header['HeaderValue']}\r\n".encode() + state["raw"]
        elif kind == "StopAction":
            if action[kind].get("TopicArn"):
                raise ActionFailed(NOT_PLAYED.format(what="a StopAction's TopicArn"))
            state["done"].append({"type": "Stop"})
            return False
        else:
            raise ActionFailed(NOT_PLAYED.format(what=kind))
    return True


def apply_rules(config: SandboxConfig, state: dict[str, Any]) -> list[dict[str, Any]]:
    found = active_rules(config)
    if found is None:
        raise ActionFailed("554 5.1.1 no active receipt rule set")
    rule_set, rules = found
    matching = [rule for rule in rules if any(matches(rule.get("Recipients") or [], r) for r in state["recipients"])]
    required = [rule["Name"] for rule in matching if str(rule.get("TlsPolicy", "")).lower() == "require"]
    if required and not state["tls"]:
        raise ActionFailed(TLS_REQUIRED.format(rule=required[0]))
    for rule in matching:
        if not _run_rule(config, rule_set, rule, state):
            break
    return state["done"]


class InboundHandler:
    def __init__(self, config: SandboxConfig):
        self.config = config

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        refusal = rcpt_refusal(self.config, address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        started, message_id = time.monotonic(), new_message_id()
        original = envelope.original_content or envelope.content
        client_ip, helo = session.peer[0], session.host_name or session.peer[0]
        mail_from = envelope.mail_from or ""
        verdicts = mailauth.authenticate(original, mail_from, client_ip, helo)
        host = INBOUND_HOST.format(region=self.config.region)
        now = datetime.now(UTC)
        added = (f"Return-Path: <{mail_from}>\r\n"
                 f"Received: from {helo} ({helo} [{client_ip}])\r\n by {host} with SMTP id {message_id}\r\n"
                 f" for {', '.join(envelope.rcpt_tos)};\r\n {format_datetime(now)}\r\n"
                 f"Authentication-Results: {verdicts.header(amazonses.DOMAIN)}\r\n")
        received = {"id": message_id, "source": mail_from, "timestamp": now.isoformat(timespec="milliseconds")
                    .replace("+00:00", "Z"), "elapsed": lambda: int((time.monotonic() - started) * 1000)}
        state = {"id": message_id, "raw": added.encode() + original, "verdicts": verdicts, "received": received,
                 "recipients": list(envelope.rcpt_tos), "done": [], "tls": session.ssl is not None}
        try:
            done = apply_rules(self.config, state)
        except ActionFailed as exc:
            return str(exc)
        _log(self.config, {"messageId": message_id, "recipients": state["recipients"], "actions": [
            {k: v for k, v in d.items() if k != "result"} for d in done]})
        return f"250 Ok {message_id}"


def _log(config: SandboxConfig, entry: dict[str, Any]) -> None:
    """What the endpoint received and did, one JSON line per message (for a person reading the sandbox)."""
    path = Path(config.state_dir) / "inbound.jsonl"
    with path.open("a") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")


def start_inbound(config: SandboxConfig, port: int, cert_file: Path, key_file: Path) -> Controller:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert_file), str(key_file))
    controller = Controller(InboundHandler(config), hostname="127.0.0.1", port=port, tls_context=context,
                            require_starttls=False, server_hostname=INBOUND_HOST.format(region=config.region),
                            ident="tutor-mail sandbox SES inbound SMTP", enable_SMTPUTF8=False)
    controller.start()
    return controller


# --- SES's sending side delivering to it -------------------------------------------------------------

def _receives_here(config: SandboxConfig, address: str) -> bool:
    from .moto_ext.ses_lifecycle import resolve

    wanted = INBOUND_HOST.format(region=config.region.lower())
    return any(value.split()[-1] == wanted for value in resolve(address.rpartition("@")[2], "MX"))


def deliver(config: SandboxConfig, mail_from: str, recipients: list[str], raw: bytes) -> list[str]:
    """SMTP from SES's sending address to the inbound endpoint, for the recipients it receives for."""
    here = [r for r in recipients if _receives_here(config, r)]
    if not here or not config.inbound_smtp:
        return []
    host, _, port = config.inbound_smtp.rpartition(":")
    outcome: list[str] = []
    try:
        with smtplib.SMTP(host, int(port), timeout=30, local_hostname=f"a1-25.smtp-out.{config.region}.amazonses.com",
                          source_address=(amazonses.SES_SENDING_IP, 0)) as smtp:
            smtp.starttls(context=ssl.create_default_context(cafile=str(Path(config.state_dir) / "tls" / "ca.pem")))
            refused = smtp.sendmail(mail_from, here, raw)
            outcome += [f"{r}: {code} {text.decode(errors='replace')}" for r, (code, text) in refused.items()]
            outcome += [f"{r}: 250" for r in here if r not in refused]
    except smtplib.SMTPRecipientsRefused as exc:
        outcome += [f"{r}: {code} {text.decode(errors='replace')}" for r, (code, text) in exc.recipients.items()]
    except smtplib.SMTPResponseException as exc:
        outcome += [f"{r}: {exc.smtp_code} {exc.smtp_error.decode(errors='replace')}" for r in here]
    return outcome
