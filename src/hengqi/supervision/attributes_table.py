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
Table II-B) gives the tightened plans; only its rows A to L could be read (:func:`single_tightened_plan`).

Rows M to Q of Table II-B and the reduced plans of Table II-C (:func:`single_reduced_plan`) come from a second
SECONDARY SOURCE: the CRAN package AQLSchemes 1.7-2 (John Lawson, 2023; file ``R/AAZ14Single.R``, mirrored at
github.com/cran/AQLSchemes), whose tables of MIL-STD-105E / ANSI/ASQ Z1.4 single sampling give, per code letter
and AQL, the plan ``n, Ac, Re`` with the arrows already followed.  These are MIL-STD-105E numbers, not
ISO 2859-1:1999's: an unattributed transcription said to be of ISO 2859-1 prints reduced plans with
``Re = Ac + 1``, unlike Table II-C, whose reduced plans have a gap between ``Ac`` and ``Re`` (a lot ending in the
gap is accepted and normal inspection is reinstated, :mod:`hengqi.supervision.switching`).  The package agrees
with the NIBS transcription in every cell of Table II-A (AQL 0.65-15) and of Table II-B rows A-L, except code
letter A at AQL 10, where Table II-A prints an up arrow with no plan above it: the package takes the plan of
code letter C there, hengqi refuses (``tests/supervision/test_attributes_table.py`` compares them cell by cell).
Level I/III and the AQLs outside 0.65-15 are not offered; the switching rules are in
:mod:`hengqi.supervision.switching`.  Confirm against ISO 2859-1:1999 Tables 1, 2-A, 2-B and 2-C before relying
on a plan.

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

__all__ = [
    "AQLS",
    "LOT_RANGES",
    "REDUCED_SIZES",
    "SingleSamplingPlan",
    "single_normal_plan",
    "single_reduced_plan",
    "single_tightened_plan",
]

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

#: Table II-B rows M to Q, arrows followed: per AQL column ``n/Ac/Re`` (AQLSchemes 1.7-2, ``R/AAZ14Single.R``,
#: matrices ``ANSASQSingleTightenedss``, ``ANSIASQSingleTightenedac`` and ``...re``; see the module's docstring).
_TIGHTENED_RESOLVED: Final = {
    "M": "315/3/4 315/5/6 315/8/9 315/12/13 315/18/19 200/18/19 125/18/19 80/18/19",
    "N": "500/5/6 500/8/9 500/12/13 500/18/19 315/18/19 200/18/19 125/18/19 80/18/19",
    "P": "800/8/9 800/12/13 800/18/19 500/18/19 315/18/19 200/18/19 125/18/19 80/18/19",
    "Q": "1250/12/13 1250/18/19 800/18/19 500/18/19 315/18/19 200/18/19 125/18/19 80/18/19",
}

#: Table II-C (reduced), rows A to Q, arrows followed: per AQL column ``n/Ac/Re`` (AQLSchemes 1.7-2, matrices
#: ``ANSIASQSingleReducedss``, ``ANSIASQSingleReducedac`` and ``...re``).  ``Re`` may exceed ``Ac + 1``.
_REDUCED_RESOLVED: Final = {
    "A": "8/0/1 5/0/1 3/0/1 2/0/1 2/0/1 2/0/1 2/0/2 2/0/2",
    "B": "8/0/1 5/0/1 3/0/1 2/0/1 2/0/1 2/0/1 2/0/2 2/0/2",
    "C": "8/0/1 5/0/1 3/0/1 2/0/1 2/0/1 3/0/2 2/0/2 2/1/3",
    "D": "8/0/1 5/0/1 3/0/1 2/0/1 5/0/2 3/0/2 3/1/3 3/1/4",
    "E": "8/0/1 5/0/1 3/0/1 8/0/2 5/0/2 5/1/3 5/1/4 5/2/5",
    "F": "8/0/1 5/0/1 13/0/2 8/0/2 8/1/3 8/1/4 8/2/5 8/3/6",
    "G": "8/0/1 20/0/2 13/0/2 13/1/3 13/1/4 13/2/5 13/3/6 13/5/8",
    "H": "32/0/2 20/0/2 20/1/3 20/1/4 20/2/5 20/3/6 20/5/8 20/7/10",
    "J": "32/0/2 32/1/3 32/1/4 32/2/5 32/3/6 32/5/8 32/7/10 32/10/13",
    "K": "50/1/3 50/1/4 50/2/5 50/3/6 50/5/8 50/7/10 50/10/13 32/10/13",
    "L": "80/1/4 80/2/5 80/3/6 80/5/8 80/7/10 80/10/13 50/10/13 32/10/13",
    "M": "125/2/5 125/3/6 125/5/8 125/7/10 125/10/13 80/10/13 50/10/13 32/10/13",
    "N": "200/3/6 200/5/8 200/7/10 200/10/13 125/10/13 80/10/13 50/10/13 32/10/13",
    "P": "315/5/8 315/7/10 315/10/13 200/10/13 125/10/13 80/10/13 50/10/13 32/10/13",
    "Q": "500/7/10 500/10/13 315/10/13 200/10/13 125/10/13 80/10/13 50/10/13 32/10/13",
}

#: Table II-C sample sizes by code letter (the reduced plans of code letters A, B and C all inspect 2; R, 800,
#: is reached only by an arrow).
REDUCED_SIZES: Final = {
    "A": 2, "B": 2, "C": 2, "D": 3, "E": 5, "F": 8, "G": 13, "H": 20,
    "J": 32, "K": 50, "L": 80, "M": 125, "N": 200, "P": 315, "Q": 500, "R": 800,
}  # fmt: skip
_ALL_LETTERS: Final = (*_LETTERS, "R")


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


def _row(lot_size: int, aql: str) -> int:
    if lot_size < 2:
        raise InputError("lot_size", f"the table starts at lots of 2, got {lot_size}")
    if aql not in AQLS:
        raise InputError("aql", f"use one of {', '.join(AQLS)} (percent nonconforming), got {aql!r}")
    return next(i for i, (lo, hi, _, _) in enumerate(LOT_RANGES) if lo <= lot_size and (hi is None or lot_size <= hi))


def _resolved(lot_size: int, aql: str, row: int, table: dict[str, str], sizes: dict[str, int]) -> SingleSamplingPlan:
    """The plan of a table whose arrows the source already followed; the plan's code letter is the nearest one
    in the arrow's direction (towards larger or smaller samples) whose sample size is the plan's."""
    lot_letter = _LETTERS[row]
    n, ac, re = (int(x) for x in table[lot_letter].split()[AQLS.index(aql)].split("/"))
    i = _ALL_LETTERS.index(lot_letter)
    step = 0 if n == sizes[lot_letter] else (1 if n > sizes[lot_letter] else -1)
    while step and sizes[_ALL_LETTERS[i]] != n:
        i += step
    return SingleSamplingPlan(lot_size, aql, lot_letter, _ALL_LETTERS[i], n, ac, re)


def _plan(lot_size: int, aql: str, cells: dict[str, list[str]]) -> SingleSamplingPlan:
    row = _row(lot_size, aql)
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
    """The single sampling plan, tightened inspection, code letters of general inspection level II, for
    ``lot_size`` items and ``aql`` (one of :data:`AQLS`), following the table's arrows: MIL-STD-105E Tables I and
    II-B, rows A to L (lots up to 10 000) as transcribed in "TABLE 1-B ... Single Tightened" of the same
    secondary source as the normal plans, rows M to Q (larger lots) from AQLSchemes 1.7-2 (see the module's
    docstring).

    >>> p = single_tightened_plan(1000, "1.0")
    >>> (p.code_letter, p.n, p.ac, p.re)
    ('J', 80, 1, 2)
    >>> p = single_tightened_plan(20000, "1.0")
    >>> (p.code_letter, p.n, p.ac, p.re)
    ('M', 315, 5, 6)
    """
    row = _row(lot_size, aql)
    if _LETTERS[row] in _TIGHTENED_RESOLVED:
        return _resolved(lot_size, aql, row, _TIGHTENED_RESOLVED, _SIZES | {"R": 2000})
    return _plan(lot_size, aql, _TIGHTENED_CELLS)


def single_reduced_plan(lot_size: int, aql: str) -> SingleSamplingPlan:
    """The single sampling plan, reduced inspection, code letters of general inspection level II: MIL-STD-105E
    Tables I and II-C as tabulated in AQLSchemes 1.7-2 (SECONDARY, see the module's docstring), arrows followed.
    Accept with at most ``ac`` nonconforming, reject with ``re`` or more; a count between them accepts the lot
    and reinstates normal inspection (MIL-STD-105E 4.10.1.4, ANSI/ASQ Z1.4 8.3.4 b).  Not ISO 2859-1:1999's
    reduced plans.

    >>> p = single_reduced_plan(1000, "1.0")
    >>> (p.code_letter, p.n, p.ac, p.re)
    ('J', 32, 1, 3)
    """
    return _resolved(lot_size, aql, _row(lot_size, aql), _REDUCED_RESOLVED, REDUCED_SIZES)
