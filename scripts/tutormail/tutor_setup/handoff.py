"""The document for the institution's staff, in Portuguese (pt-BR), as Markdown and HTML.

It never holds the password: it says how the password is delivered.
"""

from __future__ import annotations

import html
from pathlib import Path

from tutormail.catalog.model import platform_default_address
from tutormail.cenario2.dmarc import DmarcVerdict
from tutormail.markdown import markdown_code, markdown_text
from tutormail.plan.build import InstitutionPlan
from tutormail.services import Services
from tutormail.tutor_setup.handoff_dmarc import accepted_blocks, alignment_blocks, dmarc_blocks, held_back
from tutormail.tutor_setup.smtp_settings import SMTP_PORT, SSL_VALUE, TLS_VALUE, TUTOR_FIELDS
from tutormail.verification.deliverability import plan_verdicts

Block = tuple  # ("h1"|"h2"|"h3"|"p"|"ul"|"table"|"fields", content); fields: one account a row


class Name(str):
    """Text from the institution file inside a block's text: escaped in Markdown."""


def _blocks(plan: InstitutionPlan, verdicts: dict[str, DmarcVerdict] | None = None,
            recorded: dict[str, str] | None = None) -> list[Block]:
    """`recorded`: the institution's progress marks, whose DMARC acceptances release blocked accounts."""
    inst = plan.institution
    platform_address = platform_default_address(inst.slug, plan.platform)
    blocks: list[Block] = [
        ("h1", ("Configuração de e-mail no Tutor: ", Name(inst.name))),
        ("p", "Este documento mostra o que preencher no Tutor para que os e-mails de comunicação (avisos, "
              "requerimentos, redefinição de senha, news) saiam com o remetente da instituição."),
        ("h2", "Fase 2: Módulo Administrativo > Contas de E-mail > Alterar"),
        ("p", "Para cada empresa e cada conta abaixo, abra Módulo Administrativo > Contas de E-mail, clique em "
              "Alterar (ou em Incluir uma nova conta de e-mail, para uma conta nova) e preencha os campos nesta "
              "ordem. Faça isso para as contas Comunicação e News."),
        ("p", 'Digite o De/Remetente exatamente como mostrado, no formato "Nome da Instituição" <e-mail>, com '
              "aspas e acentos: o Tutor codifica o nome ao enviar. O endereço aparece na forma que o serviço de "
              "envio (Amazon SES) aceita: um domínio com acentos aparece convertido (xn--...), o que é esperado."),
    ]
    held = held_back(plan, verdicts, recorded)
    for company in inst.companies:
        blocks.append(("h3", ("Empresa: ", Name(company.name))))
        rows = []
        for sender in (s for s in plan.senders if s.company == company.name and (s.company, s.account) not in held):
            values = {"from": sender.mailbox, "smtp": plan.smtp_endpoint,
                      "port": str(SMTP_PORT), "user": "informado pelo suporte", "password": "solicitar ao suporte",
                      "ssl": SSL_VALUE, "tls": TLS_VALUE}
            rows.append([sender.account, *(values[key] for key, _, _ in TUTOR_FIELDS)])
        if rows:
            blocks.append(("fields", (["Conta", *(label for _, label, _ in TUTOR_FIELDS)], rows)))
        else:
            blocks.append(("p", "Nenhuma conta desta empresa deve ser configurada ainda (veja abaixo)."))
        if company.rules:
            blocks.append(("p", "Regras de e-mail desta empresa (qual conta envia cada regra):"))
            blocks.append(("table", (["Regra", "Conta"], [[rule, account] for rule, account in company.rules])))
    blocks += dmarc_blocks(plan, verdicts, recorded)
    blocks += accepted_blocks(plan, verdicts, recorded)
    blocks += alignment_blocks(plan, verdicts)
    blocks += [
        ("h2", "Usuário e senha"),
        ("p", "O Usuário (ID da chave de acesso SMTP) e a Senha são entregues pela equipe de suporte, a pedido, "
              "por um canal seguro, somente depois que o remetente estiver validado (fase 1). A senha nunca é "
              "enviada por e-mail nem aparece neste documento."),
        ("h2", "Fase 3: teste"),
        ("ul", ["Selecione Módulo Administrativo > Usuários.",
                "Localize o seu cadastro e reinicie a sua senha pela opção CPF (sem pontos e traços).",
                "Verifique a sua caixa de e-mail: o remetente deve ser o e-mail da instituição.",
                "Em plataformas com várias empresas, repita o teste para cada empresa."]),
        ("h2", "Observações"),
        ("ul", [f"O endereço {platform_address} (domínio do Tutor) serve apenas para envio: ele não tem caixa "
                "de entrada e não recebe respostas.",
                "O e-mail institucional tem caixa de entrada e pode ser usado para responder mensagens. Porém, "
                "respostas enviadas diretamente por ele acontecem fora do Tutor e não ficam registradas: um "
                "requerimento respondido assim continua aberto no Tutor.",
                "Para uma nova empresa, use Duplicar Configurações (Módulo Administrativo > Configuração de "
                "E-mail), envie a logo da nova empresa, ajuste os textos e repita a fase 3."]),
    ]
    return blocks


def _plain(content: str | tuple[str, ...]) -> str:
    return content if isinstance(content, str) else "".join(content)


def _markdown(content: str | tuple[str, ...]) -> str:
    parts = (content,) if isinstance(content, str) else content
    return "".join(markdown_text(p) if isinstance(p, Name) else p for p in parts)


def _markdown_cell(value: str) -> str:
    # A mailbox goes in code: typed exactly, and not taken for an HTML tag or a link.
    return markdown_code(value) if "<" in value else markdown_text(value)


def render_markdown(plan: InstitutionPlan, verdicts: dict[str, DmarcVerdict] | None = None,
                    recorded: dict[str, str] | None = None) -> str:
    out = []
    for kind, content in _blocks(plan, verdicts, recorded):
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + _markdown(content))
        elif kind == "p":
            out.append(_markdown(content))
        elif kind == "ul":
            out.append("\n".join(f"- {item}" for item in content))
        else:  # table, fields: a Markdown table either way
            headers, rows = content
            out.append("\n".join(["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers),
                                  *("| " + " | ".join(_markdown_cell(v) for v in row) + " |" for row in rows)]))
    return "\n\n".join(out) + "\n"


# Read at 1024 px without a horizontal scroll and printed on A4: long values (a mailbox, the SMTP host)
# wrap anywhere, and each account's fields are a two-column table of its own, kept on one page.
PAGE_STYLE = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.4}"
              "table{border-collapse:collapse;max-width:100%;margin:.5em 0}"
              "td,th{border:1px solid #999;padding:.3em .6em;text-align:left;vertical-align:top;"
              "overflow-wrap:anywhere}"
              "table.fields{width:100%;table-layout:fixed}table.fields th{width:9em}"
              "table.fields td{font-family:monospace}caption{text-align:left;font-weight:bold;padding:.3em 0}"
              "@page{size:A4;margin:15mm}"
              "@media print{body{max-width:none;margin:0;padding:0;font-size:10pt}"
              "table,h3{break-inside:avoid}h2,h3{break-after:avoid}}")


def _fields_html(headers: list[str], rows: list[list[str]]) -> str:
    """Tutor's fields of each account, one field a line, in the screen's order."""
    return "".join(
        f'<table class="fields"><caption>{html.escape(headers[0])}: {html.escape(row[0])}</caption>'
        + "".join(f"<tr><th>{html.escape(h)}</th><td>{html.escape(v)}</td></tr>" for h, v in zip(headers[1:], row[1:],
                                                                                               strict=True))
        + "</table>" for row in rows)


def render_html(plan: InstitutionPlan, verdicts: dict[str, DmarcVerdict] | None = None,
                recorded: dict[str, str] | None = None) -> str:
    out = ['<!DOCTYPE html>', '<html lang="pt-BR"><head><meta charset="utf-8">',
           f"<title>{html.escape(plan.institution.name)}: configuração de e-mail</title>",
           f"<style>{PAGE_STYLE}</style></head><body>"]
    for kind, content in _blocks(plan, verdicts, recorded):
        if kind in ("h1", "h2", "h3", "p"):
            out.append(f"<{kind}>{html.escape(_plain(content))}</{kind}>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{html.escape(item)}</li>" for item in content) + "</ul>")
        elif kind == "fields":
            out.append(_fields_html(*content))
        else:
            headers, rows = content
            out.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>"
                       + "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
                                 for row in rows) + "</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_handoff(plan: InstitutionPlan, directory: Path, services: Services | None) -> list[Path]:
    """The Markdown and the HTML; with `services`, as the gate reads the accounts: the DMARC look-ups and
    the acceptances recorded, so that an account DMARC blocks is left out of the fill-in tables.
    None (`--offline`): neither is read."""
    verdicts = None if services is None else plan_verdicts([plan], services.lookups)
    recorded = None if services is None else services.progress(plan).read()
    directory.mkdir(parents=True, exist_ok=True)
    markdown = directory / f"{plan.slug}.md"
    page = directory / f"{plan.slug}.html"
    markdown.write_text(render_markdown(plan, verdicts, recorded), encoding="utf-8")
    page.write_text(render_html(plan, verdicts, recorded), encoding="utf-8")
    return [markdown, page]
