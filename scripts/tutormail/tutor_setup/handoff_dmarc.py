"""The handoff's words (pt-BR) for accounts whose mail receivers would refuse or junk: blocked by
DMARC (cenario2/dmarc.py), with the two ways out, or whose DMARC could not be looked up; and the
accounts whose risk a person accepted (`--accept-dmarc-risk`), judged as verify and status judge
them (verification/deliverability.py), so the document never holds back what the gate released."""

from __future__ import annotations

from tutormail.catalog.model import platform_default_address
from tutormail.cenario2.dmarc import BLOCKED, READY, UNKNOWN, DmarcVerdict
from tutormail.plan.build import InstitutionPlan, Sender
from tutormail.verification.deliverability import ACCEPTED, Deliverability, deliverability
from tutormail.vocabulary import Scenario

EFFECT = {"reject": "seriam recusadas pelos provedores de e-mail: a redefinição de senha, por exemplo, não chegaria",
          "quarantine": "iriam para a caixa de spam: a redefinição de senha, por exemplo, dificilmente seria vista"}


def _account(sender: Sender) -> str:
    return f"Empresa {sender.company}, conta {sender.account} ({sender.address})"


def _blocked(plan: InstitutionPlan, sender: Sender, verdict: DmarcVerdict) -> list[tuple]:
    domain = verdict.domain
    default = platform_default_address(plan.slug, plan.platform)
    other = (f"Usar outro endereço nesta conta: por exemplo {default} (do Tutor, serve só para envio) ou um "
             "endereço de um domínio da instituição cujo DNS possamos configurar.")
    if verdict.record is None:  # free mail
        return [("h3", _account(sender)),
                ("p", f"{domain} é um provedor de e-mail gratuito: só o próprio provedor pode assinar mensagens "
                      "com esse domínio, então as mensagens enviadas pelo Tutor com este remetente seriam "
                      "recusadas ou iriam para o spam. A saída é uma só:"),
                ("ul", [other])]
    return [("h3", _account(sender)),
            ("p", f"O domínio {domain} publica uma política DMARC (registro {verdict.record_name}: "
                  f"{verdict.record}) que pede aos provedores de e-mail (Gmail, Outlook, Yahoo e outros) que "
                  "tratem com rigor mensagens não assinadas pelo próprio domínio. As mensagens do Tutor são "
                  "enviadas e assinadas pelo serviço de envio (Amazon SES), não pelo domínio, e por isso "
                  f"{EFFECT[verdict.policy]}. Há duas saídas:"),
            ("ul", [f"Autorizar o envio pelo próprio domínio {domain} (recomendado): a equipe de TI publica no DNS "
                    f"de {domain} três registros CNAME que enviaremos; a partir daí as mensagens saem assinadas "
                    "pelo domínio e são entregues normalmente.", other])]


def held_back(plan: InstitutionPlan, verdicts: dict[str, DmarcVerdict] | None,
              recorded: dict[str, str] | None = None) -> set[tuple[str, str]]:
    """(company, account) of the senders not to configure yet: blocked by DMARC, or DMARC unknown,
    and no acceptance of that risk recorded."""
    if not verdicts:
        return set()
    return {(s.company, s.account) for s, ready in _cenario2_readiness(plan, verdicts, recorded) if ready.holds_back}


def _unknown(sender: Sender, verdict: DmarcVerdict) -> list[tuple]:
    if verdict.record is not None:
        text = (f"O registro DMARC de {verdict.domain} ({verdict.record_name}: {verdict.record}) não pode ser lido "
                "sem ambiguidade: alguns provedores de e-mail podem tratá-lo como recusa. Peça ao responsável pelo "
                "DNS do domínio que o corrija, ou use outro endereço nesta conta.")
    else:
        text = (f"Não foi possível consultar a política DMARC de {verdict.domain} agora. Ela será consultada de "
                "novo antes da liberação da senha; se ela recusar mensagens não assinadas pelo domínio, entraremos "
                "em contato com as saídas possíveis.")
    return [("h3", _account(sender)), ("p", text)]


def _cenario2_readiness(plan: InstitutionPlan, verdicts: dict[str, DmarcVerdict],
                        recorded: dict[str, str] | None) -> list[tuple[Sender, Deliverability]]:
    """Each Cenário 2 sender (verified by link: SES signs as amazonses.com) with its readiness: its
    domain's verdict, and the acceptance recorded for its address."""
    return [(s, deliverability(plan, s.identity, s.scenario, verdicts, recorded or {}))
            for s in plan.senders if s.scenario == Scenario.LINK]


def dmarc_blocks(plan: InstitutionPlan, verdicts: dict[str, DmarcVerdict] | None,
                 recorded: dict[str, str] | None = None) -> list[tuple]:
    """The section of the accounts not to configure yet (they are left out of the fill-in tables)."""
    if not verdicts:
        return []
    blocks: list[tuple] = []
    for sender, ready in _cenario2_readiness(plan, verdicts, recorded):
        if ready.state == BLOCKED:
            blocks += _blocked(plan, sender, ready.verdict)
        elif ready.state == UNKNOWN:
            blocks += _unknown(sender, ready.verdict)
    if not blocks:
        return []
    return [("h2", "Contas que ainda não devem ser configuradas"),
            ("p", "As contas abaixo ficaram fora das tabelas de preenchimento: os e-mails enviados com elas não "
                  "chegariam (DMARC). Não as configure no Tutor antes de escolher uma das saídas indicadas; até "
                  "lá, elas continuam com o e-mail padrão do Tutor. As demais contas podem ser configuradas "
                  "normalmente."), *blocks]


# Gmail's and Yahoo's 2024 rules for senders of more than 5,000 messages a day: DMARC must pass with
# the From's domain aligned (https://support.google.com/mail/answer/81126,
# https://senders.yahooinc.com/best-practices/).
BULK_RULES = ("Desde 2024, o Gmail e o Yahoo exigem de quem envia mais de 5.000 mensagens por dia para os seus "
              "usuários que o domínio do remetente esteja alinhado (DMARC): a mensagem precisa sair assinada pelo "
              "próprio domínio do endereço.")


def _unaligned_account(sender: Sender, domain: str) -> list[tuple]:
    news = (" Esta é uma conta News, usada para envios em massa: é a que mais chega a esse volume."
            if sender.account == "news" else "")
    return [("h3", _account(sender)),
            ("p", f"Pronta para configurar, mas sem alinhamento: as mensagens saem assinadas pelo serviço de envio "
                  f"(Amazon SES) e não por {domain}, porque não temos acesso ao DNS de {domain} (Cenário 2). "
                  f"{BULK_RULES} Acima desse volume, as mensagens desta conta podem ir para o spam ou ser "
                  f"recusadas por esses provedores.{news}"),
            ("ul", [f"Para alinhar: a equipe de TI publica no DNS de {domain} três registros CNAME que enviaremos "
                    f"(Cenário 1); a partir daí as mensagens saem assinadas por {domain}, sem mudar nada no Tutor.",
                    "Abaixo desse volume, a conta funciona como está."])]


def alignment_blocks(plan: InstitutionPlan, verdicts: dict[str, DmarcVerdict] | None) -> list[tuple]:
    """The accounts ready to configure whose mail is not aligned (Cenário 2), and what it means in bulk."""
    if not verdicts:
        return []
    blocks: list[tuple] = []
    for sender, ready in _cenario2_readiness(plan, verdicts, None):
        if ready.state == READY:
            blocks += _unaligned_account(sender, ready.verdict.domain)
    if not blocks:
        return []
    return [("h2", "Contas prontas, mas sem alinhamento DMARC"), *blocks]


def accepted_blocks(plan: InstitutionPlan, verdicts: dict[str, DmarcVerdict] | None,
                    recorded: dict[str, str] | None) -> list[tuple]:
    """The accounts in the fill-in tables although their domain's DMARC would refuse or junk their
    mail: a person accepted that risk, whose name and time the readiness shows too."""
    if not verdicts:
        return []
    blocks: list[tuple] = []
    for sender, ready in _cenario2_readiness(plan, verdicts, recorded):
        if ready.state == ACCEPTED and ready.accepted:
            blocks += [("h3", _account(sender)),
                       ("p", f"Risco aceito por {ready.accepted.who} em {ready.accepted.at} (política aceita: "
                             f"{ready.accepted.policy}).")]
    if not blocks:
        return []
    return [("h2", "Contas liberadas com o risco DMARC aceito"),
            ("p", "As contas abaixo estão nas tabelas de preenchimento porque a equipe da plataforma aceitou o "
                  "risco: a política DMARC do domínio pede aos provedores de e-mail que recusem ou mandem para o "
                  "spam mensagens não assinadas pelo próprio domínio, e as do Tutor são assinadas pelo serviço de "
                  "envio (Amazon SES). Algumas mensagens, como a redefinição de senha, podem não chegar."),
            *blocks]
