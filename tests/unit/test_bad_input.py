"""Every wrong input from the user or the environment ends with exit 2 and a message naming it,
through the installed command: the variables, the file options and the option values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tutormail.runtime import VARIABLES

from tests.conftest import INSTITUTIONS, REPO, run_cli

TUTORMAIL = Path(sys.executable).parent / "tutormail"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad")
    (tmp / "clock-nan").write_text("nan\n")
    (tmp / "clock-text").write_text("yesterday\n")
    (tmp / "clock-huge").write_text("1e300\n")
    (tmp / "binary").write_bytes(b"\xff\xfe\x00garbage")
    (tmp / "a-directory").mkdir()
    (tmp / "a-directory.html").mkdir()
    (tmp / "not-pem").write_text("not a certificate\n")
    return tmp


# (variable, bad value) -> the command is refused before it reads any file, AWS or DNS.
BAD_VARIABLES = [
    ("AWS_ENDPOINT_URL", "localhost:4566"),
    ("AWS_ENDPOINT_URL", "ftp://127.0.0.1"),
    ("AWS_ENDPOINT_URL", "http://127.0.0.1:99999"),
    ("TUTORMAIL_INSTITUTIONS", "{tmp}/nowhere"),
    ("TUTORMAIL_INSTITUTIONS", "{tmp}/clock-nan"),
    ("TUTORMAIL_RESOLVER", "ns1.example.com.br:53"),
    ("TUTORMAIL_RESOLVER", "127.0.0.1:0"),
    ("TUTORMAIL_RESOLVER", "127.0.0.1:dns"),
    ("TUTORMAIL_DNS_PORT", "abc"),
    ("TUTORMAIL_DNS_PORT", "70000"),
    ("TUTORMAIL_DNS_PORT", "-53"),
    ("TUTORMAIL_DNS_PORT", "\u00b2"),  # a digit to str.isdigit(), not to int()
    ("TUTORMAIL_DNS_TIMEOUT", "0"),
    ("TUTORMAIL_DNS_TIMEOUT", "2m"),
    ("TUTORMAIL_SMTP_ENDPOINT", "localhost"),
    ("TUTORMAIL_SMTP_ENDPOINT", "localhost:port"),
    ("TUTORMAIL_SMTP_ENDPOINT", "bad host:587"),
    ("TUTORMAIL_SMTP_CA_BUNDLE", "{tmp}/nowhere.pem"),
    ("TUTORMAIL_SMTP_CA_BUNDLE", "{tmp}/a-directory"),
    ("TUTORMAIL_SMTP_CA_BUNDLE", "{tmp}/not-pem"),
    ("TUTORMAIL_SMTP_CA_BUNDLE", "{tmp}/binary"),
    ("TUTORMAIL_CLOCK_FILE", "{tmp}/nowhere"),
    ("TUTORMAIL_CLOCK_FILE", "{tmp}/a-directory"),
    ("TUTORMAIL_CLOCK_FILE", "{tmp}/clock-nan"),
    ("TUTORMAIL_CLOCK_FILE", "{tmp}/clock-text"),
    ("TUTORMAIL_CLOCK_FILE", "{tmp}/clock-huge"),
    ("TUTORMAIL_CLOCK_FILE", "{tmp}/binary"),
    ("TUTORMAIL_CDK_METHOD", "changeset"),
]


def test_every_variable_has_a_bad_value_here():
    assert {name for name, _ in BAD_VARIABLES} == set(VARIABLES)


@pytest.mark.parametrize(("name", "value"), BAD_VARIABLES)
def test_a_bad_variable_is_exit_2_naming_it(files, name, value):
    result = run_cli("validate", env={name: value.format(tmp=files)})
    assert result.returncode == 2, result.stderr
    assert f"${name}" in result.stderr and "Traceback" not in result.stderr


# (arguments, what the message must name); {tmp} is a directory of prepared files.
BAD_OPTIONS = [
    (["verify", "instituicao-xy", "--timeout", "nan"], "--timeout"),
    (["verify", "instituicao-xy", "--timeout", "inf"], "--timeout"),
    (["verify", "instituicao-xy", "--timeout", "-5m"], "--timeout"),
    (["verify", "instituicao-xy", "--timeout", "10 years"], "--timeout"),
    (["verify", "instituicao-xy", "--max-resends", "-1"], "--max-resends"),
    (["send-test", "instituicao-xy", "--to", "a@b@c"], "--to"),
    (["send-test", "instituicao-xy", "--to", "ação@exemplo.com.br"], "--to"),
    (["send-test", "instituicao-xy", "--to", "a@exemplo.com.br", "--endpoint", "localhost:0"], "--endpoint"),
    (["send-test", "instituicao-xy", "--to", "a@exemplo.com.br", "--endpoint", "[::1"], "--endpoint"),
    (["send-test", "instituicao-xy", "--to", "a@exemplo.com.br", "--attempts", "0"], "--attempts"),
    (["send-test", "instituicao-xy", "--to", "a@exemplo.com.br", "--attempts", "\u0663"], "--attempts"),
    (["send-test", "instituicao-xy", "--to", "a@exemplo.com.br", "--ca-bundle", "{tmp}/nowhere.pem"], "--ca-bundle"),
    (["send-test", "instituicao-xy", "--to", "a@exemplo.com.br", "--ca-bundle", "{tmp}/a-directory"], "--ca-bundle"),
    (["send-test", "instituicao-xy", "--to", "a@exemplo.com.br", "--ca-bundle", "{tmp}/not-pem"], "--ca-bundle"),
    (["status", "--all", "--output", "html", "{tmp}/a-directory.html"], "is a directory"),
    (["dns-records", "instituicao-xy", "--domain", "-x."], "--domain"),
    (["dns-records", "instituicao-xy", "--domain", "dona.com.br"], "not a domain of instituicao-xy"),
    (["pause", "escola-padrao", "--reason", ""], "--reason"),
    (["pause", "escola-padrao", "--reason", "\x1b[\x07"], "--reason"),
    (["smtp-settings", "instituicao-xy", "--out", "{tmp}/a-directory"], "--out"),
    (["smtp-settings", "instituicao-xy", "--out", "{tmp}/clock-nan/inside"], "--out"),
    (["handoff", "instituicao-xy", "--out", "{tmp}/clock-nan"], "--out"),
    (["smtp-password", "--region", "mars-1"], "--region"),
    (["--institutions", "{tmp}/nowhere", "validate"], "--institutions"),
    (["validate", "--institutions", "{tmp}/clock-nan"], "--institutions"),
    (["status"], "--all"),
    (["dns-publish", "instituicao-xy", "--tsig-key-file", "{tmp}/nowhere.key"], "TSIG key file"),
    (["validate", "--output", "html"], "--output"),  # only status writes a page
    (["reputation", "--all", "--output", "html"], "--output"),
    (["status", "--all", "--output", "html", "instituicao-xy"], ".html"),  # the FILE, not a slug
    # One option convention: --output and --format that disagree, a page without its file, a file without a page.
    (["dns-records", "instituicao-xy", "--output", "json", "--format", "zone"], "--format zone"),
    (["smtp-settings", "instituicao-xy", "--output", "json", "--format", "env"], "--format env"),
    (["smtp-settings", "instituicao-xy", "--output", "table", "--format", "json"], "--format json"),
    (["status", "--all", "--format", "html"], "--out FILE"),
    (["status", "--all", "--out", "{tmp}/page.html"], "--format html"),
    (["status", "--all", "--output", "json", "--format", "html", "--out", "{tmp}/page.html"], "--format html"),
    (["status", "--all", "--output", "html", "{tmp}/page.html", "--out", "{tmp}/other.html"], "--format html"),
    (["status", "--format", "json"], "--format"),  # a form status has not: json is --output json
    # SLUG... or --all: one, not both.
    (["status", "instituicao-xy", "--all"], "not both"),
    (["preflight", "instituicao-xy", "--all"], "not both"),
    (["reputation", "escola-padrao", "--all"], "not both"),
    (["preflight"], "--all"),
    (["reputation"], "--all"),
]


@pytest.mark.parametrize(("args", "named"), BAD_OPTIONS)
def test_a_bad_option_is_exit_2_naming_it(files, args, named):
    result = run_cli(*(a.format(tmp=files) for a in args), "--institutions" if args[0] != "--institutions" and
                     "--institutions" not in args else "--output", str(INSTITUTIONS) if "--institutions" not in args
                     else "table")
    assert result.returncode == 2, result.stdout + result.stderr
    assert named in result.stderr and "Traceback" not in result.stderr


def test_smtp_password_with_stdin_closed_or_not_text():
    closed = subprocess.run(f"'{TUTORMAIL}' smtp-password --region us-east-1 <&-", shell=True,  # noqa: S602
                            capture_output=True, text=True, check=False, cwd=REPO, env=os.environ)
    assert closed.returncode == 2 and "standard input" in closed.stderr and "Traceback" not in closed.stderr
    binary = subprocess.run([str(TUTORMAIL), "smtp-password", "--region", "us-east-1"], input=b"\xff\xfe\n",
                            capture_output=True, check=False)
    assert binary.returncode == 2 and b"standard input" in binary.stderr and b"Traceback" not in binary.stderr


def test_options_before_the_command_are_kept(tmp_path):
    """`tutormail --institutions DIR validate` validates DIR, not ./institutions."""
    (tmp_path / "platform.yaml").write_text((INSTITUTIONS / "platform.yaml").read_text())
    before = run_cli("--institutions", str(tmp_path), "--output", "json", "validate")
    after = run_cli("validate", "--institutions", str(tmp_path), "--output", "json")
    assert before.returncode == after.returncode == 0
    assert before.stdout == after.stdout and '"institutions": []' in before.stdout


@pytest.mark.parametrize("text", ["\u00b2", "\u0665\u0663", "\uff15\uff13"])
def test_a_port_is_written_in_ascii_digits_only(text):
    """"²" made int() fail with its own words and "٥٣" (Arabic-Indic) was read as port 53."""
    from tutormail.runtime import parse_port

    with pytest.raises(ValueError, match="is not a port"):
        parse_port(text)
