"""Load test of the platform server on loopback: a real ``hengqi serve`` process, httpx clients in threads.

Scenarios (each on SQLite and on PostgreSQL):

* ``GET /api/v1/instruments/{id}``: read one instrument (random ids), 8 concurrent clients;
* ``GET /api/v1/instruments?limit=100&offset=...``: a page of the list of N instruments (with the total count);
* ``GET /api/v1/instruments?format=csv``: the CSV export of all N instruments, one client.

Requests per second and latency percentiles are measured on the client side.  The store is seeded with N
instruments by bulk insert (the audit trail is bypassed for the seed only; every request under test runs the
full stack: token check, scoping, serialisation).  ``main(short=True)`` (CI) uses N = 500 and about 1 s per
scenario; the full run uses N = 10 000.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import httpx
import psycopg

from hengqi.server.admin import create_admin, open_database
from hengqi.server.db.models import Instrument
from hengqi.server.settings import Settings

LAUNCH = "import sys; from hengqi.cli import main; sys.argv[0] = 'hengqi'; main()"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "bench-password-long-enough"


class Result(NamedTuple):
    backend: str
    scenario: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _seed(settings: Settings, count: int) -> None:
    database = open_database(settings, migrate=True)
    admin = create_admin(database, username="bench", password=PASSWORD, organisation="Bench lab")
    rows = [
        {
            "organisation_id": admin.organisation_id,
            "make": "Acme",
            "model": f"M{index % 17}",
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


def _load(
    base: str, headers: dict[str, str], make_path: Callable[[random.Random], str], *, clients: int, seconds: float
) -> tuple[int, float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    failures: list[str] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[float] = []
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                answer = client.get(make_path(rng))
                mine.append(time.perf_counter() - started)
                if answer.status_code != 200:
                    failures.append(f"{answer.status_code} {answer.text[:200]}")
                    return
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"request failed: {failures[0]}")
    return len(latencies), elapsed, latencies


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else float("nan")


def _bench_backend(backend: str, database_url: str | None, count: int, seconds: float, workdir: Path) -> list[Result]:
    data_dir = workdir / backend
    settings = Settings(env="test", data_dir=data_dir, database_url=database_url)
    _seed(settings, count)
    port = _free_port()
    args = [sys.executable, "-c", LAUNCH, "serve", "--port", str(port), "--data-dir", str(data_dir), "--workers", "1"]
    if database_url:
        args += ["--database-url", database_url]
    log = (workdir / f"{backend}.log").open("wb")
    server = subprocess.Popen([*args, "--log-level", "warning"], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=30) as client:
            login = client.post("/api/v1/auth/login", json={"username": "bench", "password": PASSWORD}).json()
            token = client.post(
                "/api/v1/auth/tokens", json={"name": "bench"}, headers={"X-CSRF-Token": login["csrf_token"]}
            )
            headers = {"Authorization": f"Bearer {token.json()['token']}"}
        scenarios: list[tuple[str, Callable[[random.Random], str], int]] = [
            ("read one instrument", lambda rng: f"/api/v1/instruments/{rng.randint(1, count)}", 8),
            (
                "list, page of 100",
                lambda rng: f"/api/v1/instruments?limit=100&offset={rng.randrange(0, count, 100)}",
                4,
            ),
            (f"CSV export of {count}", lambda _rng: "/api/v1/instruments?format=csv", 1),
        ]
        results = []
        for name, make_path, clients in scenarios:
            done, elapsed, latencies = _load(base, headers, make_path, clients=clients, seconds=seconds)
            results.append(
                Result(backend, name, done, elapsed, _percentile(latencies, 0.5), _percentile(latencies, 0.99))
            )
        return results
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def main(short: bool) -> None:
    count = 500 if short else 10_000
    seconds = 1.0 if short else 8.0
    workdir = Path(tempfile.mkdtemp(prefix="hengqi-bench-"))
    name = f"hengqi_bench_{secrets.token_hex(4)}"
    results: list[Result] = []
    try:
        results += _bench_backend("sqlite", None, count, seconds, workdir)
        with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        try:
            results += _bench_backend(
                "postgresql", f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", count, seconds, workdir
            )
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
                connection.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")  # type: ignore[arg-type]
                connection.execute(f'DROP DATABASE IF EXISTS "{name}"')  # type: ignore[arg-type]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    cpus = os.cpu_count()
    print(f"hengqi serve (uvicorn, 1 worker) on loopback, {count} instruments, {seconds:g} s per scenario, {cpus} CPUs")
    print(f"{'backend':<11} {'scenario':<28} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for r in results:
        print(f"{r.backend:<11} {r.scenario:<28} {r.requests:>9} {r.rps:>9.1f} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f}")


if __name__ == "__main__":
    main(short="--short" in sys.argv)
