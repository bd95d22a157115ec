"""The commands behind `tutormail`: each reads arguments, calls the library, renders the result."""

from __future__ import annotations

import logging

log = logging.getLogger("tutormail")


# --- Cenário 1 -----------------------------------------------------------------------------------


# --- verify (both scenarios) ------------------------------------------------------------------------


# --- Cenário 2 ------------------------------------------------------------------------------------


# --- phases 2 and 3 ---------------------------------------------------------------------------------


