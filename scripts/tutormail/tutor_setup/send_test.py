"""Phase 3: a real message through the SES SMTP endpoint, with what the server said explained."""

from __future__ import annotations

import email.policy
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from tutormail.aws.check_mailbox import TOKEN_HEADER
from tutormail.exitcodes import Exit
from tutormail.plan.build import InstitutionPlan, Sender
from tutormail.tutor_setup.smtp_password import smtp_password
from tutormail.tutor_setup.smtp_settings import SMTP_PORT, SmtpSecret


@dataclass(frozen=True)
class SendResult:
    ok: bool
    code: int | None
    reply: str
    explanation: str
    message_id: str | None = None
    key_inactive: bool = False  # IAM holds the secret's key as Inactive: no retry will change a 535

    @property
    def exit_code(self) -> Exit:
        """SES refusing the message (5xx) needs a person; no answer, a temporary refusal (4xx) or credentials
        still refused (535: a new key takes a while to reach SES) after retries are service errors, unless
        the key is Inactive, which nothing but a person undoes."""
        if self.ok:
            return Exit.OK
        if self.key_inactive:
            return Exit.ACTION_NEEDED
        refused = self.code is not None and 500 <= self.code < 600 and self.code != 535
        return Exit.ACTION_NEEDED if refused else Exit.SERVICE_ERROR


class _Refused(Exception):
    """The server answered something other than success at one step of the transaction."""

    def __init__(self, code: int, reply: bytes | str):
        super().__init__(code, reply)
        self.code = code
        self.reply = reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def _expect(answer: tuple[int, bytes], *accepted: int) -> tuple[int, bytes]:
    if answer[0] not in accepted:
        raise _Refused(*answer)
    return answer


def _failed_identities(reply: str) -> set[str]:
    """The identities SES lists in "... failed the check in region US-EAST-1: a@x, b@y"."""
    return {name.strip().lower() for name in reply.rpartition(": ")[2].split(",")}


def explain(code: int | None, reply: str, plan: InstitutionPlan, to: str | None = None) -> str:
    region = plan.platform.region
    if code == 535:
        return ("SES refused the credentials (535). Either the password was derived for another region "
                f"(it must be for {region}), the access key is new and not yet active in SES (wait a minute "
                "and retry), or the key was rotated away (read the secret again: tutormail smtp-settings "
                f"{plan.slug} --reveal).")
    if code == 554 and "not verified" in reply and to is not None and to.lower() in _failed_identities(reply):
        return (f"SES refused the recipient (554): the account is in the SES sandbox in {region}, where mail "
                f"goes only to verified addresses and domains. Verify the recipient {to} in SES, send to the "
                "mailbox simulator, or request production access for the account "
                "(https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html).")
    if code == 554 and "not verified" in reply:
        return ("SES refused the sender (554): the From address is not verified in this region. Finish phase 1 "
                f"(tutormail verify {plan.slug}) before sending.")
    if code == 554 and "not authorized" in reply:
        return ("SES refused the sender (554): the SMTP user may not send as this From address. Is the address "
                f"in the institution file, and was the stack deployed since (cdk deploy {plan.stack_name})?")
    if code is None:
        return "The SMTP endpoint could not be reached or did not answer in time."
    if 400 <= code < 500:
        return f"SES refused the message for now ({code}) and still did after retries: {reply}"
    if code >= 500:
        return f"SES refused the message ({code}): {reply}"
    return f"The SMTP server answered {code}."


def build_message(sender: Sender, to: str, institution: str, check_token: str | None = None) -> bytes:
    """The test message, its From built from the two parts of De/Remetente (sender.mailbox) the way a
    standard mailer builds it: the name as an RFC 2047 encoded word outside any quoted string
    (RFC 2047 section 5 forbids one inside), the address in A-labels (SES has no SMTPUTF8), so
    the message SES receives is what Tutor's would be."""
    message = EmailMessage()
    domain = sender.address.partition("@")[2]
    message["From"] = Address(display_name=sender.display_name, addr_spec=sender.address)
    message["To"] = to
    message["Subject"] = f"Teste de envio (fase 3) - {institution}"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=domain)
    if check_token:  # send-test --check finds the stored copy by it (aws/check_mailbox.py)
        message[TOKEN_HEADER] = check_token
    message.set_content(
        f"Este é um teste de envio da conta \"{sender.account}\" da empresa {sender.company}.\n"
        f"Se você recebeu esta mensagem com o remetente {sender.mailbox}, a configuração está correta.\n")
    return message.as_bytes(policy=email.policy.SMTP)


def send_test(plan: InstitutionPlan, sender: Sender, secret: SmtpSecret, to: str, host: str, port: int = SMTP_PORT,
              ca_bundle: str | None = None, attempts: int = 3, backoff: float = 2.0, timeout: float = 15.0,
              check_token: str | None = None) -> SendResult:
    context = ssl.create_default_context(cafile=ca_bundle)  # certificate and host name checked
    password = smtp_password(secret.secret_access_key, plan.platform.region)
    message = build_message(sender, to, plan.institution.name, check_token)
    last = SendResult(False, None, "", explain(None, "", plan))
    for attempt in range(1, attempts + 1):
        try:
            with smtplib.SMTP(host, port, timeout=timeout) as smtp:
                smtp.ehlo()
                smtp.starttls(context=context)
                smtp.ehlo()
                smtp.login(secret.access_key_id, password)
                _expect(smtp.mail(sender.address), 250)
                _expect(smtp.rcpt(to), 250, 251)
                # SES refuses an unverified or unauthorised sender only at the end of DATA (554), and
                # smtplib's data() returns that reply instead of raising: only a final 250 is success.
                code, reply = _expect(smtp.data(message), 250)
                text = reply.decode(errors="replace")
                # SES answers "250 Ok <message id>".
                return SendResult(True, code, text, "SES accepted the message.", text.split()[-1] if text else None)
        except smtplib.SMTPAuthenticationError as exc:
            last = SendResult(False, exc.smtp_code, exc.smtp_error.decode(errors="replace"),
                              explain(exc.smtp_code, "", plan))
        except (_Refused, smtplib.SMTPResponseException) as exc:
            code = exc.code if isinstance(exc, _Refused) else exc.smtp_code
            reply = exc.reply if isinstance(exc, _Refused) else exc.smtp_error.decode(errors="replace")
            last = SendResult(False, code, reply, explain(code, reply, plan, to))
            if code >= 500:
                return last  # permanent: retrying cannot change SES's answer
        except (TimeoutError, OSError, smtplib.SMTPException) as exc:
            last = SendResult(False, None, str(exc), explain(None, "", plan))
        if attempt < attempts:
            time.sleep(backoff * 2 ** (attempt - 1))
    return last
