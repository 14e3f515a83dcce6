"""What a certificate says in words: the method for the customer, without the project's notes on its sources.

hengqi marks where each rule comes from (``SECONDARY``, ``CONFIRMED``, ``NOT FOUND``, "hengqi construction"...)
in docstrings, in the uncertainty budget and in ``hengqi calibrate --json``; those marks help a reviewer of the
software, not the customer.  ISO/IEC 17025:2017, 7.8.2.1 asks a report to identify the method used (SECONDARY:
read through summaries); a certificate therefore states the method in plain words and leaves provenance to
``docs/`` and the budget export.

>>> customer_text("rounding, d/(2*sqrt(3)) with d = 100 µg (cg-18 v4.0 7.1.1, SECONDARY)")
'rounding, d/(2*sqrt(3)) with d = 100 µg'
>>> is_internal("clause numbers are quoted from a secondary source"), is_internal("Stopped by the operator")
(True, False)
"""

from __future__ import annotations

import re
from typing import Final

#: Words that mark a note on sources (the project's confidence labels and similar wording).
INTERNAL_MARKS: Final = (
    "SECONDARY",
    "CONFIRMED",
    "NOT FOUND",
    "DERIVED",
    "hengqi construction",
    "secondary source",
    "not read",
    "were not available",
    "not available",
    "text NOT FOUND",
)
_MARK = "|".join(re.escape(m) for m in INTERNAL_MARKS)
_PAREN = re.compile(rf"\s*\((?:[^()]*?)(?:{_MARK})(?:[^()]*)\)")
_BARE = re.compile(rf"[,;]?\s*\b(?:{_MARK})\b")


def is_internal(text: str) -> bool:
    """Whether ``text`` carries a note on sources (one of :data:`INTERNAL_MARKS`)."""
    return any(mark.lower() in text.lower() for mark in INTERNAL_MARKS)


def customer_text(text: str) -> str:
    """``text`` without parenthesised notes on sources and without bare confidence labels."""
    previous = None
    out = text
    while previous != out:
        previous = out
        out = _PAREN.sub("", out)
    out = _BARE.sub("", out)
    return re.sub(r"\s{2,}", " ", out).strip().rstrip(";,").strip()
