"""A whole calibration: series selection, notes, options and errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from hengqi.errors import InputError
from hengqi.metrology.calibration import (
    BuoyancyMethod,
    CalibrationData,
    CurveModel,
    EccentricityTest,
    InstrumentSummary,
    InUseOptions,
    MinimumWeightMethod,
    ReferenceConditions,
    ReferenceWeight,
    RepeatabilitySeries,
    TestLoad,
    evaluate_calibration,
)

F1 = "F1"
D = Decimal


def _data(**changes: object) -> CalibrationData:
    base = CalibrationData(
        instrument=InstrumentSummary(max_kg=D("6"), d_kg=D("0.0001")),
        tests=(
            TestLoad(D("1"), (ReferenceWeight(D("1"), 1, F1),), (D("1.0000"),)),
            TestLoad(D("5"), (ReferenceWeight(D("5"), 1, F1),), (D("5.0002"),)),
        ),
        repeatability=(
            RepeatabilitySeries(D("1"), (D("1.0000"), D("1.0001"), D("1.0000"), D("1.0000"), D("1.0000"))),
            RepeatabilitySeries(D("5"), (D("5.0002"), D("5.0004"), D("5.0000"), D("5.0002"), D("5.0002"))),
        ),
        eccentricity=EccentricityTest(D("2"), ("centre", "front"), (D("2.0001"), D("2.0002"))),
        conditions=ReferenceConditions(),
        calibration_date=date(2026, 11, 25),
        in_use=InUseOptions(tolerance=0.01, usp41=True, safety_factor=2),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_each_point_uses_the_nearest_repeatability_series() -> None:
    result = evaluate_calibration(_data())
    s_small, s_large = (r.s_kg for r in result.repeatability)
    assert s_large > s_small
    low, high = result.points
    assert low.contribution("repeatability").u_kg == pytest.approx(s_small)  # type: ignore[union-attr]
    assert high.contribution("repeatability").u_kg == pytest.approx(s_large)  # type: ignore[union-attr]


def test_points_are_sorted_and_minimum_weights_computed() -> None:
    data = _data(tests=tuple(reversed(_data().tests)))
    result = evaluate_calibration(data)
    assert [p.load_kg for p in result.points] == [D("1"), D("5")]
    cg18 = result.minimum_weight("cg-18")
    assert cg18 is not None
    # USP <41>: repeatability from at least 10 weighings; both series have 5, so no USP minimum weight is stated
    assert result.minimum_weight(MinimumWeightMethod.USP41) is None
    assert any("at least 10 weighings" in note and "has 5" in note for note in result.notes)


def test_usp41_minimum_weight_needs_ten_weighings() -> None:
    ten = RepeatabilitySeries(D("5"), (D("5.0002"), D("5.0004"), D("5.0000"), D("5.0002"), D("5.0002")) * 2)
    result = evaluate_calibration(_data(repeatability=(_data().repeatability[0], ten)))
    usp = result.minimum_weight(MinimumWeightMethod.USP41)
    assert usp is not None
    assert usp.s_kg == pytest.approx(result.repeatability[1].s_kg)  # the series with 10 readings
    assert not any("USP <41>" in note for note in result.notes)


def test_buoyancy_none_is_noted_and_smaller() -> None:
    with_b = evaluate_calibration(_data())
    without = evaluate_calibration(_data(conditions=ReferenceConditions(BuoyancyMethod.NONE)))
    assert any("buoyancy" in note for note in without.notes)
    assert all(a.u_kg > b.u_kg for a, b in zip(with_b.points, without.points, strict=True))


def test_no_curve_means_no_in_use_and_no_cg18_minimum_weight() -> None:
    result = evaluate_calibration(_data(in_use=InUseOptions(error_curve=None, usp41=True)))
    assert result.error_curve is None
    assert result.uncertainty_in_use is None
    with pytest.raises(InputError, match=r"in_use\.tolerance"):
        evaluate_calibration(_data(in_use=InUseOptions(error_curve=None, tolerance=0.01)))


def test_unreachable_tolerance_gives_a_note() -> None:
    result = evaluate_calibration(_data(in_use=InUseOptions(CurveModel.LINEAR_THROUGH_ZERO, tolerance=1e-7)))
    assert result.minimum_weight(MinimumWeightMethod.CG18) is None
    assert any("not met anywhere" in note for note in result.notes)


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"repeatability": ()}, "repeatability"),
        ({"tests": ()}, "points"),
        ({"repeatability": (RepeatabilitySeries(D("1"), (D("1"),)),)}, "repeatability[0].readings"),
        ({"eccentricity": EccentricityTest(D("2"), ("c",), (D("2"),))}, "eccentricity.indications"),
        ({"tests": (TestLoad(D("1"), (), (D("1"),)),)}, "points[0].weights"),
        ({"tests": (TestLoad(D("1"), (ReferenceWeight(D("3000"), 1, "E2"),), (D("1"),)),)}, "points[0].weights[0]"),
    ],
)
def test_errors_name_the_field(changes: dict[str, object], path: str) -> None:
    with pytest.raises(InputError) as caught:
        evaluate_calibration(_data(**changes))
    assert caught.value.path.startswith(path), caught.value.path
