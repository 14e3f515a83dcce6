"""How a serving process runs: the event loop and HTTP parser uvicorn is given, and the heap settled before the
first request.

Both are measured in ``bench/bench_throughput.py`` (its floor app runs under the same :data:`SERVER_LOOP` and
:data:`SERVER_HTTP`, so that the ratios compare like with like); the figures are in ``bench/README.md``.

The loop and parser: uvloop (libuv) and httptools (llhttp, the parser of Node.js) instead of the standard
library's asyncio loop and h11 (pure Python).  In one run on the shared 2-core machine the authenticated item
read went from 1052 to 1558 requests/s and the health probe from 1471 to 2236; malformed requests are still
answered 4xx (``tests/server/test_input_hygiene.py``).

The heap: a serving process holds a few hundred thousand objects made at start-up (modules, SQLAlchemy mappers,
pydantic validators, the routes) that live as long as the process.  CPython's cyclic garbage collector walked all
of them in each full (oldest-generation) collection, which under load came every second or two and stopped every
request of the process for 100 to 180 ms: that was most of the 99th-percentile latency of every route.
:func:`settle_heap` moves what exists when the app is built into the collector's permanent generation
(:func:`gc.freeze`, Python 3.7+), so full collections only walk what was made since.  Frozen objects are still
freed by reference counting; only cycles among them would stay, and the start-up objects are never dropped
before the process ends.
"""

from __future__ import annotations

import gc
from typing import Final, Literal

#: uvicorn's ``loop`` for ``hengqi serve``.
SERVER_LOOP: Final[Literal["asyncio", "uvloop"]] = "uvloop"
#: uvicorn's ``http`` for ``hengqi serve``.
SERVER_HTTP: Final[Literal["h11", "httptools"]] = "httptools"


def settle_heap() -> int:
    """Collect the garbage of start-up, then freeze every object left (see the module's text); returns how many
    objects the collector will no longer walk.  Call once the app is built, right before serving."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
