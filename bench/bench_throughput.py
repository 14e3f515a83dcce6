"""Throughput of the platform's reads against the framework floor, measured by ``wrk`` in one run.

A real ``hengqi serve`` process on loopback (SQLite, and PostgreSQL when ``--pg`` is given to the script) and, in
the same run on the same machine, a bare FastAPI app whose one sync route returns a small JSON object (the floor:
what uvicorn and FastAPI cost with no application work).  Every hengqi figure is printed with its ratio to the
floor's requests per second, so the table means something on a machine shared with other work.

Routes: ``GET /api/v1/instruments/{id}`` with a Bearer token, ``GET /api/v1/instruments?limit=50`` (a page of 50
with its total), ``GET /api/v1/health`` and ``GET /api/v1/openapi.json``.  The load generator is ``wrk``
(``apt-get install wrk``), a C program, so that the client does not eat the cores it measures as a Python client
would; ``wrk -t2 -c16 --latency`` gives the requests per second and the 50th and 99th latency percentiles.

The floor is measured again right before each hengqi route (the ``FastAPI floor`` row above it), and each ratio is
to that run: on a machine shared with other work the load moves within seconds, and a floor measured once at the
start made the later ratios drift by 2x.  ``x floor`` is the ratio to the floor in one process (the issue's
definition); when hengqi serves with several worker processes (its default on a machine of several cores,
:func:`hengqi.server.settings.default_workers`), the floor is also run with as many (the ``FastAPI floor xN`` row)
and ``x same`` is the ratio to it: how much of the framework's speed each process keeps.

``main(short=True)`` (CI) runs the floor, the authenticated read and the health probe for 1 s each and checks only
that every answer was a 2xx and the figures are positive; the full run
(``python bench/bench_throughput.py [--workers N] [--seconds S] [--pg]``) runs every route for 8 s.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import httpx
import psycopg
from sqlalchemy import insert

from hengqi.server.admin import create_admin, open_database
from hengqi.server.db.models import Instrument
from hengqi.server.settings import Settings, default_workers

LAUNCH = "import sys; from hengqi.cli import main; sys.argv[0] = 'hengqi'; main()"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "bench-password-long-enough"
INSTRUMENTS = 500

#: The floor: FastAPI's own cost for one sync route returning a small JSON object, served by uvicorn with the
#: event loop and HTTP parser ``hengqi serve`` uses (a module, so that uvicorn's worker processes can import it).
FLOOR_MODULE = textwrap.dedent(
    """
    from fastapi import FastAPI
    from hengqi.server.runtime import settle_heap

    app = FastAPI()

    @app.get("/item/{item_id}")
    def item(item_id: int) -> dict[str, object]:
        return {"id": item_id, "make": "Acme", "model": "Counter 15", "accuracy_class": "III"}

    settle_heap()  # as hengqi serve does
    """
)
#: ``python -c FLOOR_LAUNCH PORT FOLDER WORKERS``: the floor module of FOLDER served by uvicorn.
FLOOR_LAUNCH = textwrap.dedent(
    """
    import sys
    import uvicorn
    from hengqi.server.runtime import SERVER_HTTP, SERVER_LOOP

    sys.path.insert(0, sys.argv[2])
    uvicorn.run(
        "hengqi_floor:app",
        host="127.0.0.1",
        port=int(sys.argv[1]),
        workers=int(sys.argv[3]),
        log_level="warning",
        access_log=False,
        loop=SERVER_LOOP,
        http=SERVER_HTTP,
    )
    """
)

_LATENCY = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_ERRORS = re.compile(r"Socket errors:.*")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


class Figure(NamedTuple):
    target: str
    route: str
    rps: float
    p50_ms: float
    p99_ms: float
    floor_rps: float  # the floor measured just before this row: the load of a shared machine moves within a run
    same_rps: float | None = None  # the floor with as many processes as hengqi's, when it runs several


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_up(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"no answer from {url}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wrk(url: str, *, seconds: float, headers: dict[str, str], connections: int = 16) -> tuple[float, float, float]:
    """Requests per second, p50 and p99 in ms of ``wrk -t2 -c<connections> --latency`` against ``url``; raises if
    any answer was not a 2xx or a socket failed."""
    args = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    bad = _NON_2XX.search(out)
    if bad:
        raise RuntimeError(f"{bad.group(1)} answers were not 2xx from {url}")
    errors = _ERRORS.search(out)
    if errors and "timeout 0" not in errors.group(0):
        raise RuntimeError(f"wrk {errors.group(0)} against {url}")
    rate = _RATE.search(out)
    latency = {match[0]: float(match[1]) * _UNIT_MS[match[2]] for match in _LATENCY.findall(out)}
    if rate is None or set(latency) != {"50", "99"}:
        raise RuntimeError(f"cannot read wrk's output: {out!r}")
    return float(rate.group(1)), latency["50"], latency["99"]


def _seed(settings: Settings) -> None:
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
        for index in range(INSTRUMENTS)
    ]
    with database.write_session() as session:
        session.execute(insert(Instrument), rows)
        session.commit()
    database.dispose()


@contextmanager
def _floor(workdir: Path, workers: int = 1) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    (workdir / "hengqi_floor.py").write_text(FLOOR_MODULE, encoding="utf-8")
    log = (workdir / f"floor-{workers}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", FLOOR_LAUNCH, str(port), str(workdir), str(workers)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        yield base, process  # started, not yet waited for: it comes up while the hengqi store is seeded
    finally:
        _stop(process)
        log.close()


@contextmanager
def _hengqi(workdir: Path, backend: str, database_url: str | None, workers: int | None) -> Iterator[tuple[str, str]]:
    data_dir = workdir / backend
    _seed(Settings(env="test", data_dir=data_dir, database_url=database_url))
    port = _free_port()
    args = [sys.executable, "-c", LAUNCH, "serve", "--port", str(port), "--data-dir", str(data_dir)]
    if database_url:
        args += ["--database-url", database_url]
    if workers is not None:
        args += ["--workers", str(workers)]
    log = (workdir / f"{backend}.log").open("wb")
    process = subprocess.Popen([*args, "--log-level", "warning"], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(f"{base}/api/v1/health", process)
        with httpx.Client(base_url=base, timeout=30) as client:
            token = sign_in_token(client)
        yield base, token
    finally:
        _stop(process)
        log.close()


def sign_in_token(client: httpx.Client) -> str:
    """Sign ``client`` in as the bench's administrator (its session cookie kept) and make an API token."""
    login = client.post("/api/v1/auth/login", json={"username": "bench", "password": PASSWORD})
    login.raise_for_status()
    made = client.post(
        "/api/v1/auth/tokens", json={"name": "bench"}, headers={"X-CSRF-Token": login.json()["csrf_token"]}
    )
    made.raise_for_status()
    return str(made.json()["token"])


def _routes(token: str, *, short: bool) -> list[tuple[str, str, dict[str, str]]]:
    bearer = {"Authorization": f"Bearer {token}"}
    if short:  # a sanity check: the authenticated read and the probe
        return [
            ("GET /api/v1/instruments/{id} (Bearer)", f"/api/v1/instruments/{INSTRUMENTS // 2}", bearer),
            ("GET /api/v1/health", "/api/v1/health", {}),
        ]
    return [
        ("GET /api/v1/instruments/{id} (Bearer)", f"/api/v1/instruments/{INSTRUMENTS // 2}", bearer),
        ("GET /api/v1/instruments?limit=50 (Bearer)", "/api/v1/instruments?limit=50", bearer),
        ("GET /api/v1/health", "/api/v1/health", {}),
        ("GET /api/v1/openapi.json", "/api/v1/openapi.json", {}),
    ]


def _measure_routes(
    backend: str, base: str, token: str, floor: str, same: tuple[str, int] | None, *, seconds: float, short: bool
) -> list[Figure]:
    """Each route right after the floor (and the floor with as many processes, ``same``), so that each ratio
    compares runs a few seconds apart."""
    figures: list[Figure] = []
    routes = _routes(token, short=short)
    # warm-up: first-call work (openapi.json is rendered once per process) is not what the runs measure; each
    # request on a new connection, so that every worker process gets some
    with httpx.Client(base_url=base, timeout=60) as client:
        for _label, path, headers in routes:
            for _ in range(4 if short else 12):
                client.get(path, headers={**headers, "Connection": "close"}).raise_for_status()
    same_rps: float | None = None
    for label, path, headers in routes:
        if not (short and figures):  # the short run (CI, 20 s in all) measures the floors once
            floor_rps, p50, p99 = wrk(f"{floor}/item/3", seconds=seconds, headers={})
            figures.append(Figure("FastAPI floor", "GET /item/3", floor_rps, p50, p99, floor_rps))
            if same is not None:
                same_rps, p50, p99 = wrk(f"{same[0]}/item/3", seconds=seconds, headers={})
                figures.append(Figure(f"FastAPI floor x{same[1]}", "GET /item/3", same_rps, p50, p99, floor_rps))
        rps, p50, p99 = wrk(f"{base}{path}", seconds=seconds, headers=headers)
        figures.append(Figure(f"hengqi {backend}", label, rps, p50, p99, floor_rps, same_rps))
    return figures


def measure(*, seconds: float, workers: int | None, postgres: bool, short: bool = False) -> list[Figure]:
    """Hengqi's routes on SQLite (and PostgreSQL), each under ``wrk`` for ``seconds`` right after the floor."""
    workdir = Path(tempfile.mkdtemp(prefix="hengqi-throughput-"))
    figures: list[Figure] = []
    name = f"hengqi_throughput_{secrets.token_hex(4)}"
    backends: list[tuple[str, str | None]] = [("sqlite", None)]
    if postgres:
        backends.append(("postgresql", f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"))
        with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    try:
        # the floors' processes start while hengqi's store is seeded and its server starts; they are measured one
        # after the other, route by route, once all are up
        processes = workers if workers is not None else default_workers()
        with contextlib.ExitStack() as stack:
            floor, process = stack.enter_context(_floor(workdir))
            floors = [(floor, process)]
            same: tuple[str, int] | None = None
            if processes > 1:
                same_base, same_process = stack.enter_context(_floor(workdir, processes))
                floors.append((same_base, same_process))
                same = (same_base, processes)
            for backend, url in backends:
                with _hengqi(workdir, backend, url, workers) as (base, token):
                    for up, up_process in floors:
                        _wait_up(f"{up}/item/1", up_process)
                    figures += _measure_routes(backend, base, token, floor, same, seconds=seconds, short=short)
    finally:
        if postgres:
            with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
                connection.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
                connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        shutil.rmtree(workdir, ignore_errors=True)
    return figures


def report(figures: list[Figure], *, seconds: float, workers: int | None, load_before: tuple[float, ...]) -> None:
    load = os.getloadavg()
    print(
        f"wrk -t2 -c16 -d{max(1, round(seconds))}s --latency on loopback; hengqi serve "
        f"--workers {workers if workers is not None else f'(default: {default_workers()})'}; {os.cpu_count()} CPUs; "
        f"load average (1, 5, 15 min) before {' '.join(f'{x:.2f}' for x in load_before)}, "
        f"after {' '.join(f'{x:.2f}' for x in load)}"
    )
    print(f"{'target':<18} {'route':<42} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'x floor':>8} {'x same':>7}")
    for f in figures:
        ratio = f.rps / f.floor_rps if f.floor_rps else float("nan")
        same = f"{f.rps / f.same_rps:>7.2f}" if f.same_rps else f"{'':>7}"
        print(f"{f.target:<18} {f.route:<42} {f.rps:>8.0f} {f.p50_ms:>8.1f} {f.p99_ms:>8.1f} {ratio:>8.2f} {same}")


def main(short: bool) -> None:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (bash scripts/ensure-system-packages.sh installs it)")
    seconds = 1.0 if short else float(_option("--seconds") or 8)
    workers = None if short else _option("--workers")
    load_before = os.getloadavg()
    figures = measure(seconds=seconds, workers=workers, postgres="--pg" in sys.argv and not short, short=short)
    report(figures, seconds=seconds, workers=workers, load_before=load_before)
    bad = [f for f in figures if not f.rps > 0 or not f.p99_ms > 0]
    if bad:
        raise RuntimeError(f"no throughput measured for {bad[0].target} {bad[0].route}")


def _option(name: str) -> int | None:
    if name in sys.argv:
        return int(sys.argv[sys.argv.index(name) + 1])
    return None


if __name__ == "__main__":
    main(short="--short" in sys.argv)
