"""Public suffixes: names under which anyone may register a domain, so no one owns them.

A small embedded list of the suffixes that matter to this platform (generic top-level domains
and Brazil's second-level categories), not the whole Public Suffix List: no package for it is
among the project's requirements, and a platform or institution domain is chosen once and
reviewed. Every single-label name is a top-level domain, hence a suffix, whatever the list says.
"""

from __future__ import annotations

_GENERIC = ("com", "org", "net", "edu", "gov", "mil", "int", "info", "biz", "io", "co", "app", "dev")
# registro.br's second-level categories under .br.
_BRAZIL = (
    "adm", "adv", "agr", "am", "app", "arq", "art", "ato", "b", "bib", "bio", "blog", "bmd", "cim", "cng",
    "cnt", "com", "coop", "cri", "def", "des", "det", "dev", "ecn", "eco", "edu", "emp", "enf", "eng", "esp",
    "etc", "eti", "far", "flog", "fm", "fnd", "fot", "fst", "g12", "geo", "ggf", "gov", "imb", "ind", "inf",
    "jor", "jus", "leg", "lel", "log", "mat", "med", "mil", "mp", "mus", "net", "nom", "not", "ntr", "odo",
    "ong", "org", "ppg", "pro", "psc", "psi", "qsl", "radio", "rec", "rep", "slg", "srv", "taxi", "tc",
    "tec", "teo", "tmp", "trd", "tur", "tv", "vet", "vlog", "wiki", "zlg",
)
# Other second-level suffixes people near the platform use (Portugal, the UK).
_OTHER = ("com.pt", "edu.pt", "gov.pt", "org.pt", "co.uk", "ac.uk", "gov.uk", "org.uk")

PUBLIC_SUFFIXES = frozenset((*_GENERIC, "br", *(f"{label}.br" for label in _BRAZIL), *_OTHER))


def is_public_suffix(domain: str) -> bool:
    """`domain` in A-label form, lower case."""
    return "." not in domain or domain in PUBLIC_SUFFIXES
