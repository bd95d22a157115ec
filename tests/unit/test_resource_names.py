"""Every name tutor-mail makes has the wildcard its grants name, and that wildcard reaches exactly it."""

import inspect

import pytest
from tutormail import names

SLUGS = ("a", "instituicao-xy", "escola-padrao", "x" * 63)
# Helpers of names.py that make no resource name: what a name is read back as, or the prefix a
# file's own names (TSIG keys) go under.
NOT_NAMES = {"slug_of_configuration_set", "slug_of_pause_alarm", "pause_alarm_prefix", "tsig_prefix",
             "wildcard_matches"}


def test_every_name_function_has_its_wildcard():
    made = {named.make for named in names.NAMED}
    functions = {name: f for name, f in vars(names).items()
                 if inspect.isfunction(f) and f.__module__ == names.__name__ and not name.startswith("_")}
    missing = sorted(name for name, f in functions.items() if name not in NOT_NAMES and f not in made)
    assert not missing, f"name functions without a wildcard in names.NAMED: {missing}"


def test_kinds_are_unique():
    kinds = [named.kind for named in names.NAMED]
    assert len(kinds) == len(set(kinds))


@pytest.mark.parametrize("named", names.NAMED, ids=lambda n: n.kind)
@pytest.mark.parametrize("slug", SLUGS)
def test_wildcard_matches_what_its_function_makes(named, slug):
    assert names.wildcard_matches(named.wildcard, named.make(*named.example(slug)))


@pytest.mark.parametrize("named", names.NAMED, ids=lambda n: n.kind)
def test_wildcard_matches_no_other_kind_of_its_resource_type(named):
    others = [o for o in names.NAMED if o.resource == named.resource and o.kind != named.kind
              and o.kind not in named.covers]
    reached = sorted({o.kind for o in others for slug in SLUGS
                      if names.wildcard_matches(named.wildcard, o.make(*o.example(slug)))})
    assert not reached, f"{named.wildcard} ({named.kind}) also names {reached}"


def test_the_smtp_secret_wildcard_spares_the_tsig_keys():
    # The offboarding role's Deny (infra/platform_stack.py) must leave it the TSIG keys it reads.
    assert not names.wildcard_matches(names.SMTP_SECRET_WILDCARD, f"{names.tsig_prefix('instituicao-xy')}tsig")
    assert names.wildcard_matches(names.SECRET_WILDCARD, f"{names.tsig_prefix('instituicao-xy')}tsig")


@pytest.mark.parametrize(("wildcard", "name", "matches"), [
    ("tutormail/*", "tutormail/a/b/smtp", True),  # `*` spans `/`
    ("tutormail-*-smtp", "tutormail-a-smtp", True),
    ("tutormail-*-smtp", "tutormail-a-smtp-x", False),  # the whole name, not a part
    ("tutormail-*", "TUTORMAIL-a", False),  # case-sensitive
    ("x-??????", "x-abcdef", True),
    ("x-??????", "x-abcde", False),  # `?` is exactly one character
    ("a.b", "aXb", False),  # other characters stand for themselves
])
def test_wildcard_reads_as_iam_does(wildcard, name, matches):
    assert names.wildcard_matches(wildcard, name) is matches
