"""Eccentricity, repeatability, discrimination, zero-setting, tare and reference-weight checks.

Rules from ``standards.md`` 1.4 (eccentricity loads CONFIRMED in national texts; NZ TS-007 allowance; DERIVED
vectors Max 15 kg / 4 supports -> 5 kg and Max 30 000 kg / 8 supports -> 4 285.7 kg), repeatability and
discrimination CONFIRMED (Measurement Canada, NZ), zero-setting ±0.25 e SECONDARY, the 1/3 MPE weight rule
SECONDARY with R 111-1 Table 1 MPE values (CONFIRMED).  Exact Decimal comparisons throughout.
"""

from datetime import date
from decimal import Decimal

import pytest

from hengqi.errors import InputError
from hengqi.metrology.r76 import (
    Check,
    DiscriminationReading,
    Reading,
    ReferenceWeight,
    Verdict,
    discrimination_test,
    eccentricity_positions,
    eccentricity_test,
    eccentricity_test_load,
    fixed_tolerances,
    repeatability_test,
    tare_test,
    verification_result,
    weights_adequacy_point,
    zero_setting_test,
)
from hengqi.metrology.weights import CertifiedWeight, StandardWeight

D = Decimal
G = D("0.001")
TOL_15KG = fixed_tolerances(D("0.005"), D("0.005"))  # class III 15 kg / 5 g at 5 kg: 1 000 e -> MPE 1 e


# -- eccentricity ------------------------------------------------------------------------------------------
def test_eccentricity_load_vectors() -> None:
    assert eccentricity_test_load(D(15), 4) == D(5)
    assert eccentricity_test_load(D(30000), 8).quantize(D("0.1")) == D("4285.7")
    assert eccentricity_test_load(D(6), 3, D(3)) == D(3)
    assert eccentricity_test_load(D(60000), 8, D(3000)) == D(9000)
    assert eccentricity_positions(4) == 5
    assert eccentricity_positions(8) == 8


def _positions(load: D, indications: list[str]) -> list[Reading]:
    names = ["centre", "front-left", "front-right", "back-right", "back-left"]
    return [Reading(load, D(i), None, names[k]) for k, i in enumerate(indications)]


def test_eccentricity_pass_and_fail() -> None:
    ok = eccentricity_test(
        _positions(D(5), ["5", "5.005", "4.995", "5", "5.005"]),
        TOL_15KG, max_kg=D(15), supports=4, accuracy_class="III",
    )  # fmt: skip
    assert ok.verdict is Verdict.PASS
    assert ok.points[0].check is Check.TEST_LOAD
    assert ok.points[0].verdict is Verdict.PASS
    bad = eccentricity_test(
        _positions(D(5), ["5", "5.005", "4.990", "5", "5.005"]),
        TOL_15KG, max_kg=D(15), supports=4, accuracy_class="III",
    )  # fmt: skip
    assert bad.verdict is Verdict.FAIL
    (failing,) = bad.failing_points
    assert (failing.label, failing.error_kg, failing.mpe_kg) == ("front-right", D("-0.010"), D("0.005"))


def test_eccentricity_load_rounding_allowance_nz_ts007() -> None:
    tol = fixed_tolerances(D(20), D(20))  # truck scale 60 t / 20 kg
    asked = eccentricity_test_load(D(60000), 8)  # 8 571.43 kg
    readings = [Reading(D(8200), D(8200), None, f"support {k}") for k in range(1, 9)]
    # 20 e = 400 kg allowance: 8 200 kg >= 8 171.43 kg passes
    ok = eccentricity_test(readings, tol, max_kg=D(60000), supports=8, accuracy_class="III")
    assert ok.points[0].verdict is Verdict.PASS
    assert ok.points[0].limit_kg == asked - 400
    low = [Reading(D(8000), D(8000), None, f"support {k}") for k in range(1, 9)]
    bad = eccentricity_test(low, tol, max_kg=D(60000), supports=8, accuracy_class="III")
    assert bad.verdict is Verdict.FAIL
    assert bad.failing_points[0].check is Check.TEST_LOAD
    assert "test load 8 t is below 8.17143 t" in bad.failing_points[0].message
    # class II, e = 0.1 g: 200 e = 20 g; 6.2 kg / 3 = 2.0667 kg -> at least 2.0467 kg
    tol_ii = fixed_tolerances(D("0.0001"), D("0.0001"))
    for load, verdict in (("2.05", Verdict.PASS), ("2", Verdict.FAIL)):
        ecc = eccentricity_test([Reading(D(load), D(load))], tol_ii, max_kg=D("6.2"), supports=1, accuracy_class="II")
        assert ecc.points[0].verdict is verdict
        assert ecc.points[0].limit_kg == D("6.2") / 3 - D("0.02")
    # class I: no allowance found, the full load is asked
    ecc_i = eccentricity_test(
        [Reading(D("0.07"), D("0.07"))], fixed_tolerances(D("0.0005"), D("0.001")),
        max_kg=D("0.22"), supports=1, accuracy_class="I",
    )  # fmt: skip
    assert ecc_i.verdict is Verdict.FAIL
    assert ecc_i.points[0].limit_kg == D("0.22") / 3


def test_eccentricity_larger_load_and_missing_positions_are_noted() -> None:
    result = eccentricity_test(
        [Reading(D(6), D(6)), Reading(D(6), D(6))], TOL_15KG, max_kg=D(15), supports=4, accuracy_class="III"
    )
    assert result.verdict is Verdict.PASS
    assert any("above the 5 kg the rule asks" in n for n in result.notes)
    assert any("2 positions recorded; the test uses 5" in n for n in result.notes)


def test_eccentricity_positions_share_one_load() -> None:
    with pytest.raises(InputError, match=r"^points\[1\]\.load: "):
        eccentricity_test(
            [Reading(D(5), D(5)), Reading(D(6), D(6))], TOL_15KG, max_kg=D(15), supports=4, accuracy_class="III"
        )


# -- repeatability -----------------------------------------------------------------------------------------
def test_repeatability_spread_equal_to_mpe_passes_and_larger_fails() -> None:
    ok = repeatability_test([[Reading(D(10), D(i)) for i in ("10", "10.005", "10")]], TOL_15KG, max_kg=D(15))
    assert ok.verdict is Verdict.PASS
    spread = ok.points[0]
    assert (spread.check, spread.value_kg, spread.limit_kg) == (Check.SPREAD, D("0.005"), D("0.005"))
    assert any("3 weighings; R 76-1 A.4.10 asks 10" in note for note in ok.notes)
    bad = repeatability_test([[Reading(D(10), D(i)) for i in ("9.995", "10.005")]], TOL_15KG)
    assert bad.verdict is Verdict.FAIL
    assert [p.check for p in bad.failing_points] == [Check.SPREAD]  # each result is within the MPE


def test_repeatability_with_change_points_uses_errors_before_rounding() -> None:
    # Same indication, different change points: P = 10.0025 - dL differs by 4 g < 5 g.
    series = [Reading(D(10), D(10), D("0.0005")), Reading(D(10), D(10), D("0.0045"))]
    result = repeatability_test([series], TOL_15KG)
    assert result.points[0].value_kg == D("0.0040")
    assert result.verdict is Verdict.PASS


def test_repeatability_series_validation() -> None:
    with pytest.raises(InputError, match=r"series\[0\]\.points: .*at least two"):
        repeatability_test([[Reading(D(10), D(10))]], TOL_15KG)
    with pytest.raises(InputError, match=r"series\[0\]\.points\[1\]\.load"):
        repeatability_test([[Reading(D(10), D(10)), Reading(D(9), D(9))]], TOL_15KG)


# -- discrimination ----------------------------------------------------------------------------------------
def test_discrimination() -> None:
    d = lambda _load: 5 * G  # noqa: E731
    ok = discrimination_test([DiscriminationReading(D("7.5"), D("7.5"), D("7.505"), 7 * G)], d_at=d)
    assert ok.verdict is Verdict.PASS
    removed = discrimination_test([DiscriminationReading(D("7.5"), D("7.5"), D("7.495"), 7 * G, removed=True)], d_at=d)
    assert removed.verdict is Verdict.PASS
    bad = discrimination_test([DiscriminationReading(D("15"), D("15"), D("15"), 7 * G)], d_at=d)
    assert bad.verdict is Verdict.FAIL
    assert bad.points[0].limit_kg == 5 * G
    assert bad.points[0].value_kg == 0
    with pytest.raises(InputError, match=r"points\[0\]\.extra_load: the extra load must be 1.4 d = 7 g"):
        discrimination_test([DiscriminationReading(D("15"), D("15"), D("15.005"), 5 * G)], d_at=d)


# -- zero setting and tare ---------------------------------------------------------------------------------
def test_zero_setting_accuracy_quarter_e() -> None:
    # deviation = 1/2 e - dL: dL = 1.25 g -> +1.25 g = 0.25 e passes; dL = 1 g -> +1.5 g fails
    on = zero_setting_test([Reading(D(0), D(0), D("1.25") * G)], TOL_15KG)
    off = zero_setting_test([Reading(D(0), D(0), 1 * G)], TOL_15KG)
    assert on.verdict is Verdict.PASS
    assert on.points[0].value_kg == D("1.25") * G
    assert off.verdict is Verdict.FAIL
    assert off.points[0].limit_kg == D("1.25") * G


def test_tare_test_corrects_with_net_zero() -> None:
    zero = Reading(D(0), D(0), D("2.5") * G, "net zero")  # E0 = 0
    net = [Reading(D(5), D("5.005"), D("2.5") * G), Reading(D(10), D("10.005"), D("0.5") * G)]
    result = tare_test(net, TOL_15KG, tare_kg=D(5), zero=zero)
    assert [p.check for p in result.points] == [Check.ZERO_DEVIATION, Check.ERROR, Check.ERROR]
    assert [p.verdict for p in result.points] == [Verdict.PASS, Verdict.PASS, Verdict.FAIL]
    assert result.points[2].corrected_error_kg == D("0.007")


# -- reference weights -------------------------------------------------------------------------------------
def test_weight_adequacy_by_class_and_certificate() -> None:
    # R 111-1 Table 1: M1 5 kg = 250 mg. Class III 15 kg / 5 g at 5 kg: MPE 5 g, 1/3 = 1.667 g.
    m1 = ReferenceWeight("M1-5kg", StandardWeight.of("M1", "5 kg"))
    point = weights_adequacy_point(D(5), [m1], instrument_mpe_kg=D("0.005"))
    assert point.verdict is Verdict.PASS
    assert point.value_kg == D("0.000250")
    assert point.check is Check.WEIGHTS
    # MPE 1 mg (1/3 = 0.333 mg): F1 200 g (1.0 mg) fails, E2 200 g (0.3 mg) passes, also at 0.9 mg (= 3 x 0.3)
    f1 = ReferenceWeight("F1-200g", StandardWeight.of("F1", "200 g"))
    e2 = ReferenceWeight("E2-200g", StandardWeight.of("E2", "200 g"))
    assert weights_adequacy_point(D("0.2"), [f1], instrument_mpe_kg=D("0.000001")).verdict is Verdict.FAIL
    assert weights_adequacy_point(D("0.2"), [e2], instrument_mpe_kg=D("0.000001")).verdict is Verdict.PASS
    assert weights_adequacy_point(D("0.2"), [e2], instrument_mpe_kg=D("0.0000009")).verdict is Verdict.PASS
    assert weights_adequacy_point(D("0.2"), [e2], instrument_mpe_kg=D("0.00000089")).verdict is Verdict.FAIL
    # by certificate: U = 0.45 mg at k = 3 -> 0.3 mg at k = 2
    cert = ReferenceWeight("C1", CertifiedWeight(D("0.2"), D("0.0000002"), D("0.00000045"), D(3)))
    assert cert.correction_kg == D("0.0000002")
    point = weights_adequacy_point(D("0.2"), [cert], instrument_mpe_kg=D("0.0000009"))
    assert point.verdict is Verdict.PASS
    assert point.value_kg == D("0.0000003")
    assert point.message.startswith("weights' U (k = 2) sum")
    both = weights_adequacy_point(D("0.4"), [cert, e2], instrument_mpe_kg=D("0.0000018"))
    assert both.verdict is Verdict.PASS
    assert both.label == "C1 + E2-200g"


def test_overdue_certificate_fails() -> None:
    w = ReferenceWeight("C1", CertifiedWeight(D(5), D(0), D("0.00001")), due=date(2026, 1, 31))
    point = weights_adequacy_point(D(5), [w], instrument_mpe_kg=D("0.005"), test_date=date(2026, 2, 1))
    assert point.verdict is Verdict.FAIL
    assert "certificate overdue" in point.message
    assert "17025" in point.rule
    same_day = weights_adequacy_point(D(5), [w], instrument_mpe_kg=D("0.005"), test_date=date(2026, 1, 31))
    assert same_day.verdict is Verdict.PASS


def test_verification_result_collects_failing_points() -> None:
    ok = zero_setting_test([Reading(D(0), D(0), D("2.5") * G)], TOL_15KG)
    bad = zero_setting_test([Reading(D(0), D(0), D("5") * G)], TOL_15KG)
    result = verification_result([ok, bad])
    assert result.verdict is Verdict.FAIL
    assert [(f.test, f.point.verdict) for f in result.failing_points] == [("zero-setting", Verdict.FAIL)]
    assert verification_result([]).verdict is Verdict.FAIL
