"""The bounded instrument pool: a per-user share, a per-user rate and a global bound, refused at once when full."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from hengqi.server.errors import TooManyRequestsError
from hengqi.server.services.instrument_workers import InstrumentWorkers


def test_each_user_gets_a_bounded_share_and_the_pool_a_bound() -> None:
    pool = InstrumentWorkers(workers=2, per_user=2, rate_per_s=100, burst=100)
    gate = threading.Event()
    try:
        held = [pool.submit(1, gate.wait, 10), pool.submit(1, gate.wait, 10)]
        with pytest.raises(TooManyRequestsError, match="under way"):
            pool.submit(1, gate.wait, 10)
        held += [pool.submit(2, gate.wait, 10), pool.submit(2, gate.wait, 10)]  # queued: 2 run, 2 wait
        assert pool.admitted == 4
        start = time.monotonic()
        with pytest.raises(TooManyRequestsError, match="busy") as caught:
            pool.submit(3, gate.wait, 10)
        assert time.monotonic() - start < 0.5  # refused at once, not queued
        assert caught.value.retry_after_s >= 1
        gate.set()
        assert all(f.result(timeout=5) for f in held)
        deadline = time.monotonic() + 5
        while pool.admitted and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pool.admitted == 0
        assert pool.call(3, lambda: "free again") == "free again"
    finally:
        gate.set()
        pool.close()


def test_the_rate_of_one_user_is_bounded_and_refills() -> None:
    pool = InstrumentWorkers(workers=4, per_user=4, rate_per_s=5, burst=3)
    try:
        for _ in range(3):
            assert pool.call(1, int, "7") == 7
        with pytest.raises(TooManyRequestsError, match="a second"):
            pool.call(1, int, "7")
        assert pool.call(2, int, "8") == 8  # another user is not slowed
        assert pool.call(1, int, "9", rated=False) == 9  # a run's step counts only against the share
        time.sleep(0.25)
        assert pool.call(1, int, "7") == 7
    finally:
        pool.close()


def test_errors_release_the_share_and_async_callers_hold_no_thread() -> None:
    pool = InstrumentWorkers(workers=1, per_user=1, rate_per_s=100, burst=100)

    def fail() -> None:
        raise OSError("unplugged")

    try:
        for _ in range(3):
            with pytest.raises(OSError, match="unplugged"):
                pool.call(1, fail)
        assert asyncio.run(pool.run(1, sum, [1, 2])) == 3
    finally:
        pool.close()
    with pytest.raises(TooManyRequestsError):
        pool.call(1, sum, [1])


@pytest.mark.parametrize("bad", [{"workers": 0}, {"per_user": 0}, {"rate_per_s": 0.0}, {"rate_per_s": float("nan")}])
def test_limits_must_be_positive(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="positive"):
        InstrumentWorkers(**bad)  # type: ignore[arg-type]
