"""Certificate PDFs rendered in a process of their own, not in the process that serves requests (issue 19).

Rendering a certificate's PDF (reportlab and the error chart's matplotlib, pure Python for the most part) takes
about 0.2 s of CPU holding the interpreter lock (190-200 ms for the calibration example of
``tests/certificates/sample.py``, measured in process), during which every other request of that server
process waits.  :func:`off_process` sends the call to a small pool of processes of its own (``spawn``: no
copy of the server's threads, locks or connections) and waits for it in the request's worker thread, without the
lock; the server process goes on serving meanwhile.  Only pure rendering goes there (plain data in, bytes out):
signing stays in the server (the key is not copied to another process).

The pool is made at the first call and kept for the life of the process (its first call pays the child's
imports, a few seconds); ``HENGQI_RENDER_PROCESSES`` sets its size (default 1; ``0`` renders in place).  A child
that died is replaced and the call made again in place, so that a rendering never fails because of the pool.
A child ends when the process that made it is gone (:func:`_watch_parent`): a server process killed by SIGKILL
left its rendering process waiting for work forever.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Final, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

#: The environment variable setting the number of rendering processes (0: render in the calling process).
PROCESSES_ENV: Final = "HENGQI_RENDER_PROCESSES"


def processes() -> int:
    """The configured pool size (:data:`PROCESSES_ENV`, default 1; a value that is not a whole number in 0..16
    counts as 1)."""
    text = os.environ.get(PROCESSES_ENV, "1").strip()
    return int(text) if text.isdigit() and int(text) <= 16 else 1


#: How often a rendering process checks that the process that made it is still there (seconds).
PARENT_CHECK_S: Final = 1.0


def _watch_parent() -> None:
    """The rendering process's initializer: a daemon thread that ends the process once its parent is gone
    (it is then adopted by another process).  Not ``PR_SET_PDEATHSIG``: that fires when the *thread* that made
    the child ends, and the pool makes its children from a request's worker thread, which ends when idle."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="hengqi-render-parent-watch", daemon=True).start()


class _Pool:
    """The process's rendering pool, made at first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    def get(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                context = multiprocessing.get_context("spawn")
                self._executor = ProcessPoolExecutor(
                    max_workers=processes(), mp_context=context, initializer=_watch_parent
                )
            return self._executor

    def drop(self, broken: ProcessPoolExecutor | None = None) -> ProcessPoolExecutor | None:
        """Forget the pool (only if it is still ``broken``, when given); returns what was forgotten."""
        with self._lock:
            executor = self._executor
            if executor is None or (broken is not None and executor is not broken):
                return None
            self._executor = None
            return executor


_POOL = _Pool()


def off_process(function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)`` in a rendering process (see the module's text); in place when the pool is
    off (``HENGQI_RENDER_PROCESSES=0``) or its process died during the call.  ``function`` and its arguments
    must be picklable (a module-level function, plain data); its exceptions reach the caller as raised."""
    if processes() == 0:
        return function(*args, **kwargs)
    executor = _POOL.get()
    try:
        return executor.submit(function, *args, **kwargs).result()
    except BrokenProcessPool:
        dropped = _POOL.drop(executor)
        if dropped is not None:
            dropped.shutdown(wait=False, cancel_futures=True)
        return function(*args, **kwargs)


def shutdown() -> None:
    """Stop the rendering processes now (tests; otherwise they stop with the interpreter, or within a second of
    their parent's end); a later call makes a new pool."""
    executor = _POOL.drop()
    if executor is not None:
        executor.shutdown(wait=True, cancel_futures=True)
