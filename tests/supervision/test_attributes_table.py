"""Single sampling plans, normal inspection, level II (MIL-STD-105E Tables I and II-A, the counterpart of
ISO 2859-1), against entries of the published tables (a secondary transcription; see the module's docstring)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hengqi.errors import InputError
from hengqi.supervision.attributes_table import (
    AQLS,
    LOT_RANGES,
    REDUCED_SIZES,
    single_normal_plan,
    single_reduced_plan,
    single_tightened_plan,
)

#: AQLSchemes 1.7-2 (CRAN, John Lawson), R/AAZ14Single.R: MIL-STD-105E / ANSI/ASQ Z1.4 Tables II-A, II-B and II-C
#: with arrows followed, extracted mechanically from the R source (see the file's "source")
AQLSCHEMES = json.loads((Path(__file__).parent.parent / "reference" / "aqlschemes_z14_single.json").read_text())

# (lot size, AQL) -> (lot's code letter, plan's code letter, n, Ac, Re), read off "TABLE 1-A, General Level II,
# Single Normal" (nibs.org/FMOC/DPW_AC/AC-TABLE.ASC, developed from MIL-STD-105E Tables I and II-A)
PUBLISHED = [
    (1000, "1.0", ("J", "J", 80, 2, 3)),
    (1000, "0.65", ("J", "J", 80, 1, 2)),
    (1000, "15", ("J", "J", 80, 21, 22)),
    (2000, "2.5", ("K", "K", 125, 7, 8)),
    (5000, "4.0", ("L", "L", 200, 14, 15)),
    (20000, "1.5", ("M", "M", 315, 10, 11)),
    (100000, "0.65", ("N", "N", 500, 7, 8)),
    (300000, "1.0", ("P", "P", 800, 14, 15)),
    (1000000, "1.0", ("Q", "Q", 1250, 21, 22)),
    (400, "6.5", ("H", "H", 50, 7, 8)),
    (200, "10", ("G", "G", 32, 7, 8)),
    (100, "0.65", ("F", "F", 20, 0, 1)),
    (60, "1.0", ("E", "E", 13, 0, 1)),
    (5, "6.5", ("A", "A", 2, 0, 1)),
    # arrows: "use first sampling plan below / above arrow"
    (400, "0.65", ("H", "J", 80, 1, 2)),  # H: down to J
    (200, "0.65", ("G", "F", 20, 0, 1)),  # G: up to F
    (200, "1.0", ("G", "H", 50, 1, 2)),  # G: down to H
    (5, "0.65", ("A", "F", 20, 0, 1)),  # A..D shafts, head at E: down to F
]


@pytest.mark.parametrize(("lot", "aql", "expected"), PUBLISHED)
def test_published_entries(lot: int, aql: str, expected: tuple[str, str, int, int, int]) -> None:
    p = single_normal_plan(lot, aql)
    assert (p.lot_code_letter, p.code_letter, p.n, p.ac, p.re) == expected


def test_level_ii_sample_sizes_of_the_field_reference() -> None:
    # /work/shared/reference/field.md: ISO 2859-1, level II: lot 501-1,200 -> n = 80; 1,201-3,200 -> n = 125
    assert {single_normal_plan(lot, "1.0").n for lot in (501, 800, 1200)} == {80}
    assert {single_normal_plan(lot, "1.0").n for lot in (1201, 3200)} == {125}


def test_every_cell_resolves_to_the_series_of_table_ii_a() -> None:
    # MIL-STD-105E Table II-A (scribd.com/document/563507790, second transcription): the (Ac, Re) pairs of a row
    # run through 0 1, 1 2, 2 3, 3 4, 5 6, 7 8, 10 11, 14 15, 21 22; a plan's Re is one of them and grows with
    # the AQL for a given sample size
    series = [1, 2, 3, 4, 6, 8, 11, 15, 22]
    for lo, _hi, _letter, _n in LOT_RANGES:
        plans = [single_normal_plan(lo, a) for a in AQLS if (lo, a) != (2, "10")]  # A, 10: no plan (below)
        for p in plans:
            assert p.re in series
            assert p.ac == p.re - 1
        same_n = [p.re for p in plans if p.n == plans[-1].n]
        assert same_n == sorted(same_n)
        assert all(p.n <= 1250 for p in plans)


def test_an_up_arrow_in_the_first_row_is_not_in_the_table() -> None:
    # A, AQL 10 is an up arrow with no plan above it in the transcribed columns; the real table continues
    # upward only through the code letters, so this lookup must not invent one
    with pytest.raises(InputError, match="points to no plan"):
        single_normal_plan(5, "10")
    p = single_normal_plan(12, "10")  # B, AQL 10 points down to C
    assert (p.code_letter, p.n, p.ac, p.re) == ("C", 5, 1, 2)


@pytest.mark.parametrize(("lot", "aql"), [(1, "1.0"), (100, "0.4"), (100, "1"), (100, "25")])
def test_outside_the_table(lot: int, aql: str) -> None:
    with pytest.raises(InputError):
        single_normal_plan(lot, aql)


# (lot size, AQL) -> (lot's code letter, plan's code letter, n, Ac, Re), read off "TABLE 1-B, SAMPLING PLAN -
# Single Tightened" of the same source (MIL-STD-105E Tables I and II-B; rows A to L only could be read)
PUBLISHED_TIGHTENED = [
    (1000, "1.0", ("J", "J", 80, 1, 2)),
    (1000, "15", ("J", "J", 80, 18, 19)),
    (2000, "2.5", ("K", "K", 125, 5, 6)),
    (5000, "4.0", ("L", "L", 200, 12, 13)),
    (5000, "0.65", ("L", "L", 200, 2, 3)),
    (400, "6.5", ("H", "H", 50, 5, 6)),
    (200, "15", ("G", "G", 32, 8, 9)),
    (100, "4.0", ("F", "F", 20, 1, 2)),
    (100, "2.5", ("F", "G", 32, 1, 2)),  # F, 2.5: down to G
    (100, "1.0", ("F", "F", 20, 0, 1)),
    # arrows
    (2000, "15", ("K", "J", 80, 18, 19)),  # K, 15: up to J
    (5000, "15", ("L", "J", 80, 18, 19)),  # L, 15: the shaft under K's up arrow
    (100, "0.65", ("F", "G", 32, 0, 1)),  # F: down to G
    (400, "0.65", ("H", "K", 125, 1, 2)),  # H shaft, J head: down to K
    (60, "1.0", ("E", "F", 20, 0, 1)),  # E: down to F
]


@pytest.mark.parametrize(("lot", "aql", "expected"), PUBLISHED_TIGHTENED)
def test_published_tightened_entries(lot: int, aql: str, expected: tuple[str, str, int, int, int]) -> None:
    p = single_tightened_plan(lot, aql)
    assert (p.lot_code_letter, p.code_letter, p.n, p.ac, p.re) == expected


def test_tightened_is_never_more_lenient_than_normal() -> None:
    # two transcriptions checked against each other: for every lot-size row A..L and AQL, the tightened plan
    # inspects at least as many items and accepts with at most as many nonconforming as the normal plan; every
    # lookup resolves to one of the rejection numbers printed in rows A..L of TABLE 1-B, with Ac = Re - 1
    series = {1, 2, 3, 4, 6, 9, 13, 19}
    for lo, _hi, _letter, _n in LOT_RANGES[:11]:
        for aql in AQLS:
            t = single_tightened_plan(lo, aql)
            assert t.re in series
            assert t.ac == t.re - 1
            if (lo, aql) != (2, "10"):  # A, 10 has no normal plan in the transcription
                m = single_normal_plan(lo, aql)
                assert t.n >= m.n
                assert t.ac <= m.ac


def test_tightened_rows_m_to_q_come_from_the_second_source() -> None:
    assert single_tightened_plan(10000, "1.0").code_letter == "L"
    assert single_tightened_plan(10001, "1.0").code_letter == "M"
    with pytest.raises(InputError):
        single_tightened_plan(1, "1.0")


# (lot size, AQL) -> (lot's code letter, plan's code letter, n, Ac, Re): AQLSchemes 1.7-2, Table II-B rows M..Q
PUBLISHED_TIGHTENED_M_Q = [
    (20000, "0.65", ("M", "M", 315, 3, 4)),
    (20000, "1.0", ("M", "M", 315, 5, 6)),
    (20000, "4.0", ("M", "M", 315, 18, 19)),
    (20000, "6.5", ("M", "L", 200, 18, 19)),  # up arrow
    (100000, "1.0", ("N", "N", 500, 8, 9)),
    (100000, "2.5", ("N", "N", 500, 18, 19)),
    (100000, "4.0", ("N", "M", 315, 18, 19)),
    (300000, "0.65", ("P", "P", 800, 8, 9)),
    (300000, "1.5", ("P", "P", 800, 18, 19)),
    (1000000, "0.65", ("Q", "Q", 1250, 12, 13)),
    (1000000, "1.0", ("Q", "Q", 1250, 18, 19)),
    (1000000, "15", ("Q", "J", 80, 18, 19)),
]


@pytest.mark.parametrize(("lot", "aql", "expected"), PUBLISHED_TIGHTENED_M_Q)
def test_published_tightened_entries_m_to_q(lot: int, aql: str, expected: tuple[str, str, int, int, int]) -> None:
    p = single_tightened_plan(lot, aql)
    assert (p.lot_code_letter, p.code_letter, p.n, p.ac, p.re) == expected


# (lot size, AQL) -> (lot's code letter, plan's code letter, n, Ac, Re): AQLSchemes 1.7-2, Table II-C
PUBLISHED_REDUCED = [
    (1000, "1.0", ("J", "J", 32, 1, 3)),
    (1000, "0.65", ("J", "J", 32, 0, 2)),
    (1000, "6.5", ("J", "J", 32, 5, 8)),
    (1000, "15", ("J", "J", 32, 10, 13)),
    (2000, "2.5", ("K", "K", 50, 3, 6)),
    (5000, "4.0", ("L", "L", 80, 7, 10)),
    (20000, "1.5", ("M", "M", 125, 5, 8)),
    (100000, "0.65", ("N", "N", 200, 3, 6)),
    (300000, "1.0", ("P", "P", 315, 7, 10)),
    (1000000, "1.0", ("Q", "Q", 500, 10, 13)),
    (400, "10", ("H", "H", 20, 5, 8)),
    (5, "6.5", ("A", "A", 2, 0, 1)),
    (5, "10", ("A", "A", 2, 0, 2)),
    # arrows
    (400, "0.65", ("H", "J", 32, 0, 2)),  # down to J
    (2000, "15", ("K", "J", 32, 10, 13)),  # up to J
    (20, "4.0", ("C", "C", 2, 0, 1)),  # n = 2 is the lot's own
    (40, "4.0", ("D", "E", 5, 0, 2)),  # down to E
    (1000000, "4.0", ("Q", "M", 125, 10, 13)),  # up to M
]


@pytest.mark.parametrize(("lot", "aql", "expected"), PUBLISHED_REDUCED)
def test_published_reduced_entries(lot: int, aql: str, expected: tuple[str, str, int, int, int]) -> None:
    p = single_reduced_plan(lot, aql)
    assert (p.lot_code_letter, p.code_letter, p.n, p.ac, p.re) == expected


def _scheme(table: str, letter: str, aql: str) -> tuple[int, int, int]:
    n, ac, re = AQLSCHEMES[table][letter][AQLSCHEMES["aql"].index(aql)]
    return n, ac, re


def test_second_source_agrees_with_the_first_for_normal_and_tightened_a_to_l() -> None:
    # two transcriptions of MIL-STD-105E compared cell by cell: NIBS (Table II-A all rows, Table II-B rows A..L)
    # against AQLSchemes; the one difference is code letter A at AQL 10 (an up arrow with no plan above it in
    # Table II-A: AQLSchemes takes code letter C's plan, hengqi refuses)
    checked = 0
    for lo, _hi, letter, _n in LOT_RANGES:
        for aql in AQLS:
            if (letter, aql) != ("A", "10"):
                p = single_normal_plan(lo, aql)
                assert (p.n, p.ac, p.re) == _scheme("normal", letter, aql), (letter, aql)
                checked += 1
            if letter <= "L":
                t = single_tightened_plan(lo, aql)
                assert (t.n, t.ac, t.re) == _scheme("tightened", letter, aql), (letter, aql)
                checked += 1
    assert checked == 15 * 8 - 1 + 11 * 8
    assert _scheme("normal", "A", "10") == (5, 1, 2)


def test_tightened_m_to_q_and_reduced_are_the_reference_file_cell_by_cell() -> None:
    for lo, _hi, letter, _n in LOT_RANGES:
        for aql in AQLS:
            r = single_reduced_plan(lo, aql)
            assert (r.n, r.ac, r.re) == _scheme("reduced", letter, aql)
            assert REDUCED_SIZES[r.code_letter] == r.n
            if letter >= "M":
                t = single_tightened_plan(lo, aql)
                assert (t.n, t.ac, t.re) == _scheme("tightened", letter, aql)


def test_reduced_inspects_fewer_and_keeps_the_gap_series() -> None:
    # Table II-C's (Ac, Re) pairs: 0 1, 0 2, 1 3, 1 4, 2 5, 3 6, 5 8, 7 10, 10 13 (AQL 0.65-15)
    pairs = {(0, 1), (0, 2), (1, 3), (1, 4), (2, 5), (3, 6), (5, 8), (7, 10), (10, 13)}
    for lo, _hi, _letter, _n in LOT_RANGES:
        for aql in AQLS:
            r = single_reduced_plan(lo, aql)
            assert (r.ac, r.re) in pairs
            if (lo, aql) != (2, "10"):
                assert r.n <= single_normal_plan(lo, aql).n
