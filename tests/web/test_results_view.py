"""The results page's tables as pure functions: one unit per table, plain short numbers, a verdict per test."""

from __future__ import annotations

from decimal import Decimal

from hengqi.server.web.results_view import check_groups, error_table

D = Decimal


def _check(
    test: str, quantity: str, value: str, limit: str | None, passed: bool | None, *, load: str = "2.5"
) -> dict[str, object]:
    return {
        "test": test,
        "label": "increasing",
        "load_kg": load,
        "quantity": quantity,
        "value_kg": value,
        "limit_name": "MPE/3" if test == "reference-weights" else "MPE",
        "limit_kg": limit,
        "passed": passed,
        "message": "",
    }


def test_checks_are_grouped_by_test_with_one_verdict_each_and_short_numbers() -> None:
    checks = [
        _check("weighing", "Ec", "0", "0.0025", True),
        _check("reference-weights", "reference weights", "0.000125", "0.0008333333333333333333333333333", True),
        _check("weighing", "Ec", "-0.0005", "0.0025", False, load="7.5"),
        _check("eccentricity", "Ec", "0.001", "0.005", None),
    ]
    groups = check_groups(checks, max_kg=D("15"), d_kg=D("0.005"))
    assert [(g.test, g.passed) for g in groups] == [
        ("weighing", False),
        ("reference-weights", True),
        ("eccentricity", None),
    ]
    weighing, weights, _ecc = groups
    assert (weighing.unit, weighing.error_unit) == ("kg", "g")
    assert [r.value for r in weighing.rows] == ["0.0 g", "-0.5 g"]  # "Ec = 0 kg" beside grams no more
    assert weighing.rows[0].load == "2.500 kg"
    assert weights.rows[0].limit == "0.83 g"  # not 833.3333333333333333333333333 mg
    assert weights.rows[0].value == "0.12 g"  # 0.125 g to two decimals, half to even


def test_error_table_uses_the_certificate_rounding_and_units() -> None:
    results = {
        "points": [
            {
                "load_kg": "0.1",
                "reference_mass_kg": "0.0999999",
                "error_kg": "0.0000007",
                "U_kg": "1.8004e-06",
                "k": 2.0,
            },
            {"other": 1},  # not a point: skipped
        ]
    }
    table = error_table(results, D("0.22"), D("0.0000001"), lambda _load, _range: D("0.000001"))
    assert (table.unit, table.error_unit) == ("g", "mg")
    (row,) = table.rows
    assert (row.load, row.reference, row.error, row.U, row.k, row.mpe) == (
        "100.0000",
        "99.9999",
        "0.7",
        "1.9",
        "2.00",
        "1",
    )
    assert row.within is False  # |E| + U = 2.6 mg > MPE 1 mg
