"""The institution files, loaded into one typed model: the catalog's public face.

`app.py` (CDK) and the `tutormail` CLI both read institutions through `load_catalog`
(tutormail.plan.loader: these files, then the AWS limits of each plan); nothing else describes an
institution. Loading validates everything and collects every problem, each with its file, line
and field, before raising one `ConfigurationError`.

The work is done in focused modules, re-exported here for the code that imports from `model`:
  yaml_reader   one file within bounds (regular file, size, depth, aliases), lines of nodes
  fields        the one field table (allowed keys, patterns, ranges) the parser and schema share
  checker       reads values as the table describes them, collecting problems
  parse_platform, parse_institution, parse_dns, parse_company   the files' parts
  ownership     what one file claims no other may claim (domains, addresses, zones)
  directory     a directory as a whole: check_files, load_catalog with the catalog checks they are given
  entities      the typed model (Platform, Institution, ...)
"""

from __future__ import annotations

from tutormail.catalog.checker import SECRET_VALUE_KEYS
from tutormail.catalog.directory import institution_files
from tutormail.catalog.entities import (
    PLATFORM_FILE,
    Account,
    Catalog,
    Company,
    DnsDomain,
    Institution,
    Platform,
    platform_default_address,
    platform_subdomain,
)
from tutormail.catalog.fields import DMARC_POLICIES, HOST_RE, NAME_RE, PROVIDERS, SECRET_NAME_RE, ZONE_ID_RE
from tutormail.catalog.parse_company import DEFAULT_ACCOUNTS, LOGO_MAGIC, LOGO_MAX_BYTES
from tutormail.catalog.parse_institution import parse_institution
from tutormail.catalog.parse_platform import parse_platform
from tutormail.catalog.problems import ConfigurationError, Problem

__all__ = [
    "DEFAULT_ACCOUNTS", "DMARC_POLICIES", "HOST_RE", "LOGO_MAGIC", "LOGO_MAX_BYTES", "NAME_RE",
    "PLATFORM_FILE", "PROVIDERS", "SECRET_NAME_RE", "SECRET_VALUE_KEYS", "ZONE_ID_RE", "Account", "Catalog",
    "Company", "ConfigurationError", "DnsDomain", "Institution", "Platform", "Problem",
    "institution_files", "parse_institution", "parse_platform", "platform_default_address",
    "platform_subdomain",
]
