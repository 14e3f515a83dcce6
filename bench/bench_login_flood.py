"""A bounded login flood against a real ``hengqi serve`` on loopback: how much does it slow other requests?

Issue 10 ("Done when"): a bounded 200-request login flood must not slow other requests by more than 2x.

One client reads ``GET /api/v1/instruments/{id}`` with a browser session cookie (server-side session look-up,
organisation scoping, serialisation), one request after the other, in alternating windows:

* ``baseline``: alone, for a fixed time before each flood (all windows pooled);
* ``flood: one account``: while 200 ``POST /api/v1/auth/login`` with wrong passwords for one existing account
  are sent by 20 concurrent clients (the attack of the issue: 200 guesses, then the right password); three
  rounds, each on another account, pooled;
* ``flood: 200 names``: the same with 200 different names (unknown ones), which the per-name limit does not stop;
  the per-address limit does.

The flood runs in a child process, so that its clients do not compete with the reader for the interpreter lock
of the measuring process; only reads that ran while a flood was under way are counted for it.

For each row: GET requests measured (only those that started while the flood ran), p50 and p99 latency, and
the ratio to the baseline; for the floods, the answers the login requests got.  The server uses the default
settings but one worker process (argon2id with argon2-cffi's default parameters; 5 failures per name, 20 per
address; 2 password-check workers; 20 sign-ins admitted per second).  ``main(short=True)`` (CI) runs SQLite
and one round of a 60-request one-account flood only, so that it stays quick; the full run has three rounds of
200, the 200-name flood and PostgreSQL.

Command: ``.venv/bin/python bench/bench_login_flood.py`` (``--short`` for the CI variant).
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import psycopg

from hengqi.server.admin import create_admin, open_database
from hengqi.server.db.models import Instrument
from hengqi.server.settings import Settings

LAUNCH = "import sys; from hengqi.cli import main; sys.argv[0] = 'hengqi'; main()"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "bench-password-long-enough"
FLOOD_REQUESTS = 200
FLOOD_CLIENTS = 20
ROUNDS = 3
#: The CI variant's flood: sign-ins are admitted at 20/s after a burst of 20, so 200 would take 9 s alone.
SHORT_FLOOD = 60


class Row(NamedTuple):
    backend: str
    scenario: str
    requests: int
    p50_ms: float
    p99_ms: float
    flood_s: float
    answers: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else float("nan")


def _seed(settings: Settings, count: int, victims: int) -> None:
    database = open_database(settings, migrate=True)
    admin = create_admin(database, username="bench", password=PASSWORD, organisation="Bench lab")
    for k in range(1, victims + 1):
        create_admin(database, username=f"victim-{k}", password=PASSWORD, organisation="Bench lab")
    rows = [
        {
            "organisation_id": admin.organisation_id,
            "make": "Acme",
            "model": "M1",
            "serial": f"B{index:06d}",
            "type_approval": "",
            "accuracy_class": "III",
            "kind": "single-interval",
            "max_kg": Decimal(15),
            "min_kg": Decimal("0.1"),
            "e_kg": Decimal("0.005"),
            "d_kg": Decimal("0.005"),
            "ranges": [{"max_kg": "15", "e_kg": "0.005"}],
            "status": "in-service",
        }
        for index in range(count)
    ]
    with database.write_session() as session:
        session.execute(Instrument.__table__.insert(), rows)
        session.commit()
    database.dispose()


def _reads(client: httpx.Client, count: int, until: threading.Event | None, seconds: float) -> list[float]:
    """Sequential authenticated GETs: for ``seconds``, or until ``until`` is set; latencies in seconds."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    index = 0
    while (until is None and time.perf_counter() < deadline) or (until is not None and not until.is_set()):
        index = index % count + 1
        started = time.perf_counter()
        answer = client.get(f"/api/v1/instruments/{index}")
        if answer.status_code != 200:
            raise RuntimeError(f"authenticated GET answered {answer.status_code}: {answer.text[:200]}")
        latencies.append(time.perf_counter() - started)
    return latencies


def _p50_p99(latencies: list[float]) -> tuple[float, float]:
    return _percentile(latencies, 0.5), _percentile(latencies, 0.99)


def _during_flood(
    reader: httpx.Client, count: int, base: str, names: list[str]
) -> tuple[list[float], float, collections.Counter[int]]:
    """Reads while a flood runs in a child process (so that the flood's clients do not compete with the reader
    for this process's interpreter lock)."""
    context = multiprocessing.get_context("fork")
    go, results = context.Event(), context.SimpleQueue()
    child = context.Process(target=_flood_child, args=(base, names, go, results))
    child.start()  # forked before the reader thread starts
    done = threading.Event()
    measured: list[list[float]] = []
    watcher = threading.Thread(target=_watch, args=(reader, count, done, measured))
    watcher.start()
    try:
        go.set()
        elapsed, statuses = results.get()
    finally:
        done.set()
        watcher.join()
        child.join()
    return measured[0], elapsed, statuses


def _flood_child(base: str, names: list[str], go: Any, results: Any) -> None:
    go.wait()
    results.put(_flood(base, names))


def _watch(client: httpx.Client, count: int, done: threading.Event, into: list[list[float]]) -> None:
    into.append(_reads(client, count, done, 0.0))


def _flood(base: str, names: list[str]) -> tuple[float, collections.Counter[int]]:
    """``len(names)`` wrong-password logins from FLOOD_CLIENTS concurrent clients; elapsed seconds and statuses."""
    statuses: collections.Counter[int] = collections.Counter()
    lock = threading.Lock()
    queue = list(enumerate(names))

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=120) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    n, name = queue.pop()
                answer = client.post("/api/v1/auth/login", json={"username": name, "password": f"wrong-{n}"})
                with lock:
                    statuses[answer.status_code] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(FLOOD_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, statuses


def _bench_backend(backend: str, database_url: str | None, short: bool, workdir: Path) -> list[Row]:
    data_dir = workdir / backend
    count = 200
    rounds = 1 if short else ROUNDS
    size = SHORT_FLOOD if short else FLOOD_REQUESTS
    _seed(Settings(env="test", data_dir=data_dir, database_url=database_url), count, rounds)
    port = _free_port()
    # one worker process, as in the rounds of bench/README.md (the default is one per core, at most 2)
    args = [sys.executable, "-c", LAUNCH, "serve", "--port", str(port), "--data-dir", str(data_dir), "--workers", "1"]
    if database_url:
        args += ["--database-url", database_url]
    log = (workdir / f"{backend}.log").open("wb")
    env = {key: value for key, value in os.environ.items() if not key.startswith("HENGQI_")}
    server = subprocess.Popen([*args, "--log-level", "warning"], stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    rows: list[Row] = []
    try:
        for _ in range(1200):
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        window = 1.5 if short else 3.0
        with httpx.Client(base_url=base, timeout=120) as reader:
            signed_in = reader.post("/api/v1/auth/login", json={"username": "bench", "password": PASSWORD})
            signed_in.raise_for_status()
            _reads(reader, count, None, 0.5)  # warm up
            floods = [(f"victim-{k}", [f"victim-{k}"] * size) for k in range(1, rounds + 1)]
            if not short:
                floods.append(("200 names", [f"nobody-{n}" for n in range(size)]))
            baseline: list[float] = []
            pooled: dict[str, list[float]] = {}
            flood_s: dict[str, float] = {}
            answers: dict[str, collections.Counter[int]] = {}
            right: collections.Counter[int] = collections.Counter()
            for target, names in floods:
                scenario = "flood: one account" if target.startswith("victim") else "flood: 200 names"
                baseline += _reads(reader, count, None, window)
                latencies, elapsed, statuses = _during_flood(reader, count, base, names)
                pooled.setdefault(scenario, []).extend(latencies)
                flood_s[scenario] = flood_s.get(scenario, 0.0) + elapsed
                answers.setdefault(scenario, collections.Counter()).update(statuses)
                if target.startswith("victim"):
                    again = reader.post("/api/v1/auth/login", json={"username": target, "password": PASSWORD})
                    right[again.status_code] += 1
            rows.append(
                Row(backend, "baseline", len(baseline), *_p50_p99(baseline), 0.0, f"{rounds + (not short)} windows")
            )
            for scenario, latencies in pooled.items():
                text = " ".join(f"{status}x{n}" for status, n in sorted(answers[scenario].items()))
                rows.append(Row(backend, scenario, len(latencies), *_p50_p99(latencies), flood_s[scenario], text))
            text = " ".join(f"{status}x{n}" for status, n in sorted(right.items()))
            rows.append(Row(backend, "then the right password", 0, 0.0, 0.0, 0.0, text))
        return rows
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def main(short: bool) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="hengqi-bench-flood-"))
    name = f"hengqi_bench_{secrets.token_hex(4)}"
    rows: list[Row] = []
    try:
        rows += _bench_backend("sqlite", None, short, workdir)
        if not short:
            with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
                connection.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
            try:
                url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
                rows += _bench_backend("postgresql", url, short, workdir)
            finally:
                with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
                    terminate = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
                    connection.execute(terminate)  # type: ignore[arg-type]
                    connection.execute(f'DROP DATABASE IF EXISTS "{name}"')  # type: ignore[arg-type]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"hengqi serve (uvicorn, 1 worker) on loopback, {SHORT_FLOOD if short else FLOOD_REQUESTS} wrong-password "
        f"logins per flood from "
        f"{FLOOD_CLIENTS} clients, one reader (GET one instrument, session cookie), {os.cpu_count()} CPUs"
    )
    print(
        f"{'backend':<11} {'scenario':<24} {'GETs':>5} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'p50 x':>6} {'p99 x':>6} {'flood s':>8}  login answers"
    )
    baselines = {r.backend: r for r in rows if r.scenario == "baseline"}
    worst = max((r.p99_ms / baselines[r.backend].p99_ms for r in rows if r.scenario.startswith("flood")), default=0)
    worst50 = max((r.p50_ms / baselines[r.backend].p50_ms for r in rows if r.scenario.startswith("flood")), default=0)
    for r in rows:
        if r.scenario == "then the right password":
            print(f"{r.backend:<11} {r.scenario:<24} {'':>5} {'':>8} {'':>8} {'':>6} {'':>6} {'':>8}  {r.answers}")
            continue
        base = baselines[r.backend]
        p50x, p99x = r.p50_ms / base.p50_ms, r.p99_ms / base.p99_ms
        flood = f"{r.flood_s:>8.2f}" if r.flood_s else f"{'':>8}"
        print(
            f"{r.backend:<11} {r.scenario:<24} {r.requests:>5} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f} "
            f"{p50x:>6.2f} {p99x:>6.2f} {flood}  {r.answers}"
        )
    verdict = "met" if max(worst, worst50) <= 2.0 else "NOT met"
    print(f"target: a flood slows the GET by at most 2x: {verdict} (worst p50 {worst50:.2f}x, p99 {worst:.2f}x)")


if __name__ == "__main__":
    main(short="--short" in sys.argv)
