"""CPU of the server process per request, through the ASGI app in process (no HTTP server, no load generator).

``wrk`` figures on a shared 2-core machine move by 2x from run to run; the CPU a request costs the process moves
far less, so this is the figure to compare two versions of the code by (run both, alternately, on one machine).
The app is built as ``hengqi serve`` builds it (500 instruments as in ``bench_throughput.py``, a Bearer token),
then called directly 3 000 times, ``CONCURRENCY`` at once, on uvloop; printed: µs of process CPU per request
(all threads), split into the event loop's thread and the worker threads, and requests per second.

Command: ``.venv/bin/python bench/asgi_cpu.py {sqlite|postgresql} [CONCURRENCY] [item|list]``
"""

from __future__ import annotations

import asyncio
import collections
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
import uvloop
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_throughput

from hengqi.server.app import create_app
from hengqi.server.db.models import User
from hengqi.server.permissions import Principal, Role
from hengqi.server.schemas.accounts import TokenCreate
from hengqi.server.services import accounts
from hengqi.server.settings import Settings

REQUESTS = 3000


def _thread_cpu() -> dict[str, tuple[str, float]]:
    found = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
            name = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
        except OSError:
            continue
        found[tid] = (name, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
    return found


def main(backend: str, concurrency: int, route: str) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="hengqi-asgi-cpu-"))
    name = f"hengqi_asgi_cpu_{secrets.token_hex(4)}"
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}" if backend == "postgresql" else None
    if url:
        with psycopg.connect(bench_throughput.PG_ADMIN, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    try:
        settings = Settings(env="test", data_dir=workdir / "data", database_url=url)  # type: ignore[arg-type]
        bench_throughput._seed(settings)
        app = create_app(settings)
        database = app.state.hengqi.database
        with database.write_session() as session:
            user = session.scalars(select(User)).one()
            principal = Principal(user.id, user.username, Role(user.role), user.organisation_id)
            _row, token = accounts.create_token(session, principal, TokenCreate(name="bench"))
            session.commit()
        path, query = ("/api/v1/instruments/250", b"") if route == "item" else ("/api/v1/instruments", b"limit=50")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query,
            "root_path": "",
            "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }

        async def one() -> None:
            status: list[int] = []

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    status.append(message["status"])

            await app(dict(scope, state={}), receive, send)
            if status != [200]:
                raise RuntimeError(f"{path}: {status}")

        async def run() -> None:
            for _ in range(300):  # warm-up
                await one()
            before, cpu, wall = _thread_cpu(), time.process_time(), time.perf_counter()

            async def client() -> None:
                for _ in range(REQUESTS // concurrency):
                    await one()

            await asyncio.gather(*(client() for _ in range(concurrency)))
            cpu, wall, after = time.process_time() - cpu, time.perf_counter() - wall, _thread_cpu()
            done = REQUESTS // concurrency * concurrency
            split: collections.Counter[str] = collections.Counter()
            for tid, (thread, seconds) in after.items():
                split["event loop" if tid == str(os.getpid()) else "worker threads"] += (
                    seconds - before.get(tid, (thread, 0.0))[1]
                )
            parts = ", ".join(f"{key} {1e6 * value / done:.0f}" for key, value in sorted(split.items()))
            print(
                f"{backend} {route} x{concurrency}: {1e6 * cpu / done:.0f} µs CPU a request ({parts}), "
                f"{done / wall:.0f} req/s"
            )

        uvloop.run(run())
        database.dispose()
    finally:
        if url:
            with psycopg.connect(bench_throughput.PG_ADMIN, autocommit=True) as connection:
                connection.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")  # type: ignore[arg-type]
                connection.execute(f'DROP DATABASE IF EXISTS "{name}"')  # type: ignore[arg-type]
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 16, sys.argv[3] if len(sys.argv) > 3 else "item")
