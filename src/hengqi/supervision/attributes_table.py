"""Single sampling plans for normal inspection, general inspection level II, by attributes: the plans of
MIL-STD-105E (10 May 1989) Table I (sample size code letters) and Table II-A (single sampling, normal inspection,
master table), of which ISO 2859-1 and ANSI/ASQ Z1.4 are the civil counterparts.

SECONDARY SOURCE.  Neither ISO 2859-1 nor the tables of MIL-STD-105E could be read here in a form that keeps
their columns.  The entries below are transcribed from "TABLE 1-A, Inspection level - General Level II,
Sampling plan - Single Normal, Sample sizes and reject levels", a table published by the National Institute of
Building Sciences (http://www.nibs.org/FMOC/DPW_AC/AC-TABLE.ASC, page E-24) which states that it "is developed
from MIL-STD-105E using TABLE I Sample size code letters and TABLE II-A for single sampling plans".  It gives,
for lot sizes 2 to over 500 000 and AQL 0.65 to 15 (percent nonconforming), the code letter, the sample size and
the rejection number ``Re``, with arrows: "use first sampling plan below arrow" / "above arrow".  In single
sampling the acceptance number is ``Ac = Re - 1``.  The same page's "TABLE 1-B ... Single Tightened" (from
Table II-B) gives the tightened plans; only its rows A to L could be read (:func:`single_tightened_plan`).  Level
I/III, reduced inspection and the AQLs outside 0.65-15 are not in those tables and are not offered; the switching
rules are in :mod:`hengqi.supervision.switching`.  Confirm against ISO 2859-1:1999
Tables 1 and 2-A before relying on a plan.

>>> p = single_normal_plan(1000, "1.0")
>>> (p.code_letter, p.n, p.ac, p.re)
('J', 80, 2, 3)
>>> single_normal_plan(400, "0.65")  # the arrow points down: the plan of code letter J
SingleSamplingPlan(lot_size=400, aql='0.65', lot_code_letter='H', code_letter='J', n=80, ac=1, re=2)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from hengqi.errors import InputError

__all__ = ["AQLS", "LOT_RANGES", "SingleSamplingPlan", "single_normal_plan", "single_tightened_plan"]

#: AQL columns (percent nonconforming), as printed.
AQLS: Final = ("0.65", "1.0", "1.5", "2.5", "4.0", "6.5", "10", "15")

#: Table I, general inspection level II: (smallest lot, largest lot or None, code letter, sample size).
LOT_RANGES: Final = (
    (2, 8, "A", 2),
    (9, 15, "B", 3),
    (16, 25, "C", 5),
    (26, 50, "D", 8),
    (51, 90, "E", 13),
    (91, 150, "F", 20),
    (151, 280, "G", 32),
    (281, 500, "H", 50),
    (501, 1200, "J", 80),
    (1201, 3200, "K", 125),
    (3201, 10000, "L", 200),
    (10001, 35000, "M", 315),
    (35001, 150000, "N", 500),
    (150001, 500000, "P", 800),
    (500001, None, "Q", 1250),
)

#: Table II-A as transcribed, per code letter the cells of the AQL columns: a rejection number, "v" (an arrow
#: head pointing down), "^" (pointing up) or "|" (the shaft of an arrow; its head is above or below it).  The
#: cells are copied token by token from the secondary source's rows (its "\/", "/\", "||").
_ROWS: Final = {
    "A": "| | | | v 1 ^ v",
    "B": "| | | v 1 ^ v 2",
    "C": "| | v 1 ^ v 2 3",
    "D": "| v 1 ^ v 2 3 4",
    "E": "v 1 ^ v 2 3 4 6",
    "F": "1 ^ v 2 3 4 6 8",
    "G": "^ v 2 3 4 6 8 11",
    "H": "v 2 3 4 6 8 11 15",
    "J": "2 3 4 6 8 11 15 22",
    "K": "3 4 6 8 11 15 22 ^",
    "L": "4 6 8 11 15 22 ^ |",
    "M": "6 8 11 15 22 ^ | |",
    "N": "8 11 15 22 ^ | | |",
    "P": "11 15 22 ^ | | | |",
    "Q": "15 22 ^ | | | | |",
}
_LETTERS: Final = tuple(r[2] for r in LOT_RANGES)
_SIZES: Final = {r[2]: r[3] for r in LOT_RANGES}
_CELLS: Final = {letter: row.split() for letter, row in _ROWS.items()}

#: Table II-B (tightened) as transcribed in "TABLE 1-B, ... SAMPLING PLAN - Single Tightened" of the same source,
#: rows A to L only (the excerpt that could be read ends inside row L; its last cell, cut to "|", is read as the
#: shaft "||" of the up arrow above it).  The source heads this table "General Level III", but its lot sizes,
#: code letters and sample sizes are those of general level II (2 to 8: A, 2; 501 to 1 200: J, 80), the same as
#: TABLE 1-A's; the first 8 tokens of each row are used, as for TABLE 1-A.  Row G is printed "51 to 280" there.
_TIGHTENED_ROWS: Final = {
    "A": "| | | | | v | |",
    "B": "| | | | v 1 | v",
    "C": "| | | v 1 | v 2",
    "D": "| | v 1 | v 2 3",
    "E": "| v 1 | v 2 3 4",
    "F": "v 1 | v 2 3 4 6",
    "G": "1 | v 2 3 4 6 9",
    "H": "| v 2 3 4 6 9 13",
    "J": "v 2 3 4 6 9 13 19",
    "K": "2 3 4 6 9 13 19 ^",
    "L": "3 4 6 9 13 19 ^ |",
}
_TIGHTENED_CELLS: Final = {letter: row.split() for letter, row in _TIGHTENED_ROWS.items()}


@dataclass(frozen=True, slots=True)
class SingleSamplingPlan:
    """A single sampling plan: inspect ``n``; accept the lot with at most ``ac`` nonconforming items, reject it
    with ``re`` or more.  ``lot_code_letter`` is the lot's letter in Table I; ``code_letter`` the letter whose
    plan is used (another one where the table's arrow points to it)."""

    lot_size: int
    aql: str
    lot_code_letter: str
    code_letter: str
    n: int
    ac: int
    re: int


def _direction(column: int, row: int, cells: dict[str, list[str]]) -> int:
    """+1 (down) or -1 (up) for an arrow cell, following its shaft to its head."""
    letters = _LETTERS[: len(cells)]
    cell = cells[letters[row]][column]
    if cell == "v":
        return 1
    if cell == "^":
        return -1
    for step in (1, -1):  # the head lies below a down arrow's shaft, above an up arrow's
        r = row + step
        while 0 <= r < len(letters) and cells[letters[r]][column] == "|":
            r += step
        if 0 <= r < len(letters) and cells[letters[r]][column] == ("v" if step == 1 else "^"):
            return step
    raise InputError("table", f"arrow without a head at {letters[row]}, AQL {AQLS[column]}")  # pragma: no cover


def _plan(lot_size: int, aql: str, cells: dict[str, list[str]]) -> SingleSamplingPlan:
    if lot_size < 2:
        raise InputError("lot_size", f"the table starts at lots of 2, got {lot_size}")
    if aql not in AQLS:
        raise InputError("aql", f"use one of {', '.join(AQLS)} (percent nonconforming), got {aql!r}")
    row = next(i for i, (lo, hi, _, _) in enumerate(LOT_RANGES) if lo <= lot_size and (hi is None or lot_size <= hi))
    letters = _LETTERS[: len(cells)]
    if row >= len(letters):
        raise InputError("lot_size", f"the rows of this table beyond code letter {letters[-1]} were not read")
    column = AQLS.index(aql)
    r = row
    if not cells[letters[r]][column].isdigit():
        step = _direction(column, r, cells)
        r += step
        while 0 <= r < len(letters) and not cells[letters[r]][column].isdigit():
            r += step
        if not 0 <= r < len(letters):
            raise InputError("aql", f"the table's arrow at code letter {letters[row]}, AQL {aql} points to no plan")
    re = int(cells[letters[r]][column])
    return SingleSamplingPlan(lot_size, aql, letters[row], letters[r], _SIZES[letters[r]], re - 1, re)


def single_normal_plan(lot_size: int, aql: str) -> SingleSamplingPlan:
    """The single sampling plan, normal inspection, general inspection level II, for ``lot_size`` items and
    ``aql`` (one of :data:`AQLS`, percent nonconforming), following the table's arrows (MIL-STD-105E Tables I
    and II-A as transcribed by a secondary source, see the module's docstring)."""
    return _plan(lot_size, aql, _CELLS)


def single_tightened_plan(lot_size: int, aql: str) -> SingleSamplingPlan:
    """The single sampling plan, tightened inspection, code letters of general inspection level II, for lots of
    2 to 10 000 items (code letters A to L) and ``aql`` (one of :data:`AQLS`), following the table's arrows:
    MIL-STD-105E Tables I and II-B as transcribed in "TABLE 1-B ... Single Tightened" of the same secondary
    source as the normal plans (see the module's docstring).  Lots over 10 000 are refused: the rows M to Q of
    that table could not be read.

    >>> p = single_tightened_plan(1000, "1.0")
    >>> (p.code_letter, p.n, p.ac, p.re)
    ('J', 80, 1, 2)
    """
    return _plan(lot_size, aql, _TIGHTENED_CELLS)
