"""The read threads (issue 19): at most ``threads`` reads at once, the others wait on the loop; one limiter per loop."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from hengqi.server.read_threads import run_read
from hengqi.server.settings import Settings


def test_at_most_the_given_number_of_reads_run_at_once() -> None:
    lock = threading.Lock()
    running, most, names = 0, 0, set()

    def read() -> str:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        names.add(threading.current_thread().name)
        return "ok"

    async def main() -> list[str]:
        return await asyncio.gather(*(run_read(read, threads=2) for _ in range(10)))

    assert asyncio.run(main()) == ["ok"] * 10
    assert most == 2
    assert threading.current_thread().name not in names  # never on the event loop's thread

    most = 0  # a second loop gets its own limiter (the first loop's is not reused across loops)
    assert asyncio.run(main()) == ["ok"] * 10
    assert most == 2


def test_an_error_of_the_read_reaches_the_caller_and_frees_its_thread() -> None:
    def broken() -> None:
        raise LookupError("no such row")

    async def main() -> str:
        with pytest.raises(LookupError, match="no such row"):
            await run_read(broken, threads=1)
        return await run_read(lambda: "next", threads=1)  # the one thread is free again

    assert asyncio.run(main()) == "next"


def test_the_setting_is_bounded() -> None:
    assert Settings(env="test", read_threads=8).read_threads == 8
    with pytest.raises(ValueError, match="read_threads"):
        Settings(env="test", read_threads=0)
