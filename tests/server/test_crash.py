"""Killing the server (SIGKILL) during a burst of writes loses no acknowledged write (SQLite WAL with
synchronous=FULL, and PostgreSQL): a real ``hengqi serve`` process on a loopback port."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from sqlalchemy import select
from tests.server.conftest import INSTRUMENT, Store
from tests.server.live import LiveServer, login_token

from hengqi.server.admin import create_admin, open_database, verify_audit
from hengqi.server.db.models import Instrument

PASSWORD = "a-long-admin-password"


@pytest.mark.slow
def test_sigkill_loses_no_acknowledged_write(store: Store) -> None:
    database = open_database(store.settings(), migrate=True)
    create_admin(database, username="root", password=PASSWORD, organisation="Lab")
    database.dispose()
    server = LiveServer(store.data_dir, store.database_url)
    try:
        assert server.wait_healthy().status_code == 200
        headers = login_token(server.base, "root", PASSWORD)
        acknowledged: list[tuple[int, str]] = []
        lock = threading.Lock()
        stop = threading.Event()

        def writer(worker: int) -> None:
            with httpx.Client(base_url=server.base, timeout=10, headers=headers) as client:
                index = 0
                while not stop.is_set():
                    serial = f"W{worker}-{index}"
                    index += 1
                    try:
                        answer = client.post("/api/v1/instruments", json={**INSTRUMENT, "serial": serial})
                    except httpx.TransportError:
                        return  # the server died mid-request: this write was never acknowledged
                    if answer.status_code == 201:
                        with lock:
                            acknowledged.append((answer.json()["id"], serial))

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(acknowledged) < 80:
            time.sleep(0.05)
        server.kill()  # SIGKILL while the writers are still sending
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        server.kill()
    assert len(acknowledged) >= 20, "the burst did not get going"
    database = open_database(store.settings())
    with database.read_session() as session:
        stored = dict(session.execute(select(Instrument.id, Instrument.serial)).all())
    lost = [(key, serial) for key, serial in acknowledged if stored.get(key) != serial]
    assert lost == []
    assert verify_audit(database).entries >= len(acknowledged)
    database.dispose()
    with LiveServer(store.data_dir, store.database_url) as again:
        assert again.wait_healthy().status_code == 200
