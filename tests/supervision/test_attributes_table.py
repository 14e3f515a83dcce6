"""Single sampling plans, normal inspection, level II (MIL-STD-105E Tables I and II-A, the counterpart of
ISO 2859-1), against entries of the published tables (a secondary transcription; see the module's docstring)."""

from __future__ import annotations

import pytest

from hengqi.errors import InputError
from hengqi.supervision.attributes_table import AQLS, LOT_RANGES, single_normal_plan, single_tightened_plan

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


def test_tightened_rows_beyond_l_were_not_read() -> None:
    assert single_tightened_plan(10000, "1.0").code_letter == "L"
    with pytest.raises(InputError, match="beyond code letter L were not read"):
        single_tightened_plan(10001, "1.0")
    with pytest.raises(InputError):
        single_tightened_plan(1, "1.0")
