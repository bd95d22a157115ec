"""The handoff's words (pt-BR) for accounts whose mail receivers would refuse or junk: blocked by
DMARC (cenario2/dmarc.py), with the two ways out, or whose DMARC could not be looked up."""

from __future__ import annotations

from tutormail.catalog.model import platform_default_address
from tutormail.cenario2.dmarc import BLOCKED, UNKNOWN, DmarcVerdict, domain_of
from tutormail.plan.build import InstitutionPlan, Sender

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


def dmarc_blocks(plan: InstitutionPlan, verdicts: dict[str, DmarcVerdict] | None) -> list[tuple]:
    if not verdicts:
        return []
    blocks: list[tuple] = []
    for sender in (s for s in plan.senders if s.scenario == 2):
        verdict = verdicts[domain_of(sender.identity)]
        if verdict.state == BLOCKED:
            blocks += _blocked(plan, sender, verdict)
        elif verdict.state == UNKNOWN:
            blocks += [("h3", _account(sender)),
                       ("p", f"Não foi possível consultar a política DMARC de {verdict.domain} agora. Ela será "
                             "consultada de novo antes da liberação da senha; se ela recusar mensagens não "
                             "assinadas pelo domínio, entraremos em contato com as saídas possíveis.")]
    if not blocks:
        return []
    return [("h2", "Atenção: contas cujos e-mails não chegariam (DMARC)"),
            ("p", "Não configure as contas abaixo no Tutor antes de escolher uma das saídas indicadas. A senha "
                  "SMTP é uma só para todas as contas da instituição, por isso ela só é liberada depois disso, ou "
                  "se a instituição aceitar expressamente o risco."), *blocks]
