"""``hengqi serve --workers 2``: two server processes on one port share the store, the sessions, the tokens and the
audit chain; killing every process (SIGKILL) during a burst of writes loses no acknowledged write."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from tests.server.conftest import INSTRUMENT, Store
from tests.server.live import LiveServer, login_token

from hengqi.server.admin import create_admin, open_database, verify_audit
from hengqi.server.db.models import Instrument
from hengqi.server.settings import DEFAULT_WORKERS_MAX, Settings, default_workers, load_settings

PASSWORD = "a-long-admin-password"
FRESH = {"Connection": "close"}  # a new connection per request, so that the kernel hands requests to either worker


def _workers(server: LiveServer) -> list[int]:
    """The worker processes serving requests (children of the supervisor running the app factory)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == server.process.pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def _start(store: Store) -> LiveServer:
    database = open_database(store.settings(), migrate=True)
    create_admin(database, username="root", password=PASSWORD, organisation="Lab")
    database.dispose()
    server = LiveServer(store.data_dir, store.database_url, "--workers", "2")
    assert server.wait_healthy(timeout_s=120).status_code == 200
    deadline = time.monotonic() + 60
    while len(_workers(server)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    return server


def _kill_all(server: LiveServer, workers: list[int]) -> None:
    for pid in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    server.kill()


@pytest.mark.slow
def test_two_workers_share_tokens_sessions_and_the_audit_chain(store: Store) -> None:
    server = _start(store)
    workers = _workers(server)
    try:
        assert len(workers) == 2
        headers = login_token(server.base, "root", PASSWORD)
        made: list[int] = []
        failures: list[str] = []

        def writer(worker: int) -> None:
            for index in range(6):
                answer = httpx.post(
                    f"{server.base}/api/v1/instruments",
                    json={**INSTRUMENT, "serial": f"P{worker}-{index}"},
                    headers={**headers, **FRESH},
                    timeout=60,
                )
                if answer.status_code == 201:
                    made.append(answer.json()["id"])
                else:
                    failures.append(f"{answer.status_code} {answer.text[:200]}")

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert failures == []
        assert len(made) == 24
        # every worker reads what any worker wrote
        for key in made:
            assert httpx.get(f"{server.base}/api/v1/instruments/{key}", headers={**headers, **FRESH}).status_code == 200

        # a browser session ended by one worker is over in every worker
        with httpx.Client(base_url=server.base, timeout=30) as browser:
            signed = browser.post("/api/v1/auth/login", json={"username": "root", "password": PASSWORD})
            assert signed.status_code == 200
            cookies = dict(browser.cookies)
            assert (
                browser.post("/api/v1/auth/logout", headers={"X-CSRF-Token": signed.json()["csrf_token"]}).status_code
                == 204
            )
        answers = {
            httpx.get(f"{server.base}/api/v1/auth/me", cookies=cookies, headers=FRESH).status_code for _ in range(12)
        }
        assert answers == {401}

        # a revoked token is refused by every worker at once
        tokens = httpx.get(f"{server.base}/api/v1/auth/tokens", headers=headers).json()
        revoked = httpx.delete(f"{server.base}/api/v1/auth/tokens/{tokens[-1]['id']}", headers={**headers, **FRESH})
        assert revoked.status_code == 200
        answers = {
            httpx.get(f"{server.base}/api/v1/auth/me", headers={**headers, **FRESH}).status_code for _ in range(12)
        }
        assert answers == {401}

        # the sign-in throttle counts for the host: 5 failures of a name, whichever worker answered, lock it in both
        guesses = [
            httpx.post(
                f"{server.base}/api/v1/auth/login",
                json={"username": "guessed", "password": f"wrong-{n}"},
                headers=FRESH,
                timeout=60,
            ).status_code
            for n in range(12)
        ]
        assert guesses == [401] * 5 + [429] * 7
        assert (store.data_dir / "run" / "signin-throttle.sqlite3").exists()
    finally:
        server.stop()
    database = open_database(store.settings())
    assert verify_audit(database).entries >= len(made)
    database.dispose()


@pytest.mark.slow
def test_sigkill_of_every_worker_loses_no_acknowledged_write(store: Store) -> None:
    server = _start(store)
    workers = _workers(server)
    try:
        assert len(workers) == 2
        headers = login_token(server.base, "root", PASSWORD)
        acknowledged: list[tuple[int, str]] = []
        lock = threading.Lock()
        stop = threading.Event()

        def writer(worker: int) -> None:
            index = 0
            while not stop.is_set():
                serial = f"K{worker}-{index}"
                index += 1
                try:
                    answer = httpx.post(
                        f"{server.base}/api/v1/instruments",
                        json={**INSTRUMENT, "serial": serial},
                        headers={**headers, **FRESH},
                        timeout=10,
                    )
                except httpx.TransportError:
                    return  # the server died mid-request: this write was never acknowledged
                if answer.status_code == 201:
                    with lock:
                        acknowledged.append((answer.json()["id"], serial))

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(acknowledged) < 60:
            time.sleep(0.05)
        _kill_all(server, workers)  # SIGKILL to both workers and the supervisor while the writers still send
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        _kill_all(server, workers)
    assert len(acknowledged) >= 20, "the burst did not get going"
    database = open_database(store.settings())
    with database.read_session() as session:
        stored = dict(session.execute(select(Instrument.id, Instrument.serial)).all())
    lost = [(key, serial) for key, serial in acknowledged if stored.get(key) != serial]
    assert lost == []
    assert verify_audit(database).entries >= len(acknowledged)
    database.dispose()


def test_default_workers_is_one_per_core_at_most_two(monkeypatch: pytest.MonkeyPatch) -> None:
    for cores, expected in (({0}, 1), ({0, 1}, 2), (set(range(16)), DEFAULT_WORKERS_MAX)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid, cores=cores: cores)
        assert default_workers() == expected
        assert Settings().workers == expected
        monkeypatch.setenv("HENGQI_WORKERS", "1")  # the environment, then the command line, say otherwise
        assert Settings().workers == 1
        assert load_settings(workers=3).workers == 3
        monkeypatch.delenv("HENGQI_WORKERS")


@pytest.mark.slow
def test_serve_without_workers_runs_the_default_number_of_processes(tmp_path: Path) -> None:
    """``hengqi serve`` as ``make run`` starts it (no --workers, no HENGQI_WORKERS): one worker per core, at most
    two; every request answered whichever process takes it."""
    expected = default_workers()
    server = LiveServer(tmp_path / "data", None, one_process=False)
    workers: list[int] = []
    try:
        assert server.wait_healthy(timeout_s=120).status_code == 200
        deadline = time.monotonic() + 60
        while expected > 1 and len(_workers(server)) < expected and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = _workers(server)
        assert len(workers) == (expected if expected > 1 else 0)  # one process serves by itself
        answers = [httpx.get(f"{server.base}/api/v1/health", headers=FRESH, timeout=10).status_code for _ in range(20)]
        assert answers == [200] * 20
        server.process.kill()  # SIGKILL of the supervisor alone: its workers end too, and free the port
        server.process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{server.base}/api/v1/health", timeout=5)
    finally:
        _kill_all(server, workers)
    if expected > 1:
        assert f"{expected} worker processes" in server.log.read_text()


SUPERVISOR = """
import multiprocessing, os, sys, time


def worker(path):
    time.sleep(1.0)  # the worker's imports, during which its supervisor dies
    from hengqi.server.workers import end_with_the_supervisor

    end_with_the_supervisor()
    with open(path, "w") as out:
        out.write("serving alone")
    time.sleep(60)


if __name__ == "__main__":
    process = multiprocessing.get_context("spawn").Process(target=worker, args=(sys.argv[1],))
    process.start()
    with open(sys.argv[2], "w") as out:
        out.write(str(process.pid))
    os._exit(0)  # gone before the worker asked to end with it
"""


def test_a_worker_whose_supervisor_died_during_its_start_ends(tmp_path: Path) -> None:
    """A supervisor killed while its worker is still starting (before the worker asks for the parent-death
    signal): the worker ends at once.  The first version read the parent's pid at the call, by then init's, and
    the worker went on alone (seen as workers left serving after `hengqi serve --workers 2` was killed on a
    loaded machine)."""
    script = tmp_path / "supervisor.py"
    script.write_text(SUPERVISOR, encoding="utf-8")
    marker, pid_file = tmp_path / "alone", tmp_path / "worker.pid"
    command = [sys.executable, str(script), str(marker), str(pid_file)]
    subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True, timeout=60)
    worker = int(pid_file.read_text())
    deadline = time.monotonic() + 30
    while _running(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = _running(worker)
    if alive:
        os.kill(worker, signal.SIGKILL)
    assert not alive
    assert not marker.exists()


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
