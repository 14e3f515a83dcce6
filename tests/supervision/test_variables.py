"""Variables plans, standard deviation method (ANSI/ASQ Z1.9 from MIL-STD-414, the counterpart of ISO 3951-1),
against published table entries (secondary transcriptions; see the module's docstring)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from hengqi.errors import InputError
from hengqi.supervision.variables import (
    AQLS,
    LOT_RANGES,
    estimated_percent_nonconforming,
    judge_lot,
    variables_plan,
)

# (lot size, AQL, inspection) -> (code letter, n, M %): AQLSchemes 1.7-2, R/AAZ19.R (Z1.9, s-method), level II
PUBLISHED = [
    (1000, "1.0", "normal", ("J", 35, "2.660")),
    (1000, "0.65", "normal", ("J", 35, "1.870")),
    (1000, "10", "normal", ("J", 35, "16.67")),
    (100, "2.5", "normal", ("F", 10, "7.260")),
    (40, "1.0", "normal", ("D", 5, "3.330")),
    (5, "10", "normal", ("B", 3, "33.69")),
    (200, "4.0", "normal", ("G", 15, "9.480")),
    (300, "1.5", "normal", ("H", 20, "4.100")),
    (2000, "0.10", "normal", ("K", 50, "0.355")),
    (5000, "6.5", "normal", ("L", 75, "10.58")),
    (20000, "0.40", "normal", ("M", 100, "1.020")),
    (100000, "2.5", "normal", ("N", 150, "4.420")),
    (1000000, "1.0", "normal", ("P", 200, "2.040")),
    (5, "0.10", "normal", ("B", 7, "0.005")),  # arrow: n = 7
    (1000, "1.0", "tightened", ("J", 35, "1.870")),
    (100, "2.5", "tightened", ("F", 10, "4.720")),
    (1000, "1.0", "reduced", ("J", 15, "4.320")),
    (5000, "2.5", "reduced", ("L", 25, "8.650")),
    (20000, "10", "reduced", ("M", 30, "23.61")),
    (5, "0.10", "reduced", ("B", 7, "0.087")),
]


@pytest.mark.parametrize(("lot", "aql", "inspection", "expected"), PUBLISHED)
def test_published_entries(lot: int, aql: str, inspection: str, expected: tuple[str, int, str]) -> None:
    p = variables_plan(lot, aql, inspection=inspection)
    assert (p.code_letter, p.n, str(p.m_percent)) == expected


#: MIL-STD-414 Table B-1 (standard deviation method, single limit, normal inspection): k for code letters B to I,
#: where the sample sizes (3, 4, 5, 7, 10, 15, 20, 25) are those of Z1.9.  From a transcription said to be checked
#: against a scan of Table B-1 (unattributed, found through a code search index): a cross-check of the derived k,
#: not a source of it.
K_MIL_STD_414 = {
    "B": {"2.5": "1.12", "4.0": "0.958", "6.5": "0.765", "10": "0.566"},
    "C": {"1.0": "1.45", "1.5": "1.34", "2.5": "1.17", "4.0": "1.01", "6.5": "0.814", "10": "0.617"},
    "D": {"0.65": "1.65", "1.0": "1.53", "1.5": "1.40", "2.5": "1.24", "4.0": "1.07", "6.5": "0.874", "10": "0.675"},
    "E": {"0.65": "1.75", "1.0": "1.62", "1.5": "1.50", "2.5": "1.33", "4.0": "1.15", "6.5": "0.955", "10": "0.755"},
    "F": {"0.65": "1.84", "1.0": "1.72", "1.5": "1.58", "2.5": "1.41", "4.0": "1.23", "6.5": "1.03", "10": "0.828"},
    "G": {"0.65": "1.91", "1.0": "1.79", "1.5": "1.65", "2.5": "1.47", "4.0": "1.30", "6.5": "1.09", "10": "0.886"},
    "H": {"0.65": "1.96", "1.0": "1.82", "1.5": "1.69", "2.5": "1.51", "4.0": "1.33", "6.5": "1.12", "10": "0.917"},
    "I": {"0.65": "1.98", "1.0": "1.85", "1.5": "1.72", "2.5": "1.53", "4.0": "1.35", "6.5": "1.14", "10": "0.936"},
}


def test_derived_k_agrees_with_mil_std_414_table_b1() -> None:
    # tolerance 0.01: Z1.9's M values were converted from MIL-STD-414 (Gascoigne), and printed to 3 or 4 digits;
    # the largest difference seen is 0.0085 (G, AQL 0.65: derived 1.9185, printed 1.91); 45 of the 52 are within
    # 0.005
    diffs = []
    for letter, row in K_MIL_STD_414.items():
        for aql, printed in row.items():
            p = variables_plan(None, aql, code_letter=letter)
            diffs.append(abs(Decimal(p.k) - Decimal(printed)))
    assert len(diffs) == 52
    assert max(diffs) < Decimal("0.01")
    assert sum(d <= Decimal("0.005") for d in diffs) == 45


def test_tightened_reads_the_normal_table_one_column_to_the_left() -> None:
    for aql_normal, aql_tightened in itertools.pairwise(AQLS):
        for letter in "BCDEFGHIJKLMNP":
            n = variables_plan(None, aql_normal, code_letter=letter)
            t = variables_plan(None, aql_tightened, code_letter=letter, inspection="tightened")
            assert (n.n, n.m_percent) == (t.n, t.m_percent)
            assert t.k >= variables_plan(None, aql_tightened, code_letter=letter).k


def test_code_letters_and_the_disputed_band() -> None:
    assert variables_plan(400, "1.0").code_letter == "H"
    assert variables_plan(501, "1.0").code_letter == "J"
    assert variables_plan(10**7, "1.0").code_letter == "P"
    with pytest.raises(InputError, match="disagree on the code letter"):
        variables_plan(450, "1.0")
    assert variables_plan(450, "1.0", code_letter="i").code_letter == "I"
    assert [r[0] for r in LOT_RANGES][:3] == [2, 9, 16]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"lot_size": 1, "aql": "1.0"}, "lot_size"),
        ({"lot_size": 100, "aql": "1"}, "aql"),
        ({"lot_size": 100, "aql": "1.0", "inspection": "strict"}, "inspection"),
        ({"lot_size": None, "aql": "1.0"}, "lot_size"),
        ({"lot_size": None, "aql": "1.0", "code_letter": "A"}, "code_letter"),
    ],
)
def test_bad_plan_input(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as err:
        variables_plan(**kwargs)  # type: ignore[arg-type]
    assert err.value.path == field


def test_single_limit_boundary_is_accepted_exactly() -> None:
    p = variables_plan(100, "2.5")  # F, n = 10
    s = Decimal(2)
    k = p.k
    on = judge_lot(p, mean=Decimal(100) - k * s, sd=s, upper=100)  # (U - x̄)/s = k exactly
    assert on.accepted
    assert on.form == "k"
    assert on.q_upper == k
    below = judge_lot(p, mean=Decimal(100) - k * s + Decimal("1e-9"), sd=s, upper=100)
    assert not below.accepted
    lower = judge_lot(p, mean=Decimal(10) + k * s, sd=s, lower=10)
    assert lower.accepted
    assert lower.q_lower == k
    # at Q = k the estimated percent nonconforming is M (the two forms agree)
    assert on.p_upper_percent == pytest.approx(float(p.m_percent), rel=1e-3)


def test_values_are_turned_into_mean_and_sample_sd() -> None:
    p = variables_plan(40, "1.0")  # D, n = 5
    v = judge_lot(p, values=["9.8", "10.1", "10.0", "10.2", "9.9"], lower="9.0", upper="11.0")
    assert v.mean == Decimal("10")
    assert v.sd == Decimal("0.1581138830084189665999446772")
    assert v.form == "M"
    expected = 2 * estimated_percent_nonconforming(Decimal(1) / v.sd, 5)
    assert v.p_lower_percent + v.p_upper_percent == pytest.approx(expected)
    assert v.accepted  # Q = 6.3 on both sides: nothing estimated beyond the limits


def test_double_limit_rejects_a_wide_lot() -> None:
    p = variables_plan(40, "1.0")
    v = judge_lot(p, mean=10, sd="0.7", lower=9, upper=11)
    assert not v.accepted
    assert v.p_lower_percent + v.p_upper_percent > float(p.m_percent)


def test_a_mean_beyond_the_limit_estimates_more_than_half() -> None:
    assert estimated_percent_nonconforming(Decimal(-1), 10) > 50
    assert estimated_percent_nonconforming(Decimal(-100), 10) == 100
    assert estimated_percent_nonconforming(Decimal(100), 10) == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"mean": 1, "sd": 1}, "limits"),
        ({"mean": 1, "sd": 0, "upper": 2}, "sd"),
        ({"mean": 1, "upper": 2}, "mean"),
        ({"values": [1, 2], "upper": 3}, "values"),
        ({"values": [1, 2, 3, 4, "x"], "upper": 3}, "values[4]"),
        ({"values": [1, 2, 3, 4, 5], "mean": 1, "upper": 3}, "values"),
        ({"mean": 1, "sd": 1, "lower": 3, "upper": 2}, "lower"),
        ({"mean": "nan", "sd": 1, "upper": 2}, "mean"),
        ({"mean": "1e999999", "sd": "1e-999999", "upper": 1}, "mean"),
        ({"mean": 1, "sd": "1e-999999", "upper": 2}, "sd"),
        ({"values": [1, 2, 3, 4, "1e999999"], "upper": 3}, "values[4]"),
    ],
)
def test_bad_lot_input(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as err:
        judge_lot(variables_plan(40, "1.0"), **kwargs)  # type: ignore[arg-type]
    assert err.value.path == field
