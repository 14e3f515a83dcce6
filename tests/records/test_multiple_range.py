"""Multiple-range instruments: each reading is judged in the range in use (R 76-1:2006 3.2 / 4.10 as cited; the
range stays up on decreasing loads until the load returns to zero), and the change-point limit is one d of that
range, not d1.

Instrument: class III, 30 kg / 10 g, 60 kg / 20 g, 150 kg / 50 g (the UKWF multiple-range example, class assumed
III as in ``standards.md`` 1.3).
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from hengqi.errors import InputError, RecordError
from hengqi.records.verification import evaluate, parse_verification_record

RANGES = [{"max": "30 kg", "e": "10 g"}, {"max": "60 kg", "e": "20 g"}, {"max": "150 kg", "e": "50 g"}]


def _record(*points: dict[str, Any], kind: str = "multiple-range") -> dict[str, Any]:
    return {
        "format": "hengqi.verification-record",
        "version": 1,
        "instrument": {"id": "P-1", "specification": {"class": "III", "kind": kind, "ranges": RANGES}},
        "operator": "A. Inspector",
        "date": "2026-12-07",
        "stage": "initial",
        "rules": "oiml-r76",
        "tests": {"weighing": {"points": list(points)}},
    }


UP = {"load": "40 kg", "direction": "increasing", "indication": "40.02 kg", "range": 2}
DOWN = {"load": "20 kg", "direction": "decreasing", "indication": "20.02 kg"}


def test_a_decreasing_load_is_judged_in_the_range_still_in_use() -> None:
    in_range_2 = evaluate(parse_verification_record(_record(UP, {**DOWN, "range": 2})))
    weighing = in_range_2.tests[0]
    point = weighing.points[1]
    assert point.mpe_kg == Decimal("0.020")  # 20 kg = 1000 e2: 1.0 e2
    assert point.verdict.value == "pass"
    # the same reading judged by the load alone (range 1, e1 = 10 g: 2000 e1, 1.0 e1 = 10 g) fails
    by_load = evaluate(parse_verification_record(_record(UP, DOWN))).tests[0].points[1]
    assert by_load.mpe_kg == Decimal("0.010")
    assert by_load.verdict.value == "fail"


def test_the_change_point_limit_is_one_d_of_the_range_in_use() -> None:
    with_change = {**DOWN, "indication": "20.02 kg", "change_point": "15 g", "range": 2}
    result = evaluate(parse_verification_record(_record(UP, with_change)))
    point = result.tests[0].points[1]
    # E = I + e2/2 - dL - L = 20.02 + 0.01 - 0.015 - 20 = +0.015 kg
    assert point.error_kg == Decimal("0.015")
    assert point.verdict.value == "pass"
    # 15 g is more than d1 = 10 g: refused when the reading is taken to be in range 1
    with pytest.raises(InputError, match="at most one scale interval") as caught:
        evaluate(parse_verification_record(_record(UP, {**with_change, "range": None})))
    assert caught.value.path == "tests.weighing.points[1].change_point"


@pytest.mark.parametrize(
    ("point", "kind", "words"),
    [
        ({**DOWN, "range": 4}, "multiple-range", "no range 4"),
        ({**DOWN, "load": "45 kg", "indication": "45 kg", "range": 1}, "multiple-range", "range 1"),
        ({**DOWN, "range": 2}, "multi-interval", "multiple-range"),
    ],
)
def test_a_wrong_range_is_refused_naming_the_field(point: dict[str, Any], kind: str, words: str) -> None:
    data = _record(copy.deepcopy(UP) if kind == "multiple-range" else {**UP, "range": None}, point, kind=kind)
    with pytest.raises(RecordError) as caught:
        evaluate(parse_verification_record(data))
    assert caught.value.path == "tests.weighing.points[1].range"
    assert words in caught.value.reason


def test_range_zero_is_refused_by_the_format() -> None:
    with pytest.raises(RecordError) as caught:
        parse_verification_record(_record(UP, {**DOWN, "range": 0}))
    assert caught.value.path == "tests.weighing.points[1].range"


def _tests(tests: dict[str, Any], supports: int | None = None) -> dict[str, Any]:
    data = _record(UP)
    data["tests"] = tests
    if supports is not None:
        data["instrument"]["specification"]["supports"] = supports
    return data


def test_every_test_is_judged_in_the_range_its_record_names() -> None:
    """Not only the weighing test: eccentricity, repeatability, discrimination and tare readings carry the range
    in use (switched up by the operator, or the gross load of a tare test), and are judged in it."""
    # repeatability at 20 kg in range 2 (e2 = 20 g): |MPE| = 1.0 e2 = 20 g; in range 1 it would be 10 g
    series = {"load": "20 kg", "points": [{"indication": "20 kg"}, {"indication": "20.02 kg"}]}
    in_2 = evaluate(parse_verification_record(_tests({"repeatability": {"series": [{**series, "range": 2}]}})))
    by_load = evaluate(parse_verification_record(_tests({"repeatability": {"series": [series]}})))
    spread_2, spread_1 = in_2.tests[0].points[0], by_load.tests[0].points[0]
    assert (spread_2.limit_kg, spread_2.verdict.value) == (Decimal("0.020"), "pass")
    assert (spread_1.limit_kg, spread_1.verdict.value) == (Decimal("0.010"), "fail")
    # eccentricity at 50 kg switched up to range 3 (e3 = 50 g): MPE 1.0 e3 = 50 g; range 2 would give 1.5 e2 = 30 g
    positions = ["centre", "front-left", "front-right", "back-right", "back-left"]
    ecc = {"load": "50 kg", "points": [{"position": p, "indication": "50.04 kg"} for p in positions]}
    in_3 = evaluate(parse_verification_record(_tests({"eccentricity": {**ecc, "range": 3}}, supports=4)))
    in_2_ecc = evaluate(parse_verification_record(_tests({"eccentricity": ecc}, supports=4)))
    assert {p.limit_kg for p in in_3.tests[0].points if p.check.value == "error"} == {Decimal("0.050")}
    assert in_3.tests[0].verdict.value == "pass"
    assert in_2_ecc.tests[0].verdict.value == "fail"
    # discrimination at 20 kg in range 2: the extra load is 1.4 e2 and the indication must move by e2 = 20 g
    disc = {"load": "20 kg", "indication": "20 kg", "indication_after": "20.02 kg"}
    d_2 = evaluate(parse_verification_record(_tests({"discrimination": {"points": [{**disc, "range": 2}]}})))
    d_1 = evaluate(parse_verification_record(_tests({"discrimination": {"points": [disc]}})))
    assert d_2.tests[0].points[0].limit_kg == Decimal("0.020")
    assert d_1.tests[0].points[0].limit_kg == Decimal("0.010")


def test_a_tare_point_names_the_range_of_its_gross_load() -> None:
    tare = {"tare": "30 kg", "points": [{"load": "5 kg", "indication": "5.02 kg", "range": 2}]}
    result = evaluate(parse_verification_record(_tests({"tare": tare})))
    assert result.tests[0].points[0].limit_kg == Decimal("0.010")  # 35 kg gross in range 2: 5 kg net, 0.5 e2
    assert result.tests[0].points[0].verdict.value == "fail"  # E = 20 g
    wrong = {"tare": "30 kg", "points": [{"load": "5 kg", "indication": "5.02 kg", "range": 1}]}
    with pytest.raises(RecordError) as caught:  # range 1 cannot indicate a gross load of 35 kg
        evaluate(parse_verification_record(_tests({"tare": wrong})))
    assert caught.value.path == "tests.tare.points[0].range"
