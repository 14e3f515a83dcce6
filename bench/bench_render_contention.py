"""The reads' latency while long renders run, with the renders in the serving process and in a rendering process.

Issue 19 asked for long work off the request workers; :mod:`hengqi.server.rendering` sends certificate PDFs,
label sheets, XLSX exports and imports and the statistics downloads to a process of their own (the setting
``render_processes``).  This bench measures what that is for: a real ``hengqi serve`` process on loopback (SQLite,
one worker process, so that the renders and the reads share it) serves the authenticated item read
(``GET /api/v1/instruments/{id}`` with a Bearer token) under ``wrk -t2 -c16 --latency`` while a client thread asks
for label sheets of 500 instruments (``GET /web/labels.pdf``, each label with its certificate's QR code: about 5 s
of CPU a sheet when rendered in place, measured in process), one after the other, for as long as ``wrk`` runs.
Rows, for ``render_processes`` 0 (in place) and 1 (the default): the read alone, then the read during the
renders.

``main(short=True)`` (CI) renders sheets of 10 instruments and runs ``wrk`` for 1 s, checking only that every
answer was a 2xx; the full run is ``python bench/bench_render_contention.py [--seconds S]`` (default 10).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_throughput
from bench_throughput import INSTRUMENTS, LAUNCH, wrk
from sqlalchemy import insert, select

from hengqi.server.admin import open_database
from hengqi.server.db.models import Certificate, Instrument, User
from hengqi.server.settings import Settings


class Row(NamedTuple):
    render_processes: int
    load: str
    renders: int
    render_s: float
    rps: float
    p50_ms: float
    p99_ms: float


@contextmanager
def _server(workdir: Path, render_processes: int) -> Iterator[tuple[httpx.Client, str]]:
    """``hengqi serve --workers 1`` on the seeded store with ``render_processes``; a signed-in client (its session
    cookie reaches the web pages) and a Bearer token."""
    data_dir = workdir / "sqlite"
    port = bench_throughput._free_port()
    args = [sys.executable, "-c", LAUNCH, "serve", "--port", str(port), "--data-dir", str(data_dir), "--workers", "1"]
    env = {**os.environ, "HENGQI_RENDER_PROCESSES": str(render_processes)}
    log = (workdir / f"serve-{render_processes}.log").open("wb")
    process = subprocess.Popen([*args, "--log-level", "warning"], stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        bench_throughput._wait_up(f"{base}/api/v1/health", process)
        with httpx.Client(base_url=base, timeout=120) as client:
            yield client, bench_throughput.sign_in_token(client)
    finally:
        bench_throughput._stop(process)
        log.close()


def _seed(settings: Settings) -> None:
    """The throughput bench's store, and an issued certificate for each instrument, so that each label carries
    the QR code of its certificate's verification link (rows written directly: the bench reads them only)."""
    bench_throughput._seed(settings)
    database = open_database(settings)
    with database.write_session() as session:
        admin = session.scalars(select(User).where(User.username == "bench")).one()
        instruments = session.scalars(select(Instrument.id).order_by(Instrument.id)).all()
        issued = datetime(2026, 1, 5, 9, 0, tzinfo=UTC).replace(tzinfo=None)
        rows = [
            {
                "organisation_id": admin.organisation_id,
                "number": f"BENCH-{key:06d}",
                "kind": "calibration",
                "instrument_id": key,
                "status": "issued",
                "created_by_id": admin.id,
                "issued_by_id": admin.id,
                "issued_at": issued,
            }
            for key in instruments
        ]
        session.execute(insert(Certificate), rows)
        session.commit()
    database.dispose()


def _sheet(client: httpx.Client, query: str) -> float:
    """Seconds to get one label sheet (raises unless it is a PDF)."""
    started = time.perf_counter()
    answer = client.get(f"/web/labels.pdf?size=L7160{query}")
    answer.raise_for_status()
    if not answer.content.startswith(b"%PDF-"):
        raise RuntimeError(f"/web/labels.pdf answered {answer.headers.get('content-type')}, not a PDF")
    return time.perf_counter() - started


def _rows(client: httpx.Client, token: str, render_processes: int, *, seconds: float, query: str) -> list[Row]:
    url = f"{str(client.base_url).rstrip('/')}/api/v1/instruments/{INSTRUMENTS // 2}"
    bearer = {"Authorization": f"Bearer {token}"}
    _sheet(client, query)  # warm-up: the rendering process's imports, the fonts
    for _ in range(20):
        client.get(url, headers=bearer).raise_for_status()
    rps, p50, p99 = wrk(url, seconds=seconds, headers=bearer)
    rows = [Row(render_processes, "read alone", 0, 0.0, rps, p50, p99)]
    stop = threading.Event()
    took: list[float] = []
    failures: list[BaseException] = []

    def render() -> None:
        try:
            while not stop.is_set():
                took.append(_sheet(client, query))
        except BaseException as err:  # reported after wrk, with the row
            failures.append(err)

    thread = threading.Thread(target=render, name="label-sheets")
    thread.start()
    time.sleep(0.5)  # the first render under way
    try:
        rps, p50, p99 = wrk(url, seconds=seconds, headers=bearer)
    finally:
        stop.set()
        thread.join()
    if failures:
        raise RuntimeError(f"a label sheet failed: {failures[0]!r}")
    mean = sum(took) / len(took) if took else float("nan")
    rows.append(Row(render_processes, "read during label sheets", len(took), mean, rps, p50, p99))
    return rows


def measure(*, seconds: float, short: bool) -> list[Row]:
    workdir = Path(tempfile.mkdtemp(prefix="hengqi-render-contention-"))
    query = "&q=B00000" if short else ""  # 10 instruments, or all 500
    rows: list[Row] = []
    try:
        _seed(Settings(env="test", data_dir=workdir / "sqlite"))
        for render_processes in (0, 1):
            with _server(workdir, render_processes) as (client, token):
                rows += _rows(client, token, render_processes, seconds=seconds, query=query)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def report(rows: list[Row], *, seconds: float, load_before: tuple[float, ...]) -> None:
    load = os.getloadavg()
    print(
        f"hengqi serve --workers 1 (SQLite, {INSTRUMENTS} instruments); wrk -t2 -c16 -d{max(1, round(seconds))}s "
        f"--latency on the Bearer item read; {os.cpu_count()} CPUs; load average (1, 5, 15 min) before "
        f"{' '.join(f'{x:.2f}' for x in load_before)}, after {' '.join(f'{x:.2f}' for x in load)}"
    )
    print(
        f"{'render_processes':>16} {'load':<26} {'sheets':>6} {'s/sheet':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
    )
    for r in rows:
        sheet = f"{r.render_s:>8.2f}" if r.renders else f"{'':>8}"
        print(
            f"{r.render_processes:>16} {r.load:<26} {r.renders:>6} {sheet} {r.rps:>8.0f} {r.p50_ms:>8.1f} "
            f"{r.p99_ms:>8.1f}"
        )


def main(short: bool) -> None:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (bash scripts/ensure-system-packages.sh installs it)")
    seconds = 1.0 if short else float(bench_throughput._option("--seconds") or 10)
    load_before = os.getloadavg()
    rows = measure(seconds=seconds, short=short)
    report(rows, seconds=seconds, load_before=load_before)
    bad = [r for r in rows if not r.rps > 0 or not r.p99_ms > 0 or (r.load != "read alone" and not r.renders)]
    if bad:
        raise RuntimeError(f"nothing measured for render_processes {bad[0].render_processes}, {bad[0].load}")


if __name__ == "__main__":
    main(short="--short" in sys.argv)
