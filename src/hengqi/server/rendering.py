"""Long renders in a process of their own, not in the process that serves requests (issue 19).

Rendering a certificate's PDF (reportlab and the error chart's matplotlib, pure Python for the most part) takes
about 0.2 s of CPU holding the interpreter lock (190-200 ms for the calibration example of
``tests/certificates/sample.py``, measured in process), during which every other request of that server
process waits.  Other renders hold it longer (measured in process, one run each): a sheet of 500 instrument
labels with their QR codes 5.2 s, a list exported as XLSX 2.4 s for 10 000 rows, an imported XLSX workbook of
10 000 rows 1.1 s to read; the statistics report's PDF 14 ms.  :func:`off_process` sends such a call to a small
pool of processes of its own (``spawn``: no copy of the server's threads, locks or connections) and waits for it
in the request's worker thread, without the lock; the server process goes on serving meanwhile.  Only pure
rendering goes there (plain data in, bytes or plain data out): signing stays in the server (the key is not
copied to another process), and a refusal raised there (an :class:`~hengqi.errors.InputError` for a damaged
workbook) comes back whole (:meth:`hengqi.errors.HengqiError.__reduce__`).

The pool is made at the first call and kept for the life of the process (its first call pays the child's
imports, a few seconds); the setting ``render_processes`` (``HENGQI_RENDER_PROCESSES``, 0..16, default 1;
``0`` renders in place) sets its size through :func:`configure`, called by the app factory.  A child
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


#: The pool size before :func:`configure` is called (the setting's default).
DEFAULT_PROCESSES: Final = 1


class _Pool:
    """The process's rendering pool, made at first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._executor_size = 0
        self.size = DEFAULT_PROCESSES

    def get(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                context = multiprocessing.get_context("spawn")
                self._executor = ProcessPoolExecutor(
                    max_workers=self.size, mp_context=context, initializer=_watch_parent
                )
                self._executor_size = self.size
            return self._executor

    def resize(self, size: int) -> ProcessPoolExecutor | None:
        """Set the size of the pools made from now on; returns the pool of another size to stop, if any."""
        with self._lock:
            self.size = size
            executor = self._executor
            if executor is None or self._executor_size == size:
                return None
            self._executor = None
            return executor

    def drop(self, broken: ProcessPoolExecutor | None = None) -> ProcessPoolExecutor | None:
        """Forget the pool (only if it is still ``broken``, when given); returns what was forgotten."""
        with self._lock:
            executor = self._executor
            if executor is None or (broken is not None and executor is not broken):
                return None
            self._executor = None
            return executor


_POOL = _Pool()


def configure(processes: int) -> None:
    """Render in ``processes`` processes from now on (the setting ``render_processes``; 0: in the calling
    process).  A pool of another size is stopped once its renders are done."""
    if not 0 <= processes <= 16:
        raise ValueError(f"render_processes must be 0..16, not {processes}")
    replaced = _POOL.resize(processes)
    if replaced is not None:
        replaced.shutdown(wait=False)


def processes() -> int:
    """The configured number of rendering processes (0: in the calling process)."""
    return _POOL.size


def off_process(function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)`` in a rendering process (see the module's text); in place when the pool is
    off (``render_processes`` 0) or its process died during the call.  ``function`` and its arguments
    must be picklable (a module-level function, plain data); its exceptions reach the caller as raised."""
    if processes() == 0:
        return function(*args, **kwargs)
    executor = _POOL.get()
    try:
        future = executor.submit(function, *args, **kwargs)
    except RuntimeError:  # the pool was stopped meanwhile (configure to another size)
        return function(*args, **kwargs)
    try:
        return future.result()
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
