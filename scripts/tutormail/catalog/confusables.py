"""Unicode's confusables data (UTS #39, https://www.unicode.org/reports/tr39/): the skeleton of a
text, so that two names which read alike in different letters can be told apart from two names
that are different.

Two strings are confusable when their skeletons are equal (UTS #39 section 4): the skeleton is
NFD, then every code point replaced by its prototype in `confusables.txt`, then NFD again. A name
entirely in Cyrillic ("Сосо") has the skeleton of the Latin name it reads as ("Coco"), which the
mixed-script check in names.py cannot see (it takes a single-script name as its own).

The data file is Unicode's `confusables.txt`, version 13.0.0, kept verbatim beside this module
(https://www.unicode.org/Public/security/13.0.0/confusables.txt) and pinned by its SHA-256
(tests/unit/test_confusables.py): no well-kept Python package exposes the skeleton without
compiling ICU, and confusable-homoglyphs (names.py) keeps the pairs as an undirected graph, which
loses which side is the prototype.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

DATA = Path(__file__).with_name("confusables.txt")
DATA_SHA256 = "96f2500ec78fd96f11561d4b40237435dfece70303b1db3c0974138a333aa206"


@functools.cache
def prototypes() -> dict[str, str]:
    """Source code point -> its prototype (one or more code points), from the data file's lines
    `SOURCE ; TARGET ; MA # comment`."""
    table: dict[str, str] = {}
    for line in DATA.read_text(encoding="utf-8-sig").splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 3:
            continue
        source, target = ("".join(chr(int(cp, 16)) for cp in part.split()) for part in fields[:2])
        table[source] = target
    return table


def skeleton(text: str) -> str:
    """UTS #39 section 4: skeleton(X) = NFD(prototypes of each code point of NFD(X))."""
    table = prototypes()
    return unicodedata.normalize("NFD", "".join(table.get(c, c) for c in unicodedata.normalize("NFD", text)))
