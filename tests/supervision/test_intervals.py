"""The staircase (ILAC-G24 / OIML D 10 Method 1, secondary quotation) for instruments and populations."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from hengqi.errors import InputError
from hengqi.supervision.intervals import (
    Finding,
    PopulationSchedule,
    StaircaseRule,
    classify,
    due_in_month,
    next_interval,
    population_finding,
    run_staircase,
)

RULE = StaircaseRule(margin=Decimal("0.8"), extend=Decimal("1.5"), reduce=Decimal("0.5"), min_days=90, max_days=1095)


def test_classify_boundaries_exactly() -> None:
    mpe = Decimal("2.5")
    assert classify(Decimal("2.0"), mpe, RULE) is Finding.WITHIN_MARGIN  # exactly 0.8 x MPE
    assert classify(Decimal("-2.0"), mpe, RULE) is Finding.WITHIN_MARGIN
    assert classify(Decimal("2.0000001"), mpe, RULE) is Finding.WITHIN_MPE
    assert classify(Decimal("2.5"), mpe, RULE) is Finding.WITHIN_MPE  # exactly the MPE
    assert classify(Decimal("2.5000001"), mpe, RULE) is Finding.OUTSIDE_MPE


def test_steps_and_bounds() -> None:
    assert next_interval(365, Finding.WITHIN_MARGIN, RULE).days == 547  # floor(547.5)
    assert next_interval(365, Finding.WITHIN_MPE, RULE).days == 365
    assert next_interval(365, Finding.OUTSIDE_MPE, RULE).days == 182  # floor(182.5)
    top = next_interval(800, Finding.WITHIN_MARGIN, RULE)
    assert top.days == 1095
    assert "held at the bound 1095 d" in top.reason
    assert next_interval(100, Finding.OUTSIDE_MPE, RULE).days == 90


def test_a_population_that_keeps_passing_lengthens_and_one_that_fails_shortens() -> None:
    passing = run_staircase(365, [Finding.WITHIN_MARGIN] * 5, RULE)
    assert [s.days for s in passing] == [547, 820, 1095, 1095, 1095]
    failing = run_staircase(365, [Finding.OUTSIDE_MPE] * 3, RULE)
    assert [s.days for s in failing] == [182, 91, 90]


def test_population_finding() -> None:
    assert population_finding(False, Decimal("0.1"), RULE) is Finding.OUTSIDE_MPE
    assert population_finding(True, Decimal("0.8"), RULE) is Finding.WITHIN_MARGIN
    assert population_finding(True, Decimal("0.81"), RULE) is Finding.WITHIN_MPE
    with pytest.raises(InputError):
        population_finding(True, Decimal(-1), RULE)


def test_due_in_month() -> None:
    schedules = [
        PopulationSchedule("A / 0-2 / 31", 365, date(2025, 12, 31)),  # due 2026-12-31
        PopulationSchedule("B / 5-10 / 32", 180, date(2026, 7, 1)),  # due 2026-12-28
        PopulationSchedule("C / 2-5 / 31", 365, date(2026, 1, 2)),  # due 2027-01-02: not in December
        PopulationSchedule("D / 10+ / 33", 365, None),
    ]
    assert due_in_month(schedules, 2026, 12) == (
        ("D / 10+ / 33", None),
        ("B / 5-10 / 32", date(2026, 12, 28)),
        ("A / 0-2 / 31", date(2026, 12, 31)),
    )
    with pytest.raises(InputError):
        due_in_month(schedules, 2026, 13)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"margin": Decimal(0)}, "margin"),
        ({"margin": Decimal("1.1")}, "margin"),
        ({"extend": Decimal(1)}, "extend"),
        ({"reduce": Decimal(1)}, "reduce"),
        ({"reduce": Decimal(0)}, "reduce"),
        ({"min_days": 0}, "min_days"),
        ({"min_days": 400, "max_days": 300}, "min_days"),
        ({"margin": Decimal("NaN")}, "margin"),
        ({"extend": 1.5}, "extend"),
        ({"extend": Decimal("1e999999")}, "extend"),
        ({"reduce": Decimal("1e-999999")}, "reduce"),
        ({"max_days": 10**30}, "min_days"),
    ],
)
def test_bad_rules(kwargs: dict[str, object], field: str) -> None:
    base: dict[str, object] = {
        "margin": Decimal("0.8"), "extend": Decimal("1.5"), "reduce": Decimal("0.5"), "min_days": 90, "max_days": 1095,
    }  # fmt: skip
    with pytest.raises(InputError) as err:
        StaircaseRule(**(base | kwargs))  # type: ignore[arg-type]
    assert err.value.path == field


def test_bad_steps() -> None:
    with pytest.raises(InputError):
        next_interval(0, Finding.WITHIN_MPE, RULE)
    with pytest.raises(InputError, match=r"findings\[1\]"):
        run_staircase(365, [Finding.WITHIN_MPE, "x"], RULE)  # type: ignore[list-item]
    with pytest.raises(InputError):
        classify(Decimal(1), Decimal(0), RULE)
