"""Attacks through the instrument connection form of a real ``hengqi serve`` (SQLite and PostgreSQL): pyserial URLs
that reach the file system, port scans, endless timeouts, roles that may not connect, and hung connection tests
that used to starve every other request."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from sqlalchemy import select
from tests.server.conftest import INSTRUMENT, PASSWORD, Store
from tests.server.live import LiveServer, login_token

from hengqi.server.admin import open_database
from hengqi.server.db.guided import InstrumentConnection
from hengqi.server.permissions import Role
from hengqi.server.schemas.accounts import UserCreate
from hengqi.server.schemas.registry import OrganisationCreate
from hengqi.server.services import accounts

ROLES = ("quality-manager", "admin", "technician", "reviewer", "regulator")


def web_client(base: str, username: str) -> httpx.Client:
    """A browser-like session of ``username`` on a live server (signed in through the login form)."""
    client = httpx.Client(base_url=base, timeout=60)
    page = client.get("/web/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert token is not None
    answer = client.post(
        "/web/login",
        data={"username": username, "password": PASSWORD, "login_csrf": token.group(1), "next": "/web/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client


def connect(client: httpx.Client, instrument_id: int, url: str) -> httpx.Response:
    csrf = client.cookies.get("hengqi_csrf")
    return client.post(
        f"/web/instruments/{instrument_id}/connection", data={"csrf_token": csrf, "url": url}, follow_redirects=False
    )


@dataclass
class Lab:
    server: LiveServer
    store: Store
    instrument_id: int
    other_instrument_id: int
    api: dict[str, str]  # API token headers of the lab's quality manager

    def web(self, role: str, org: str = "lab") -> closing[httpx.Client]:
        return closing(web_client(self.server.base, f"{org}-{role}"))

    def stored_urls(self) -> list[str]:
        database = open_database(self.store.settings())
        try:
            with database.read_session() as session:
                return list(session.scalars(select(InstrumentConnection.url)))
        finally:
            database.dispose()


@pytest.fixture
def lab(store: Store) -> Iterator[Lab]:
    database = open_database(store.settings(), migrate=True)
    with database.write_session() as session:
        for org_name, hosts in (("lab", ["127.0.0.1"]), ("other", ["127.0.0.1"])):
            org = accounts.create_organisation(
                session, accounts.SYSTEM, OrganisationCreate(name=org_name, instrument_hosts=hosts)
            )
            session.flush()
            for role in ROLES:
                accounts.create_user(
                    session,
                    accounts.SYSTEM,
                    UserCreate(
                        username=f"{org_name}-{role}", password=PASSWORD, role=Role(role), organisation_id=org.id
                    ),
                )
        session.commit()
    database.dispose()
    server = LiveServer(store.data_dir, store.database_url)
    try:
        assert server.wait_healthy().status_code == 200
        api = login_token(server.base, "lab-quality-manager", PASSWORD)
        other = login_token(server.base, "other-quality-manager", PASSWORD)
        made = httpx.post(f"{server.base}/api/v1/instruments", json=INSTRUMENT, headers=api, timeout=30)
        assert made.status_code == 201, made.text
        theirs = httpx.post(f"{server.base}/api/v1/instruments", json=INSTRUMENT, headers=other, timeout=30)
        assert theirs.status_code == 201, theirs.text
        yield Lab(server, store, made.json()["id"], theirs.json()["id"], api)
    finally:
        server.stop()


def test_pyserial_urls_that_open_files_or_reach_anything_are_refused(lab: Lab, tmp_path: Path) -> None:
    target = tmp_path / "pwned.log"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    with lab.web("quality-manager") as qm:
        for url in (
            f"spy:///dev/null?file={target}",
            f"spy://loop://?file={victim}",
            f"serial://spy:///dev/null?file={target}",
            "loop://",
            f"socket://127.0.0.1:{lab.server.port}",
            "alt:///dev/null?class=Serial",
            "hwgrep://.*",
            str(victim),
            f"serial://{victim}",
            "serial:///dev/null",
            "serial:///dev/../etc/passwd",
            "rfc2217://127.0.0.1:2217?logging=debug",
        ):
            answer = connect(qm, lab.instrument_id, url)
            assert answer.status_code == 303, (url, answer.text)
            assert "error=" in answer.headers["location"], url
        time.sleep(0.5)
    assert not target.exists()
    assert victim.read_text() == "keep me"
    assert lab.stored_urls() == []


def test_no_port_scan_of_hosts_off_the_allow_list(lab: Lab) -> None:
    # a listener on another loopback address (not on the lab's allow-list): the server must not even connect
    with socket.socket() as listener:
        listener.bind(("127.0.0.2", 0))
        listener.listen(8)
        listener.settimeout(0.5)
        port = listener.getsockname()[1]
        with lab.web("quality-manager") as qm:
            for url in (f"tcp://127.0.0.2:{port}", f"rfc2217://127.0.0.2:{port}", "tcp://192.0.2.1:22"):
                answer = connect(qm, lab.instrument_id, url)
                assert "error=" in answer.headers["location"], url
                assert "allow-list" in unquote(answer.headers["location"])
        with pytest.raises(TimeoutError):
            listener.accept()
    assert lab.stored_urls() == []


def test_timeouts_are_bounded(lab: Lab) -> None:
    with lab.web("quality-manager") as qm:
        for timeout in ("inf", "nan", "-1", "1e9", "11", "\u0665"):
            answer = connect(qm, lab.instrument_id, f"tcp://127.0.0.1:9?protocol=mt-sics&timeout={timeout}")
            assert "error=" in answer.headers["location"], timeout
        assert qm.get(f"/web/instruments/{lab.instrument_id}/reading").json() == {
            "ok": False,
            "reason": "not connected",
        }
    assert lab.stored_urls() == []


def test_only_roles_that_manage_instruments_set_a_connection(lab: Lab) -> None:
    for role in ("technician", "reviewer", "regulator"):
        with lab.web(role) as user:
            assert connect(user, lab.instrument_id, "tcp://127.0.0.1:9?timeout=0.2").status_code == 403, role
            assert connect(user, lab.instrument_id, "").status_code == 403, role
    with lab.web("quality-manager", org="other") as stranger:
        assert connect(stranger, lab.instrument_id, "tcp://127.0.0.1:9?timeout=0.2").status_code == 404
    assert lab.stored_urls() == []
    for role in ("quality-manager", "admin"):
        with lab.web(role) as user:
            answer = connect(user, lab.instrument_id, "tcp://127.0.0.1:9?protocol=mt-sics&timeout=0.2")
            assert "notice=saved-offline" in answer.headers["location"], role
    assert lab.stored_urls() == ["tcp://127.0.0.1:9?protocol=mt-sics&timeout=0.2"]


def test_hung_connection_tests_do_not_starve_the_api(lab: Lab) -> None:
    """46 "Save and test" against a silent listener, from two users at once, while another user reads the API:
    the reads stay fast (the old server answered them only after the hung tests had timed out)."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(256)  # accepts connections (the kernel's backlog) and never says a word
    port = silent.getsockname()[1]
    url = f"tcp://127.0.0.1:{port}?protocol=mt-sics&timeout=10"
    reader = login_token(lab.server.base, "lab-reviewer", PASSWORD)
    clients = [web_client(lab.server.base, "lab-quality-manager"), web_client(lab.server.base, "lab-admin")]
    latencies: list[float] = []
    done = threading.Event()

    def read_api() -> None:
        with httpx.Client(base_url=lab.server.base, headers=reader, timeout=60) as client:
            while not done.is_set():
                start = time.monotonic()
                assert client.get("/api/v1/instruments").status_code == 200
                latencies.append(time.monotonic() - start)
                time.sleep(0.05)

    try:
        reading = threading.Thread(target=read_api)
        reading.start()
        time.sleep(0.5)
        with ThreadPoolExecutor(max_workers=46) as pool:
            answers = list(pool.map(lambda n: connect(clients[n % 2], lab.instrument_id, url), range(46)))
        time.sleep(0.5)
        done.set()
        reading.join(timeout=60)
    finally:
        for client in clients:
            client.close()
        silent.close()
    odd = [(a.status_code, a.text[:200]) for a in answers if a.status_code != 303]
    assert odd == []
    busy = [a for a in answers if "notice=saved-untested" in a.headers["location"]]
    assert len(busy) >= 40  # at most 3 per user were admitted; the rest refused at once
    assert len(latencies) >= 20
    assert max(latencies) < 4.0, sorted(latencies)[-5:]  # the old server: > 10 s (hung tests held its threads)
