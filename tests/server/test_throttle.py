"""Sign-in throttling: the policy on its own (clock injected), parallel guesses, memory bound, per-address lockout
and the web form's answer (in-process app; the live-server attacks are in ``test_session_attacks.py``)."""

from __future__ import annotations

import multiprocessing
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.server.conftest import PASSWORD, Platform, Store

from hengqi.server.app import create_app
from hengqi.server.errors import LoginThrottledError
from hengqi.server.throttle import PENDING_MAX_S, LoginThrottle, SharedCounts, fresh_shared_file


@pytest.fixture(params=["memory", "shared"])
def counts_in(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the counts live: this process's memory, or a file shared by several server processes."""
    if request.param == "shared":
        return str(fresh_shared_file(tmp_path))
    return ""


def _throttle(clock: list[float], counts_in: str = "", **limits: float) -> LoginThrottle:
    values = {"account_limit": 3, "address_limit": 10, "window_s": 900, "lockout_s": 60, "lockout_max_s": 600}
    values.update(limits)
    return LoginThrottle(
        account_limit=int(values["account_limit"]),
        address_limit=int(values["address_limit"]),
        window_s=values["window_s"],
        lockout_s=values["lockout_s"],
        lockout_max_s=values["lockout_max_s"],
        max_keys=int(values.get("max_keys", 50_000)),
        clock=lambda: clock[0],
        shared=SharedCounts(Path(counts_in), "signin/", max_keys=int(values.get("max_keys", 50_000)))
        if counts_in
        else None,
    )


def test_lockout_doubles_up_to_the_maximum_and_is_forgotten_after_the_window(counts_in: str) -> None:
    clock = [1000.0]
    throttle = _throttle(clock, counts_in)
    waits = []
    for _ in range(8):
        wait = throttle.retry_after("tina", "10.0.0.1")
        if wait:
            clock[0] += wait
        throttle.begin("tina", "10.0.0.1").finish(success=False)
        waits.append(throttle.retry_after("tina", "10.0.0.1"))
    assert waits == [None, None, 60, 120, 240, 480, 600, 600]
    with pytest.raises(LoginThrottledError) as refused:
        throttle.begin("TINA ", "10.0.0.9")  # the same name as typed otherwise, from another address
    assert refused.value.retry_after_s == 600
    clock[0] += 901
    assert throttle.retry_after("tina", "10.0.0.1") is None
    assert throttle.failures("tina", "10.0.0.1") == (0, 0)


def test_success_clears_the_name_but_not_the_address(counts_in: str) -> None:
    clock = [0.0]
    throttle = _throttle(clock, counts_in)
    for _ in range(2):
        throttle.begin("tina", "10.0.0.1").finish(success=False)
    throttle.begin("tina", "10.0.0.1").finish(success=True)
    assert throttle.failures("tina", "10.0.0.1") == (0, 2)


def test_parallel_guesses_cannot_exceed_the_limit(counts_in: str) -> None:
    clock = [0.0]
    throttle = _throttle(clock, counts_in, account_limit=5, address_limit=1000)
    admitted: list[object] = []
    refused: list[int] = []
    barrier = threading.Barrier(40)

    def guess() -> None:
        barrier.wait()
        try:
            admitted.append(throttle.begin("tina", "10.0.0.1"))
        except LoginThrottledError as err:
            refused.append(err.retry_after_s)

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 5  # the attempts in flight count: no more password checks than the limit
    assert len(refused) == 35


def test_cancelled_attempts_are_not_counted(counts_in: str) -> None:
    clock = [0.0]
    throttle = _throttle(clock, counts_in)
    for _ in range(10):
        throttle.begin("tina", "10.0.0.1").cancel()
    assert throttle.failures("tina", "10.0.0.1") == (0, 0)
    assert throttle.retry_after("tina", "10.0.0.1") is None


def test_memory_is_bounded_under_a_flood_of_names() -> None:
    clock = [0.0]
    throttle = _throttle(clock, max_keys=1000, address_limit=10**9)
    for n in range(20_000):
        clock[0] += 0.001
        throttle.begin(f"name-{n}", "10.0.0.1").finish(success=False)
    assert len(throttle._counts) <= 1000
    assert throttle.failures("ignored", "10.0.0.1")[1] > 0  # the address was kept (it is the most recent)


def _guesses_in_a_process(path: str, start: float, admitted: Any, refused: Any) -> None:
    """One server process's share of a parallel guess (its own connection to the shared file)."""
    throttle = _throttle([start], path, account_limit=5, address_limit=1000)
    for _ in range(10):
        try:
            throttle.begin("tina", "10.0.0.1")  # never finished: in flight while the others guess
            counter = admitted
        except LoginThrottledError:
            counter = refused
        with counter.get_lock():
            counter.value += 1


def test_shared_counts_hold_for_all_processes_of_the_host(tmp_path: Path) -> None:
    """Four processes guess one name at once (10 each): the limit of 5 holds for the host, not per process."""
    path = str(fresh_shared_file(tmp_path))
    context = multiprocessing.get_context("fork")
    admitted, refused = context.Value("i", 0), context.Value("i", 0)
    processes = [context.Process(target=_guesses_in_a_process, args=(path, 0.0, admitted, refused)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    assert (admitted.value, refused.value) == (5, 35)
    assert oct(Path(path).stat().st_mode & 0o777) == "0o600"  # the names typed stay with the server's user


def test_shared_failures_lock_the_name_in_every_process(tmp_path: Path) -> None:
    clock = [100.0]
    path = str(fresh_shared_file(tmp_path))
    first, second = _throttle(clock, path), _throttle(clock, path)  # two processes' throttles
    for _ in range(3):
        first.begin("tina", "10.0.0.1").finish(success=False)
    assert second.retry_after("TINA", "10.0.0.2") == 60
    with pytest.raises(LoginThrottledError):
        second.begin("tina", "10.0.0.2")
    assert second.failures("tina", "10.0.0.1") == (3, 3)
    clock[0] += 61
    second.begin("tina", "10.0.0.2").finish(success=True)  # a success in one process clears the name for all
    assert first.failures("tina", "10.0.0.1") == (0, 3)


def test_attempts_of_a_process_that_died_stop_counting(tmp_path: Path) -> None:
    clock = [100.0]
    path = str(fresh_shared_file(tmp_path))
    dead = _throttle(clock, path, account_limit=2)
    for _ in range(2):
        dead.begin("tina", "10.0.0.1")  # in flight, never finished: the process was killed
    alive = _throttle(clock, path, account_limit=2)
    assert alive.retry_after("tina", "10.0.0.1") == 1  # the attempts in flight decide first
    clock[0] += PENDING_MAX_S + 1
    assert alive.retry_after("tina", "10.0.0.1") is None
    alive.begin("tina", "10.0.0.1").finish(success=False)
    assert alive.failures("tina", "10.0.0.1") == (1, 1)


def test_shared_file_is_bounded_and_made_afresh(tmp_path: Path) -> None:
    clock = [0.0]
    path = str(fresh_shared_file(tmp_path))
    throttle = _throttle(clock, path, max_keys=500, address_limit=10**9)
    for n in range(3000):
        clock[0] += 0.001
        throttle.begin(f"name-{n}", "10.0.0.1").finish(success=False)
    with sqlite3.connect(path) as db:
        (kept,) = db.execute("SELECT count(*) FROM counts").fetchone()
        (pending,) = db.execute("SELECT count(*) FROM pending").fetchone()
    assert kept <= 500 + 256 + 1  # tidied every 256 attempts
    assert pending == 0
    assert throttle.failures("ignored", "10.0.0.1")[1] == 3000  # the address is the most recent: kept
    assert fresh_shared_file(tmp_path) == Path(path)  # a new start: nothing of the last one's counts
    assert _throttle(clock, path).failures("name-2999", "10.0.0.1") == (0, 0)


def test_a_count_from_the_future_is_read_as_now(tmp_path: Path) -> None:
    """A file kept over a restart of the host holds monotonic readings of another boot: never a lock for ages."""
    clock = [1_000_000.0]
    path = str(fresh_shared_file(tmp_path))
    throttle = _throttle(clock, path, account_limit=1)
    throttle.begin("tina", "10.0.0.1").finish(success=False)
    clock[0] = 50.0  # the next boot's monotonic clock starts near zero
    assert throttle.retry_after("tina", "10.0.0.1") == 60  # as if the failure were now, not in 11 days


def test_per_address_lockout_and_identical_answers(store: Store) -> None:
    platform = Platform(store)
    try:
        org = platform.organisation("A")
        platform.user("tina", "technician", org)
        client = platform.client
        answers = [
            client.post("/api/v1/auth/login", json={"username": name, "password": "wrong-password"})
            for name in [*(f"name-{n}" for n in range(19)), "tina", "third", "tina"]
        ]
        assert [a.status_code for a in answers] == [401] * 20 + [429, 429]  # 20 failures from this address
        assert len({a.content for a in answers[:20]}) == 1
        assert answers[-1].headers["Retry-After"] == "60"
        right = client.post("/api/v1/auth/login", json={"username": "tina", "password": PASSWORD})
        assert right.status_code == 429
    finally:
        platform.close()


def test_web_form_is_throttled_with_retry_after(sqlite_store: Store, tmp_path: Path) -> None:
    app = create_app(sqlite_store.settings(login_account_failures=2))
    with TestClient(app) as client:

        def attempt(password: str) -> int:
            page = client.get("/web/login")
            token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
            assert token is not None
            data = {"username": "someone", "password": password, "login_csrf": token.group(1), "next": "/web/"}
            answer = client.post("/web/login", data=data, follow_redirects=False)
            if answer.status_code == 429:
                assert int(answer.headers["Retry-After"]) >= 1
                assert "Too many failed sign-ins" in answer.text
            return answer.status_code

        assert [attempt("wrong-password") for _ in range(3)] == [401, 401, 429]


def _gate_statuses(gate_app: object, requests: int, path: str = "/api/v1/auth/login") -> tuple[list[int], float]:
    import asyncio
    import time

    import httpx

    async def run() -> tuple[list[int], float]:
        transport = httpx.ASGITransport(app=gate_app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://gate") as client:
            started = time.perf_counter()
            answers = await asyncio.gather(*(client.post(path, json={}) for _ in range(requests)))
            for answer in answers:
                if answer.status_code == 429:  # refused before the body was read, with the API's error format
                    assert answer.headers["Retry-After"] == "1"
                    assert answer.json()["error"]["code"] == "too_many_attempts"
            return [a.status_code for a in answers], time.perf_counter() - started

    return asyncio.run(run())


def test_login_gate_bounds_the_queue_and_admits_at_a_rate() -> None:
    import asyncio

    from starlette.types import Receive, Scope, Send

    from hengqi.server.login_gate import LoginGate

    inside = {"now": 0, "most": 0}

    async def slow_login(scope: Scope, receive: Receive, send: Send) -> None:
        inside["now"] += 1
        inside["most"] = max(inside["most"], inside["now"])
        await asyncio.sleep(0.05)
        inside["now"] -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    # two lanes, four may wait: of ten at once, six are handled (never more than two together), four answer 429
    statuses, _ = _gate_statuses(LoginGate(slow_login, lanes=2, queue=4, rate_per_s=1000), 10)
    assert sorted(statuses) == [200] * 6 + [429] * 4
    assert inside["most"] == 2
    # 20 per second with a burst of 20: 40 sign-ins take about a second; other paths are not held at all
    statuses, elapsed = _gate_statuses(LoginGate(slow_login, lanes=40, queue=100, rate_per_s=20), 40)
    assert statuses == [200] * 40
    assert elapsed >= 0.9
    statuses, elapsed = _gate_statuses(LoginGate(slow_login, lanes=1, queue=0, rate_per_s=1), 5, "/api/v1/health")
    assert statuses == [200] * 5
    assert elapsed < 0.9
