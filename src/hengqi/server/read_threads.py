"""The worker threads of the short database reads (issue 19): a few, apart from the other sync work.

A read on PostgreSQL waits for a network round trip, so it runs in a worker thread, and the read paths of
:mod:`hengqi.server.api.reads` and the API-token lookup send every such read there.  With the default limiter
(anyio's 40 threads, shared with every sync route) 16 concurrent reads ran in 16 threads that took turns with
the event loop at the interpreter lock; each turn costs a wake-up and a switch.  Measured through the app in
process (16 concurrent token-authenticated item reads on PostgreSQL, 2 cores; ``bench/README.md``): 40 threads
1 698 µs of CPU a request, 8 threads 1 487, 4 threads 1 262, 2 threads 1 256.  Reads beyond the limit wait
on the event loop (no thread, no CPU) for a free one.

Only reads that cannot wait on a lock go here (autocommit statements on PostgreSQL's snapshots); anything that
may write or wait for SQLite's write lock (a browser session's last use, the routes' sessions) stays on the
default limiter, so that a slow writer cannot hold these threads.  The number is the setting ``read_threads``
(``HENGQI_READ_THREADS``): more for a database far away on the network (a round trip of a millisecond or more
keeps a thread waiting without using the CPU).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar
from weakref import WeakKeyDictionary

import anyio.to_thread
from anyio import CapacityLimiter

T = TypeVar("T")

#: one limiter per event loop (a limiter is bound to the loop that uses it; tests run apps on several loops)
_LIMITERS: WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = WeakKeyDictionary()


async def run_read(read: Callable[[], T], *, threads: int) -> T:
    """``read()`` in one of at most ``threads`` worker threads of this event loop."""
    loop = asyncio.get_running_loop()
    limiter = _LIMITERS.get(loop)
    if limiter is None:
        limiter = _LIMITERS[loop] = CapacityLimiter(threads)
    return await anyio.to_thread.run_sync(read, limiter=limiter)
