"""Several server processes: the app factory each uvicorn worker process calls (``hengqi serve --workers N``).

uvicorn starts worker processes with the ``spawn`` method and imports the app in each by name, so the settings
travel as the overrides the command line was given (JSON in :data:`OVERRIDES_ENV`); each worker reads them with
the same environment and settings file as the parent (:func:`hengqi.server.settings.load_settings`), so no secret
is copied anywhere new.  The parent has already created and migrated the store, made the keys and seeded the demo;
the workers do not migrate again.

What each process holds for itself: its database pools (``db_pool_size`` + ``db_max_overflow`` PostgreSQL
connections per worker for its sessions, ``db_read_pool_size`` + 4 for its short reads) and its sign-in gate
(``login_workers`` lanes, ``login_rate_per_s`` admissions a second).
What they share through a file the parent makes afresh at each start (``run/signin-throttle.sqlite3`` in the
data directory, :class:`hengqi.server.throttle.SharedCounts`): the sign-in and certificate look-up throttles'
counts, so a guesser spread over the processes gets no more tries than from one.  What they share through the
database: everything stored, the server-side sessions (a sign-out ends the session in every worker), API tokens
and their revocation, and the audit chain, whose writers are serialised by the database (SQLite ``BEGIN
IMMEDIATE`` takes the file's write lock across processes; PostgreSQL takes a transaction-level advisory lock).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import multiprocessing
import os
import signal
from typing import Any, Final

from fastapi import FastAPI

from hengqi.server.app import create_app
from hengqi.server.runtime import settle_heap
from hengqi.server.settings import Settings, load_settings

#: The environment variable carrying the command line's settings overrides to the worker processes.
OVERRIDES_ENV: Final = "HENGQI_SERVE_OVERRIDES_JSON"


def worker_environment(overrides: dict[str, Any]) -> dict[str, str]:
    """The environment entry that makes :func:`worker_app` build the app ``load_settings(**overrides)`` would.

    >>> worker_environment({"data_dir": "/srv/hengqi", "port": 8000, "env": None})
    {'HENGQI_SERVE_OVERRIDES_JSON': '{"data_dir": "/srv/hengqi", "port": 8000}'}
    """
    kept = {key: (str(value) if hasattr(value, "__fspath__") else value) for key, value in overrides.items()}
    return {OVERRIDES_ENV: json.dumps({key: value for key, value in kept.items() if value is not None})}


def worker_settings() -> Settings:
    """The settings of a worker process: the parent's overrides, without a second migration."""
    overrides = json.loads(os.environ.get(OVERRIDES_ENV, "{}"))
    overrides["auto_migrate"] = False
    return load_settings(**overrides)


#: prctl(2)'s option asking the kernel for a signal when the parent process ends (Linux).
_PR_SET_PDEATHSIG: Final = 1


def end_with_the_supervisor() -> bool:
    """Ask the kernel to send this process SIGTERM when its parent (the supervising ``hengqi serve``) ends, and
    end now if it already has; ``False`` where the platform has no such request (not Linux).

    Without it, a supervisor killed by SIGKILL (or the out-of-memory killer) left its workers serving on the
    inherited socket, unsupervised, and a new ``hengqi serve`` on the same port could not bind.  SIGTERM makes
    uvicorn finish the requests in flight and stop.  The parent is the process that spawned this one
    (``multiprocessing.parent_process()``), not the parent at the time of the call: a supervisor that died while
    the worker was still importing (seconds on a loaded machine) had already left it to ``init``, whose pid the
    first version compared with itself, and the worker went on serving alone.
    """
    spawner = multiprocessing.parent_process()  # the supervisor that spawned this worker, known from the start
    parent = spawner.pid if spawner is not None and spawner.pid is not None else os.getppid()
    name = ctypes.util.find_library("c")
    if name is None:  # pragma: no cover - not Linux
        return False
    prctl = getattr(ctypes.CDLL(name, use_errno=True), "prctl", None)
    if prctl is None or prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:  # pragma: no cover - not Linux
        return False
    if os.getppid() != parent:  # the parent ended before the request was made (during this worker's imports)
        os.kill(os.getpid(), signal.SIGTERM)
    return True


def worker_app() -> FastAPI:
    """The app of one worker process (the uvicorn factory ``hengqi.server.workers:worker_app``), its start-up heap
    frozen (:func:`hengqi.server.runtime.settle_heap`); the process ends with its supervisor
    (:func:`end_with_the_supervisor`)."""
    end_with_the_supervisor()
    app = create_app(worker_settings())
    settle_heap()
    return app
