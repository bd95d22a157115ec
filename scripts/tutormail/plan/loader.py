"""The catalog as the product reads it: the files loaded and validated (tutormail.catalog), then the
catalog checks that need a plan, the AWS name-length and policy-size limits (limits.py).

`app.py` (CDK), the CLI, the sandbox and the pipeline all load institutions here, so a file that
would exceed an AWS limit is refused with its file and field by `validate` and before any deploy.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tutormail.catalog import directory
from tutormail.catalog.directory import CatalogCheck
from tutormail.catalog.model import Catalog, Problem
from tutormail.catalog.receiving_fields import check_subdomain_taken
from tutormail.plan.limits import catalog_limits

# A new catalog check is a function `(Catalog) -> list[Problem]` listed here: every load runs it.
CATALOG_CHECKS: list[CatalogCheck] = [catalog_limits, check_subdomain_taken]


def check_files(directory_path: Path, files: Iterable[Path] | None = None) -> tuple[Catalog | None, list[Problem]]:
    """The platform file and the given institution files (all by default), with every catalog check."""
    return directory.check_files(directory_path, files, checks=CATALOG_CHECKS)


def load_catalog(directory_path: Path, only: Iterable[str] | None = None) -> Catalog:
    """The catalogue of a directory, or ConfigurationError with every problem (catalog and limits).

    `only` limits parsing to those slugs' files (the fast path of `-c institutions=`); the other
    files are still read for what they claim.
    """
    return directory.load_catalog(directory_path, only, checks=CATALOG_CHECKS)
