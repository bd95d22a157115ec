"""A directory of institution files, checked as a whole.

Checking some files (`validate FILE`, `-c institutions=a,b`) still reads every other file of the
directory for what it claims (ownership.py): a file is valid only beside all the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from tutormail.catalog.checker import Checker
from tutormail.catalog.entities import PLATFORM_FILE, Catalog, Institution, Platform
from tutormail.catalog.ownership import Claim, claims_of, conflicts
from tutormail.catalog.parse_institution import institution_document, parse_institution_document
from tutormail.catalog.parse_platform import parse_platform
from tutormail.catalog.problems import ConfigurationError, Problem, display_path
from tutormail.catalog.receiving_fields import check_subdomain_taken
from tutormail.catalog.yaml_reader import FileProblem, read_document

# Checks over the institutions that parsed, each returning its problems: the hook for rules that
# look at a whole catalog (service limits such as name lengths and policy sizes). A new check is a
# function `(Catalog) -> list[Problem]` in its own module, imported here and listed below;
# `check_files` runs every one, so validate, app.py, the sandbox and every command get it.
CatalogCheck = Callable[[Catalog], list[Problem]]
def _aws_limits(catalog: Catalog) -> list[Problem]:
    from tutormail.plan.limits import check_limits  # the plan is built on this package

    return [p for institution in catalog.institutions.values() for p in check_limits(institution, catalog.platform)]


CATALOG_CHECKS: list[CatalogCheck] = [_aws_limits, check_subdomain_taken]


def institution_files(directory: Path) -> list[Path]:
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    return [f for f in files if f.name != PLATFORM_FILE]


def _checked_file(path: Path, platform: Platform | None, directory: Path
                  ) -> tuple[Institution | None, list[Problem], list[Claim]]:
    chk = Checker(path)
    doc = institution_document(path, chk)
    if doc is None:
        return None, chk.problems, []
    institution = parse_institution_document(doc, path, chk, platform, directory)
    return institution, chk.problems, claims_of(doc, chk.file)


def _peer_claims(path: Path) -> tuple[list[Claim], list[Problem]]:
    """What a file we are not checking claims. One that cannot be read at all is a problem even
    here: what it claims is unknown, so nothing beside it can be shown to be its own."""
    file = display_path(path)
    try:
        doc = read_document(path, round_trip=False)
    except FileProblem as exc:
        problem = exc.problem(file)
        return [], [Problem(file, problem.line, problem.field, f"{problem.reason} (every file is read to "
                            "check that no two institutions claim the same domain, address or zone)")]
    return claims_of(doc, file), []


def _peers(directory: Path, checked: list[Path]) -> list[Path]:
    """The directory's other files. A checked file stands for the directory's file of the same
    name (it is that institution's edited copy, as add-company validates)."""
    names = {p.stem for p in checked}
    return [p for p in institution_files(directory) if p.stem not in names]


def _add(institutions: dict[str, Institution], institution: Institution) -> Problem | None:
    if institution.slug in institutions:
        other = institutions[institution.slug].source
        return Problem(institution.source, 1, "slug", f"{institution.slug!r} is already the slug of {other}")
    institutions[institution.slug] = institution
    return None


def check_files(directory: Path, files: Iterable[Path] | None = None) -> tuple[Catalog | None, list[Problem]]:
    """Parses the platform file and the given institution files (all by default)."""
    directory = Path(directory)
    platform, problems = parse_platform(directory / PLATFORM_FILE)
    paths = institution_files(directory) if files is None else [
        Path(f) for f in files if Path(f).name != PLATFORM_FILE]
    institutions: dict[str, Institution] = {}
    claims: list[Claim] = []
    for path in paths:
        institution, found, claimed = _checked_file(path, platform, directory)
        problems.extend(found)
        claims.extend(claimed)
        if institution is not None and (duplicate := _add(institutions, institution)):
            problems.append(duplicate)
    for peer in _peers(directory, paths):
        claimed, unreadable = _peer_claims(peer)
        claims.extend(claimed)
        problems.extend(unreadable)
    problems.extend(conflicts(claims, {display_path(p) for p in paths}))
    if platform is not None:
        catalog = Catalog(directory, platform, dict(sorted(institutions.items())))
        for check in CATALOG_CHECKS:
            problems.extend(check(catalog))
    if platform is None or problems:
        return None, sorted(set(problems))
    return catalog, []


def load_catalog(directory: Path, only: Iterable[str] | None = None) -> Catalog:
    """The catalogue of a directory, or ConfigurationError with every problem.

    `only` limits parsing to those slugs' files (the fast path of `-c institutions=`); the other
    files are still read for what they claim.
    """
    directory = Path(directory)
    files = None
    if only is not None:
        files, problems = [], []
        for slug in only:
            matches = [p for p in (directory / f"{slug}.yaml", directory / f"{slug}.yml") if p.exists()]
            if not matches:
                problems.append(Problem(display_path(directory), 0, "institutions",
                                        f"no file for institution {slug!r}"))
            files.extend(matches)
        if problems:
            raise ConfigurationError(problems)
    catalog, problems = check_files(directory, files)
    if catalog is None:
        raise ConfigurationError(problems)
    return catalog
