"""Event counters across wrap-around and resets; Sparkplug session bookkeeping; admission of events."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hengqi.errors import InputError
from hengqi.supervision.admission import admit
from hengqi.supervision.counters import COUNTER_MODULI, counter_change
from hengqi.supervision.sequence import (
    CameOnline,
    NodeSession,
    SequenceGap,
    StaleDeath,
    WentOffline,
    WithoutBirth,
    observe,
)


@pytest.mark.parametrize(
    ("previous", "current", "modulus", "steps", "wrapped", "reset"),
    [
        (998, 2, 1000, 4, True, False),
        (999, 0, 1000, 1, True, False),
        (9_999, 0, 10_000, 1, True, False),
        (99_999, 0, 100_000, 1, True, False),
        (99_990, 5, 100_000, 15, True, False),
        (10, 11, 1000, 1, False, False),
        (10, 910, 1000, 900, False, False),  # a forward jump is read as changes, however many
        (417, 0, 1000, 0, False, True),
        (5_000, 3, 10_000, 0, False, True),
        (7, 7, 1000, 0, False, False),
    ],
)
def test_counter_change(  # noqa: PLR0917
    previous: int, current: int, modulus: int, steps: int, wrapped: bool, reset: bool
) -> None:
    change = counter_change(previous, current, modulus)
    assert (change.steps, change.wrapped, change.reset) == (steps, wrapped, reset)
    assert change.changed == (steps > 0 or reset)


def test_counter_bounds_are_checked() -> None:
    with pytest.raises(InputError):
        counter_change(1000, 1, 1000)
    with pytest.raises(InputError):
        counter_change(1, 2, 999)
    with pytest.raises(InputError):
        counter_change(1, 2, 1000, max_plausible_steps=0)
    assert counter_change(900, 100, 1000, max_plausible_steps=300).wrapped


@given(st.sampled_from(COUNTER_MODULI), st.data())
def test_every_single_increment_is_one_step(modulus: int, data: st.DataObject) -> None:
    value = data.draw(st.integers(0, modulus - 1))
    change = counter_change(value, (value + 1) % modulus, modulus)
    assert change.steps == 1
    assert not change.reset
    assert change.wrapped == (value == modulus - 1)


def test_session_gaps_wrap_deaths_and_rebirth() -> None:
    s, f = observe(NodeSession(), "DDATA", seq=5, bd_seq=None, at_ms=0)
    assert f == (WithoutBirth(0, "DDATA"),)
    s, f = observe(s, "NBIRTH", seq=0, bd_seq=3, at_ms=10)
    assert f == (CameOnline(10, 3, None),)
    for i in range(1, 256):
        s, f = observe(s, "DDATA", seq=i, bd_seq=None, at_ms=10 + i)
        assert f == ()
    s, f = observe(s, "DDATA", seq=0, bd_seq=None, at_ms=300)  # 255 -> 0 wraps without a gap
    assert f == ()
    s, f = observe(s, "DDATA", seq=4, bd_seq=None, at_ms=301)
    assert f == (SequenceGap(301, 1, 4, 3),)
    s, f = observe(s, "NDEATH", seq=None, bd_seq=2, at_ms=400)  # an old session's will
    assert f == (StaleDeath(400, 2),)
    assert s.online
    s, f = observe(s, "NDEATH", seq=None, bd_seq=3, at_ms=500)
    assert f == (WentOffline(500, 3),)
    assert not s.online
    s, f = observe(s, "NDEATH", seq=None, bd_seq=3, at_ms=510)
    assert f == ()
    s, f = observe(s, "NBIRTH", seq=0, bd_seq=4, at_ms=60_500)
    assert f == (CameOnline(60_500, 4, 60_000),)


def test_admission() -> None:
    assert admit(watermark=None, seq=0, stored_digest=None, digest="d") == "store"
    assert admit(watermark=3, seq=10, stored_digest=None, digest="d") == "store"
    assert admit(watermark=10, seq=10, stored_digest="d", digest="d") == "duplicate"
    assert admit(watermark=10, seq=10, stored_digest="d", digest="e") == "replayed"
    assert admit(watermark=10, seq=9, stored_digest=None, digest="d") == "out_of_order"
    assert admit(watermark=10, seq=2, stored_digest="d", digest="d") == "duplicate"
