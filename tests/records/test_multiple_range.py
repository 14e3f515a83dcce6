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
