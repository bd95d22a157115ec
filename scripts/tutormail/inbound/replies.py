"""The replies handler: mail to `*@<slug>.<platform_domain>`, run by the platform's one replies rule.

SES stores the message under replies/<message id> (the rule's S3 action) and then invokes this
function with the event of a LambdaAction, which carries the headers and SES's verdicts but no body
(https://docs.aws.amazon.com/ses/latest/dg/receiving-email-action-lambda-event.html). Then:

- when the institution's file names `replies_to`, the message is forwarded there as SES's own guidance
  does it: a new message From the platform address (signed by the platform subdomain's identity, so it
  passes DMARC), Reply-To the original sender, the original attached
  (https://aws.amazon.com/blogs/messaging-and-targeting/forward-incoming-email-to-an-external-destination/);
- otherwise the sender gets a short pt-BR note, once per sender and day, never to an automatic message
  (RFC 3834 section 2: Auto-Submitted other than "no", Precedence bulk/junk/list, List-* headers, a null
  return path, MAILER-DAEMON and list addresses; https://www.rfc-editor.org/rfc/rfc3834).

Every message is counted per institution (the `received` item of the inbound table, shown by `status`).
Dependency-free but boto3: the Lambda package carries this module, not the catalogue.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import time
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import formatdate, getaddresses, make_msgid, parseaddr

from tutormail.aws.client import function_client
from tutormail.aws.inbound_mail import add_one, parameter_value, put_if_absent, send_raw, stored_message
from tutormail.aws.progress_store import PARTITION_KEY, SORT_KEY
from tutormail.names import INBOUND_TABLE, REPLIES_PREFIX, configuration_set, inbound_settings

EXPIRES = "expires"  # the table's TTL attribute (epoch seconds)
RECEIVED = "received"  # the per-institution count
ANSWER_TTL_SECONDS = 2 * 86400  # a day's mark, kept a day longer than needed (TTL deletes late)
AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list"}
# Senders RFC 3834 section 2 names as never to answer (daemons, list owners and request addresses).
AUTOMATIC_PREFIXES = ("mailer-daemon", "postmaster", "owner-")
AUTOMATIC_SUFFIXES = ("-request",)


def _local(address: str) -> str:
    return address.rpartition("@")[0].lower()


def loop_reason(message: Message, return_path: str) -> str | None:
    """Why no automatic answer may go to this message (RFC 3834 section 2), or None."""
    if not return_path.strip("<> "):
        return "null return path (a bounce or another automatic message)"
    auto = str(message.get("Auto-Submitted", "no")).split(";")[0].strip().lower()
    if auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in AUTOMATIC_PRECEDENCE:
        return f"Precedence: {precedence}"
    if any(name.lower().startswith("list-") for name in message.keys()):
        return "a mailing list message (List-* header)"
    local = _local(return_path.strip("<> "))
    if local.startswith(AUTOMATIC_PREFIXES) or local.endswith(AUTOMATIC_SUFFIXES):
        return f"an automatic sender ({local})"
    return None


def day_of(epoch: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


def answered_mark(sender: str, epoch: float) -> str:
    return f"answered:{day_of(epoch)}:{sender.lower()}"


def _from(settings: dict) -> Address:
    return Address(display_name=settings["name"], addr_spec=settings["from_address"])


def _msgid(settings: dict) -> str:
    return make_msgid(domain=settings["from_address"].rpartition("@")[2])


def note(settings: dict, original: Message, to: str, recipient: str) -> EmailMessage:
    """The pt-BR note: this address sends only; where to write instead."""
    reply = EmailMessage()
    reply["From"] = _from(settings)
    reply["To"] = to
    subject = str(original.get("Subject", "")).strip()
    reply["Subject"] = f"Re: {subject}" if subject else "Este endereço não recebe mensagens"
    # RFC 3834 section 5: an automatic answer says so, and refers to the message it answers.
    reply["Auto-Submitted"] = "auto-replied"
    if original.get("Message-ID"):
        reply["In-Reply-To"] = original["Message-ID"]
        reply["References"] = original["Message-ID"]
    reply["Date"] = formatdate(localtime=False)
    reply["Message-ID"] = _msgid(settings)
    contact = settings.get("contact")
    where = (f"use o Portal do Aluno ou escreva para {contact}" if contact else "use o Portal do Aluno")
    reply.set_content(
        f"Olá,\n\nO endereço {recipient} é usado por {settings['name']} somente para enviar avisos e não "
        "recebe mensagens: a sua mensagem não foi lida por ninguém.\n\n"
        f"Para falar com a instituição, {where}.\n\n"
        "Esta é uma resposta automática, enviada no máximo uma vez por dia.\n")
    return reply


def forward(settings: dict, original: Message, sender: str, recipient: str) -> EmailMessage:
    """The original, attached to a message of the platform address, Reply-To its sender."""
    message = EmailMessage()
    message["From"] = _from(settings)
    message["To"] = settings["replies_to"]
    message["Reply-To"] = sender
    subject = str(original.get("Subject", "")).strip()
    message["Subject"] = f"Resposta recebida em {recipient}: {subject}" if subject else \
        f"Resposta recebida em {recipient}"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = _msgid(settings)
    message.set_content(
        f"{sender} respondeu a {recipient}. A mensagem original segue anexa; responda a este e-mail para "
        "escrever ao remetente.\n")
    # message/rfc822 as such (RFC 2046 section 5.2.1 allows it no base64), as the original was received.
    message.add_attachment(original, disposition="attachment", filename="mensagem-original.eml")
    return message


def original_sender(original: Message) -> str:
    """Reply-To when the sender set one, else From: where a person's answer would go."""
    for header in ("Reply-To", "From"):
        pairs = getaddresses([str(v) for v in original.get_all(header, [])])
        for _, address in pairs:
            if "@" in address:
                return address
    return ""


class Replies:
    """What one received message leads to; the AWS clients are passed in (tests give fakes)."""

    def __init__(self, s3, ses, dynamodb, ssm, bucket: str, platform_domain: str, clock=time.time):
        self.s3, self.ses, self.dynamodb, self.ssm = s3, ses, dynamodb, ssm
        self.bucket, self.platform_domain, self.clock = bucket, platform_domain.lower(), clock

    def slug_of(self, recipients: list[str]) -> str | None:
        suffix = f".{self.platform_domain}"
        for recipient in recipients:
            domain = recipient.rpartition("@")[2].lower()
            if domain.endswith(suffix) and "." not in domain[: -len(suffix)]:
                return domain[: -len(suffix)]
        return None

    def handle(self, record: dict) -> dict:
        mail, receipt = record["mail"], record["receipt"]
        slug = self.slug_of(receipt.get("recipients", []))
        if slug is None:
            return {"action": "ignored", "reason": "not a platform subdomain"}
        self._count(slug)
        key = f"{REPLIES_PREFIX}{mail['messageId']}"
        raw = stored_message(self.s3, self.bucket, key)
        original = email.message_from_bytes(raw, policy=email.policy.default)
        settings = json.loads(parameter_value(self.ssm, inbound_settings(slug)))
        recipient = receipt["recipients"][0]
        return_path = mail.get("source", "")
        if settings.get("replies_to"):
            sender = original_sender(original) or return_path
            self._send(slug, forward(settings, original, sender, recipient), settings["replies_to"])
            return {"action": "forwarded", "institution": slug, "to": settings["replies_to"]}
        reason = loop_reason(original, return_path)
        if reason:
            return {"action": "not answered", "institution": slug, "reason": reason}
        sender = parseaddr(return_path)[1] or return_path
        if not self._first_today(slug, sender):
            return {"action": "not answered", "institution": slug, "reason": "already answered today"}
        self._send(slug, note(settings, original, sender, recipient), sender)
        return {"action": "answered", "institution": slug, "to": sender}

    def _count(self, slug: str) -> None:
        add_one(self.dynamodb, INBOUND_TABLE, {PARTITION_KEY: {"S": slug}, SORT_KEY: {"S": RECEIVED}}, "count", "last",
                formatdate(self.clock(), usegmt=True))

    def _first_today(self, slug: str, sender: str) -> bool:
        """Records today's answer to this sender; False when one was already recorded (a conditional
        put: two copies handled at once still answer once)."""
        now = self.clock()
        return put_if_absent(self.dynamodb, INBOUND_TABLE,
                             {PARTITION_KEY: {"S": slug}, SORT_KEY: {"S": answered_mark(sender, now)},
                              EXPIRES: {"N": str(int(now) + ANSWER_TTL_SECONDS)}}, SORT_KEY)

    def _send(self, slug: str, message: EmailMessage, to: str) -> None:
        send_raw(self.ses, message["From"].addresses[0].addr_spec, to, message.as_bytes(policy=email.policy.SMTP),
                 configuration_set(slug))


def handler(event, context):  # pragma: no cover - the Lambda entry point; Replies is what is tested
    replies = Replies(*(function_client(service, config=None) for service in ("s3", "ses", "dynamodb", "ssm")),
                      os.environ["TUTORMAIL_INBOUND_BUCKET"], os.environ["TUTORMAIL_PLATFORM_DOMAIN"])
    results = [replies.handle(record["ses"]) for record in event.get("Records", [])]
    for result in results:
        print(json.dumps(result, sort_keys=True))
    return results
