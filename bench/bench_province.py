"""Regulator statistics of a synthetic province: every standard report recomputed embedded (DuckDB in this
process) and on Dask (a LocalCluster of worker processes, 1 and 2 workers of one thread), peak memory of the
process tree, equality of the numbers, and the dashboard page's latency on the kept (precomputed) results.

The province is :func:`hengqi.supervision.province.synthetic_province` (seed 15): instruments in 12 regions,
one year of verifications, remote check-weighings counted per instrument and month, and alerts, written as
Parquet partitions by region and month (:mod:`hengqi.server.analytics.partitions`).  "Every statistic" is
:data:`hengqi.server.analytics.definitions.STANDARD_REPORTS` (26 reports: pass rate by 8 groupings, overdue rate
by 5, alarm rates, time to re-verify; the grouped proportions with their funnel flags).

Targets (issue 15/16): 1 000 000 instruments recomputed in <= 15 min with <= 8 GiB; the dashboard page p95 <= 2 s.
``main(short=True)``: 2 000 instruments in 1 region, Dask in threads (no worker processes), 20 page requests;
under 20 s on a loaded machine; the targets are reported, not asserted; the equality of the numbers is asserted.
Full: ``--instruments 1000000`` (default); ``--cpu-only``: the CPU seconds of the Dask tasks (one worker in
threads), the input of the cluster extrapolation in ``docs/scale-out.md``.
Command: ``.venv/bin/python bench/bench_province.py [--short] [--instruments N] [--cpu-only]`` (or
``bench/run.py --only province``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

from hengqi.server.analytics.definitions import STANDARD_REPORTS
from hengqi.server.analytics.engines import compute
from hengqi.server.analytics.partitions import partitions, write_province
from hengqi.server.analytics.target import ComputeTarget
from hengqi.supervision.province import synthetic_province

SEED = 15
PASSWORD = "bench-password-province"


class PeakMemory:
    """Samples the resident memory of this process and its children (Dask workers) every 0.1 s."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        me = psutil.Process()
        total = 0
        for p in [me, *me.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(0.1)

    def __enter__(self) -> PeakMemory:
        self.peak = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _timed(label: str, rows: list[tuple[str, float, float]], run: Callable[[], Any]) -> Any:
    with PeakMemory() as mem:
        started = time.perf_counter()
        out = run()
        elapsed = time.perf_counter() - started
    rows.append((label, elapsed, mem.peak / 2**30))
    print(f"  {label:<46} {elapsed:9.1f} s  peak RSS {mem.peak / 2**30:6.2f} GiB", flush=True)
    return out


@contextmanager
def _cluster(workers: int, processes: bool) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
            memory_limit=0,
            silence_logs=40,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _dashboard_p95(root: Path, as_of: Any, requests: int, workdir: Path) -> tuple[float, float, float]:
    """First (computing) page and p50/p95 of the next ``requests`` pages for a regulator granted every
    organisation of the province, served in-process from the kept results."""
    import duckdb
    import numpy as np
    from fastapi.testclient import TestClient

    from hengqi.server.app import create_app
    from hengqi.server.permissions import Role
    from hengqi.server.schemas.accounts import UserCreate
    from hengqi.server.schemas.registry import OrganisationCreate
    from hengqi.server.services import accounts
    from hengqi.server.settings import Settings

    pattern = str(root / "instruments" / "*" / "*.parquet")
    orgs = [
        r[0]
        for r in duckdb.sql(
            f"SELECT DISTINCT organisation FROM read_parquet('{pattern}', hive_partitioning = false)"
        ).fetchall()
    ]
    settings = Settings(env="test", data_dir=workdir / "server", province_dir=root)
    app = create_app(settings)
    database = app.state.hengqi.database
    with database.write_session() as session:
        ids = [accounts.create_organisation(session, accounts.SYSTEM, OrganisationCreate(name=f"Org {o}")).id
               for o in range(1, max(orgs) + 2)]  # fmt: skip
        user = accounts.create_user(
            session,
            accounts.SYSTEM,
            UserCreate(username="inspector", password=PASSWORD, role=Role.REGULATOR, organisation_id=ids[-1]),
        )
        session.flush()
        for org in ids[:-1]:
            accounts.grant_regulator(session, accounts.SYSTEM, user.id, org)
        session.commit()
    client = TestClient(app)
    page = client.get("/web/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert token is not None
    client.post("/web/login", data={"username": "inspector", "password": PASSWORD, "login_csrf": token.group(1)})
    reports = ("pass_rate:region", "pass_rate:site", "overdue_rate:region", "alarms_per_1000:region")
    pages = [f"/web/statistics/province?report={r}&as_of={as_of.isoformat()}" for r in reports]
    started = time.perf_counter()
    for p in pages:
        first = client.get(p)
        assert first.status_code == 200, first.text[:300]
        assert "province-table" in first.text, first.text[:300]
    first_s = time.perf_counter() - started
    times = []
    for n in range(requests):
        started = time.perf_counter()
        answer = client.get(pages[n % len(pages)])
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200
    client.close()
    app.state.hengqi.close()
    return first_s, float(np.percentile(times, 50)), float(np.percentile(times, 95))


def _cpu_seconds(root: Path, as_of: Any, grain: str) -> tuple[float, float, float]:
    """CPU seconds (user + system, this process) of the Dask tasks with one worker in threads (the work a
    cluster shares out), of the caller's combination and finalisation (serial), and the wall seconds."""
    import resource

    from hengqi.server.analytics import definitions, engines

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    specs = definitions.needed(STANDARD_REPORTS)
    with _cluster(1, processes=False) as client:
        t0, started = cpu(), time.perf_counter()
        totals = engines._on_dask(client, root, specs=specs, as_of=as_of, organisations=None, grain=grain)
        t1 = cpu()
        definitions.reports(STANDARD_REPORTS, totals)
        t2, wall = cpu(), time.perf_counter() - started
    return t1 - t0, t2 - t1, wall


def main(short: bool = False, instruments: int | None = None, cpu_only: bool = False) -> None:
    n = instruments or (2_000 if short else 1_000_000)
    regions = 1 if short else 12
    workdir = Path(tempfile.mkdtemp(prefix="hengqi-province-"))
    root = workdir / "province"
    rows: list[tuple[str, float, float]] = []
    try:
        load = os.getloadavg()
        print(f"province: {n} instruments, {regions} regions, seed {SEED}; load average {load[0]:.1f} "
              f"{load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores", flush=True)  # fmt: skip
        made = [_timed("generate (numpy)", rows, lambda: synthetic_province(n, seed=SEED, regions=regions))]
        sizes = {k: len(v["instrument_id"]) for k, v in made[0].tables().items()}
        _timed("write Parquet partitions", rows, lambda: write_province(made[0], root))
        made.clear()  # the tables leave memory before the statistics are measured
        on_disk = sum(f.stat().st_size for f in root.rglob("*.parquet"))
        print(f"  rows {sizes}; {on_disk / 2**20:.1f} MiB in {len(list(root.rglob('*.parquet')))} files; "
              f"{len(partitions(root, 'region'))} region tasks, {len(partitions(root, 'region-month'))} "
              "region-month partitions", flush=True)  # fmt: skip
        as_of = __import__("datetime").date(2027, 1, 1)
        if cpu_only:
            for grain in ("region", "region-month"):
                tasks, final, wall = _cpu_seconds(root, as_of, grain)
                print(f"  CPU by {grain}: tasks and combine {tasks:.1f} s, finalise {final:.1f} s (wall {wall:.1f} s)",
                      flush=True)  # fmt: skip
            return
        reference = _timed(
            f"embedded DuckDB, {len(STANDARD_REPORTS)} reports",
            rows,
            lambda: compute(root, STANDARD_REPORTS, as_of=as_of, target=ComputeTarget("embedded")),
        )
        runs = [(1, "region"), (2, "region")] + ([] if short else [(2, "region-month")])
        for workers, grain in runs:
            kind = "threads" if short else "processes"

            def on_dask(workers: int = workers, grain: str = grain) -> Any:
                with _cluster(workers, processes=not short) as client:
                    started = time.perf_counter()
                    out = compute(root, STANDARD_REPORTS, as_of=as_of, client=client, grain=grain)
                    print(f"    (of which computing {time.perf_counter() - started:.1f} s)", flush=True)
                    return out

            got = _timed(f"Dask {workers} worker(s) ({kind}), tasks by {grain}", rows, on_dask)
            assert got == reference, f"Dask ({workers} workers, {grain}) differs from the embedded numbers"
        print("  Dask numbers == embedded numbers: every report, bit for bit", flush=True)
        first, p50, p95 = _dashboard_p95(root, as_of, 20 if short else 100, workdir)
        print(f"  dashboard: first 4 pages (computing) {first:.1f} s; next pages p50 {p50 * 1000:.0f} ms, "
              f"p95 {p95 * 1000:.0f} ms (target <= 2000 ms)", flush=True)  # fmt: skip
        worst = max(r[2] for r in rows)
        embedded = next(r for r in rows if r[0].startswith("embedded"))
        print(f"  targets: embedded recompute {embedded[1]:.1f} s (<= 900 s), peak RSS {worst:.2f} GiB (<= 8 GiB), "
              f"page p95 {p95 * 1000:.0f} ms (<= 2000 ms)", flush=True)  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--short", action="store_true")
    parser.add_argument("--instruments", type=int, default=None)
    parser.add_argument("--cpu-only", action="store_true", help="only the CPU seconds of the Dask tasks")
    args = parser.parse_args()
    main(short=args.short, instruments=args.instruments, cpu_only=args.cpu_only)
