"""Random YAML documents fed to `validate`: every outcome is a verdict (exit 0 or 2), never a
traceback. Documents are built from the files' own vocabulary so that they reach deep into the
parser, not only its first type check."""

import io
import shutil

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from tutormail.cli.main import main
from tutormail.plan.loader import check_files

from tests.conftest import INSTITUTIONS, run_cli

WORDS = ["name", "slug", "dns", "companies", "domain", "provider", "route53", "rfc2136", "manual",
         "hosted_zone_id", "zone_name", "server", "tsig_key", "mail_from", "dmarc_policy", "accounts",
         "rules", "email", "display_name", "logo", "comunicacao", "news", "avisos", "smtp_key_generation",
         "smtp_key_keep_previous", "escola.com.br", "instituicaoxy.com.br", "comunicacao@escola.com.br",
         "a@instituicaoxy.com.br", "tutormail/sorteio/tsig", "Z0987654321ZYXWVUTSRQ", "logos/instituicao-xy.png",
         "../platform.yaml", "sistematutor.com.br", "x*@escola.com.br", "\u202e", "\u2028", "sorteio",
         "dmarc", "keep", "publish", "platform_dmarc", "inherit"]
SCALARS = st.one_of(st.sampled_from(WORDS), st.text(max_size=12), st.integers(-3, 70_000), st.booleans(),
                    st.none(), st.floats(allow_nan=True))
KEYS = st.one_of(st.sampled_from(WORDS), st.text(max_size=6), st.integers(0, 3))
DOCUMENTS = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(KEYS, inner, max_size=6)),
                         max_leaves=20)
# Mostly mappings that look like institution files, sometimes anything at all.
INSTITUTION_LIKE = st.one_of(st.fixed_dictionaries({"name": SCALARS, "companies": DOCUMENTS},
                                                   optional={"dns": DOCUMENTS, "slug": SCALARS}), DOCUMENTS)
# Values YAML's own types read into errors of the library (dates, explicit tags, merges).
SNIPPETS = ["2026-13-45", "2026-02-30 25:61:00", "!!bool talvez", "!!float x", "!!int 0xZZ", "!!omap [{a: 1}, {a: 2}]",
            "!!binary x$", "!!set {a}", "!!timestamp x", "{<<: [1]}", "&a [*a]", "*b", "!!python/name:os.system",
            "1e99999", ".nan", "0o99", "[", "'", "\"\\x\"", "? [a]"]
SNIPPET_TEXT = st.lists(st.tuples(st.sampled_from(WORDS[:24]), st.sampled_from(SNIPPETS)), max_size=4).map(
    lambda pairs: "".join(f"{key}: {value}\n" for key, value in pairs))
RAW_TEXT = st.text(alphabet=st.sampled_from([*"ab:-[]{}&*!|>'\"#\n\t %@,?", "\u2028", "\ufeff"]),
                   max_size=80)


def _dump(document) -> str:
    buffer = io.StringIO()
    YAML(typ="safe").dump(document, buffer)
    return buffer.getvalue()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(INSTITUTION_LIKE.map(_dump), RAW_TEXT, SNIPPET_TEXT))
def test_random_documents_get_a_verdict_from_the_library(tmp_path_factory, text):
    directory = tmp_path_factory.mktemp("random")
    shutil.copy(INSTITUTIONS / "platform.yaml", directory)
    shutil.copy(INSTITUTIONS / "instituicao-xy.yaml", directory)  # a neighbour to claim against
    shutil.copytree(INSTITUTIONS / "logos", directory / "logos")
    path = directory / "sorteio.yaml"
    path.write_text(text, encoding="utf-8")
    catalog, problems = check_files(directory, [path])
    assert (catalog is None) == bool(problems)
    for problem in problems:
        assert problem.file and problem.field and problem.reason
    assert main(["validate", "--institutions", str(directory), str(path)]) in (0, 2)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(INSTITUTION_LIKE.map(_dump), RAW_TEXT, SNIPPET_TEXT))
def test_random_documents_get_a_verdict_from_the_installed_command(tmp_path_factory, text):
    directory = tmp_path_factory.mktemp("random-cli")
    shutil.copy(INSTITUTIONS / "platform.yaml", directory)
    (directory / "sorteio.yaml").write_text(text, encoding="utf-8")
    result = run_cli("validate", "--output", "json", "--institutions", str(directory), env={})
    assert result.returncode in (0, 2), result.stderr
    assert "Traceback" not in result.stderr
