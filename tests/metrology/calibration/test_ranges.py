"""The range in use at a calibration reading and its d (multi-interval and multiple-range instruments)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hengqi.errors import InputError
from hengqi.metrology.calibration.ranges import interval_at, range_after, range_index
from hengqi.metrology.calibration.result import InstrumentSummary, RangeKind, WeighingRange

D = Decimal
PARTS = (WeighingRange(D(6), D("0.002"), D("0.002")), WeighingRange(D(15), D("0.005"), D("0.005")))
MULTIPLE = InstrumentSummary(max_kg=D(15), d_kg=D("0.002"), kind=RangeKind.MULTIPLE_RANGE, ranges=PARTS)
MULTI_INTERVAL = InstrumentSummary(max_kg=D(15), d_kg=D("0.002"), kind=RangeKind.MULTI_INTERVAL, ranges=PARTS)
SINGLE = InstrumentSummary(max_kg=D("0.22"), d_kg=D("0.0000001"))


def test_a_load_from_zero_is_in_the_smallest_range_covering_it() -> None:
    assert [range_index(MULTIPLE, D(x)) for x in ("0", "3", "6", "6.005", "15")] == [0, 0, 0, 1, 1]
    assert interval_at(MULTIPLE, D(6)) == D("0.002")
    assert interval_at(MULTIPLE, D("6.005")) == D("0.005")


def test_multi_interval_d_follows_the_load_and_a_range_cannot_be_named() -> None:
    """R 76-1:2006 3.3 as cited: Max(i-1) < L <= Max(i); a load at Max1 is in range 1."""
    assert interval_at(MULTI_INTERVAL, D(6)) == D("0.002")
    assert interval_at(MULTI_INTERVAL, D("6.001")) == D("0.005")
    with pytest.raises(InputError, match="only on a multiple-range instrument"):
        range_index(MULTI_INTERVAL, D(3), 2)
    assert range_after(MULTI_INTERVAL, D(3), 1) == 0  # the partial range follows the load, also decreasing


def test_the_range_stays_up_on_decreasing_loads_until_zero() -> None:
    """R 76-1:2006 3.2 / 4.10 as cited: back to a lower range only at zero."""
    in_use = None
    seen = []
    for load in ("3", "10", "15", "10", "3"):
        in_use = range_after(MULTIPLE, D(load), in_use)
        seen.append(in_use)
    assert seen == [0, 1, 1, 1, 1]
    assert range_after(MULTIPLE, D(3), None) == 0  # placed from zero again
    assert interval_at(MULTIPLE, D(3), 2) == D("0.005")


def test_named_ranges_are_checked() -> None:
    with pytest.raises(InputError, match="no range 3: the instrument has 2 ranges") as caught:
        range_index(MULTIPLE, D(3), 3)
    assert caught.value.path == "range"
    with pytest.raises(InputError, match="range 1 cannot indicate"):
        range_index(MULTIPLE, D(10), 1)  # above Max1 + 9 e1 = 6.018 kg
    assert range_index(MULTIPLE, D("6.018"), 1) == 0  # exactly Max1 + 9 e1 still indicated
    with pytest.raises(InputError, match="several ranges"):
        range_index(SINGLE, D("0.1"), 1)


def test_a_single_interval_instrument_has_no_range() -> None:
    assert range_index(SINGLE, D("0.1")) is None
    assert range_after(SINGLE, D("0.1"), None) is None
    assert interval_at(SINGLE, D("0.1")) == D("0.0000001")
