"""Reading one YAML file within bounds, so that no file can hang, exhaust or crash a command.

Every limit here ends in a `Problem` (exit 2), never in a traceback: only regular files are
read (a FIFO named `x.yaml` would block `open` forever), at most `MAX_FILE_BYTES` of them,
nested at most `MAX_DEPTH` levels (deeper input made ruamel recurse until RecursionError), and
with aliases expanding to at most `MAX_VALUES` values (a few lines of anchors can otherwise
stand for millions of companies).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, BinaryIO

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedSeq
from ruamel.yaml.composer import MaxDepthExceededError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from tutormail.catalog.problems import Problem

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32  # an institution file needs 5 (companies[].accounts.<name>.email)
MAX_VALUES = 100_000


class FileProblem(Exception):
    """A file that cannot be read as a document; carries the (line, reason) to report."""

    def __init__(self, line: int, field: str, reason: str):
        super().__init__(reason)
        self.line, self.field, self.reason = line, field, reason

    def problem(self, file: str) -> Problem:
        return Problem(file, self.line, self.field, self.reason)


def open_regular(path: Path) -> tuple[BinaryIO, int]:
    """(open binary file, size) of a regular file, or FileProblem; never waits on a FIFO."""
    try:
        # O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise FileProblem(0, "(file)", "does not exist") from None
    except OSError as exc:
        raise FileProblem(0, "(file)", f"cannot be opened: {exc.strerror}") from None
    except ValueError:  # what os.open raises for a NUL in the name, which no file can have
        raise FileProblem(0, "(file)", "cannot be opened: the name contains a NUL character") from None
    info = os.fstat(fd)  # before fdopen, which refuses a directory with IsADirectoryError
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise FileProblem(0, "(file)", "is not a regular file (only regular files are read)")
    return os.fdopen(fd, "rb"), info.st_size


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a regular file of at most `limit` bytes, or FileProblem."""
    handle, size = open_regular(path)
    with handle:
        if size > limit:
            raise FileProblem(0, "(file)", f"is {size} bytes, larger than the limit of {limit} bytes")
        data = handle.read(limit + 1)  # the file may have grown since fstat
    if len(data) > limit:
        raise FileProblem(0, "(file)", f"is larger than the limit of {limit} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileProblem(0, "(file)", f"cannot be read as UTF-8 text: {exc}") from None


def _yaml(typ: str) -> YAML:
    yaml = YAML(typ=typ, pure=True)
    yaml.max_depth = MAX_DEPTH
    yaml.composer.warn_double_anchors = False  # legal YAML (the later anchor wins); a warning is noise on stderr
    return yaml


def load(text: str, round_trip: bool = True) -> Any:
    """The document, or FileProblem. Round trip keeps line numbers; the safe loader is faster
    and serves where only values are needed (other files' claims)."""
    try:
        document = _yaml("rt" if round_trip else "safe").load(text)
    except MaxDepthExceededError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise FileProblem(line, "(yaml)", f"nested deeper than {MAX_DEPTH} levels") from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(str(exc.problem).split())
        raise FileProblem(mark.line + 1 if mark else 0, "(yaml)", reason) from None
    except YAMLError as exc:
        raise FileProblem(0, "(yaml)", " ".join(str(exc).split())) from None
    except RecursionError:  # belt and braces: max_depth should stop it first
        raise FileProblem(0, "(yaml)", f"nested deeper than {MAX_DEPTH} levels") from None
    except Exception as exc:
        # ruamel's constructors raise plain Python errors on malformed values (a timestamp of
        # month 13: ValueError; `!!bool maybe`: KeyError; a bad `!!omap`: AssertionError). Whatever
        # the library cannot make of this text is this file's problem, not a crash.
        detail = f": {exc}" if str(exc) else ""
        raise FileProblem(0, "(yaml)", f"a value cannot be read ({type(exc).__name__}{detail}); check dates, "
                          "numbers and explicit !!tags") from None
    count_values(document)
    return document


def count_values(document: Any) -> int:
    """Values in the document with every alias expanded; FileProblem past MAX_VALUES or on a cycle.

    Aliases share one object, so sizes are memoized by identity: linear in the file, not in the
    expansion. Depth is already bounded by the loader, so the recursion is too.
    """
    sizes: dict[int, int] = {}

    def size(value: Any, path: tuple[int, ...]) -> int:
        if not isinstance(value, dict | list):
            return 1
        key = id(value)
        if key in path:
            raise FileProblem(0, "(yaml)", "an alias refers to a node that contains it (a cycle)")
        if key not in sizes:
            children = value.values() if isinstance(value, dict) else value
            total = 1 + sum(size(child, (*path, key)) for child in children)
            if total > MAX_VALUES:
                raise FileProblem(0, "(yaml)", f"holds more than {MAX_VALUES} values once its aliases are "
                                  "expanded")
            sizes[key] = total
        return sizes[key]

    return size(document, ())


def line_of(node: Any, key: Any = None) -> int:
    """1-based line of a key (or item) inside a round-trip node, 0 when unknown."""
    try:
        if key is None:
            return node.lc.line + 1
        if isinstance(node, CommentedSeq):
            return node.lc.item(key)[0] + 1
        return node.lc.key(key)[0] + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return 0


def read_document(path: Path, round_trip: bool = True) -> Any:
    """read_text + load."""
    return load(read_text(path), round_trip)
