"""`tutormail smtp-settings SLUG`: the fields of Tutor's Contas de E-mail; the password only with --reveal."""

from __future__ import annotations

import argparse
import io
import logging
import sys

from tutormail.cli import arguments
from tutormail.cli.institutions import load_plan
from tutormail.cli.output import emit_json, table
from tutormail.plan.build import InstitutionPlan
from tutormail.services import Services
from tutormail.tutor_setup.phases import NotReady, SettingsRelease, record_released, release_settings
from tutormail.tutor_setup.smtp_settings import TUTOR_FIELDS, env_lines, write_private

log = logging.getLogger("tutormail")


NOT_READY_HEADERS = ["empresa", "conta", "endereço", "estado", "motivo", "saída"]


def _not_ready_cells(entry: NotReady) -> list[str]:
    sender, hold = entry.sender, entry.hold
    return [sender.company, sender.account, sender.address, hold.state, hold.reason, hold.way_out]


def _settings_text(plan: InstitutionPlan, release: SettingsRelease, form: str) -> str:
    if form == "json":
        buffer = io.StringIO()
        emit_json(release.as_dict(plan.slug), buffer)
        return buffer.getvalue()
    if form == "env":
        # Shell comments, one line each: the accounts not to configure yet carry no variables.
        held = [f"# not to configure yet: {e.sender.company} / {e.sender.account} ({e.sender.address}): "
                f"{e.hold.state}: {e.hold.reason}; way out: {e.hold.way_out}".replace("\n", " ")
                for e in release.not_ready]
        return "\n".join([*env_lines(release.rows), *held]) + "\n"
    text = table(["empresa", "conta", *(label for _, label, _ in TUTOR_FIELDS), "validado"],
                 [[r.company, r.account, *r.tutor_values(), "sim" if r.verified else "não"] for r in release.rows])
    if release.not_ready:
        text += "\n\nnot to configure yet (não configurar ainda):\n" + table(
            NOT_READY_HEADERS, [_not_ready_cells(e) for e in release.not_ready])
    return text + "\n\n" + table(["empresa", "regra", "conta"], [[r.company, r.rule, r.account]
                                                                for r in release.rules]) + "\n"


def cmd_smtp_settings(args: argparse.Namespace) -> int:
    """Exit 0 when every selected account is ready; otherwise the worst code of those held back (1 blocked
    or expired, 3 pending, 4 a look-up failed), the ready accounts' settings written all the same."""
    form = arguments.data_format(args, "smtp-settings", "table")
    plan = load_plan(args)
    services = Services.of(args.runtime.clock, args.runtime.dns)
    release = release_settings(plan, args.company, args.account, args.reveal, services, args.accept_dmarc_risk)
    for problem in release.gate.problems:
        log.error("not to configure yet: %s", problem)
    if args.reveal and not release.rows:
        log.error("no selected account is ready: the password is released only for a sender verified and "
                  "deliverable (phase 1 before phase 2)")
    text = _settings_text(plan, release, form)
    if args.out:
        write_private(args.out, text)
        log.info("wrote %s (mode 0600)", args.out)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if args.reveal and release.rows:  # phase 2 recorded only once the password reached the person
        record_released(services.progress(plan), release, services.clock)
    return release.gate.code


def register(add) -> None:
    settings = add("smtp-settings", cmd_smtp_settings,
                   "the fields of Tutor's Contas de E-mail; the password only with --reveal, once verified")
    settings.add_argument("slug")
    settings.add_argument("--company", type=arguments.company_name)
    settings.add_argument("--account")
    settings.add_argument("--format", choices=("table", "json", "env"),
                          help="env: shell variables; table and json are as --output")
    settings.add_argument("--reveal", action="store_true", help="show the password (verified senders only)")
    settings.add_argument("--out", metavar="FILE", type=arguments.output_file,
                          help="write to FILE (mode 0600) instead of stdout")
    settings.add_argument("--accept-dmarc-risk", action="store_true", help=arguments.ACCEPT_HELP)
