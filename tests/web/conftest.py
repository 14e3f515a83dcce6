"""Fixtures of the web tests: an app with the demo organisation and its simulated fleet, and signed-in users.

The in-process tests drive the pages with Starlette's test client (real forms, cookies and CSRF tokens); the
browser tests (``test_browser.py``) start ``hengqi serve --demo`` in a child process and drive Chromium.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from hengqi.server.app import create_app
from hengqi.server.demo import seed
from hengqi.server.settings import Settings
from hengqi.server.web import demo as web_demo
from hengqi.server.web.demo import DemoFleet, start_demo_fleet

ROOT = Path(__file__).resolve().parents[2]


def schema_dir() -> Path:
    """PTB's DCC XSDs in the shared folder beside the checkout."""
    return ROOT.parent / "shared" / "dcc" / "xsd"


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """The demo makes five users: argon2id with small costs (the parameters travel inside each hash)."""
    from argon2 import PasswordHasher

    from hengqi.server import security

    saved = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    security._hasher = saved


@pytest.fixture
def fast_fleet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulators that settle in 0.05 s (the tests need not wait as a person would)."""
    fleet = []
    for item in web_demo.FLEET:
        imperfections = {**item.simulator["imperfections"], "settling_s": 0.05}
        fleet.append(replace(item, simulator={**item.simulator, "imperfections": imperfections}))
    monkeypatch.setattr(web_demo, "FLEET", tuple(fleet))


@dataclass
class Demo:
    data_dir: Path
    app: Any
    passwords: dict[str, str]
    fleet: DemoFleet

    def user(self, role: str) -> WebUser:
        return WebUser.sign_in(self.app, f"demo-{role}", self.passwords[role])

    def simulator(self, serial: str) -> Any:
        return next(sim for label, sim in self.fleet.simulators if serial in label)

    def restart(self) -> None:
        """A new app on the same store (as after a server restart); the simulators keep running."""
        self.app.state.hengqi.database.dispose()
        self.app = create_app(Settings(env="test", data_dir=self.data_dir))


@pytest.fixture
def demo(tmp_path: Path, fast_fleet: None) -> Iterator[Demo]:
    data_dir = tmp_path / "data"
    app = create_app(Settings(env="test", data_dir=data_dir))
    passwords = {a.role.value: a.password for a in seed(app.state.hengqi.database)}
    fleet = start_demo_fleet(app.state.hengqi.database, data_dir)
    app.state.hengqi_links.stability_timeout = 3.0  # a silent instrument is given up on sooner than in the field
    made = Demo(data_dir, app, passwords, fleet)
    yield made
    fleet.stop()
    made.app.state.hengqi_links.close()
    made.app.state.hengqi.database.dispose()


STEP_ID = re.compile(r'name="step_id" value="([^"]+)"')
ACTION = re.compile(r'name="action" value="([^"]+)"')


class WebUser:
    """A browser session driven through the test client."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    @classmethod
    def sign_in(cls, app: Any, username: str, password: str) -> WebUser:
        return cls.sign_in_with(TestClient(app), username, password)

    @classmethod
    def sign_in_with(cls, client: httpx.Client, username: str, password: str) -> WebUser:
        """Sign in through the login form with ``client`` (a test client, or an HTTP client of a live server)."""
        page = client.get("/web/login")
        token = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
        assert token is not None
        answer = client.post(
            "/web/login",
            data={"username": username, "password": password, "login_csrf": token.group(1), "next": "/web/"},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        return cls(client)

    @property
    def csrf(self) -> str:
        value = self.client.cookies.get("hengqi_csrf")
        assert value
        return value

    def post(self, path: str, /, **data: Any) -> Any:
        return self.client.post(path, data={"csrf_token": self.csrf, **data}, follow_redirects=False)

    def instrument_id(self, serial: str) -> int:
        page = self.client.get(f"/web/instruments?q={serial}")
        found = re.search(r'href="/web/instruments/(\d+)"', page.text)
        assert found is not None, page.text
        return int(found.group(1))

    def start(self, serial: str, *, mode: str = "instrument", weights: str = "E2 set") -> str:
        """Start a guided calibration on the demo instrument ``serial`` with the weight set named ``weights...``;
        returns the run's page."""
        instrument = self.instrument_id(serial)
        page = self.client.get(f"/web/instruments/{instrument}")
        weight_set = re.search(rf'<option value="(\d+)">{re.escape(weights)}', page.text)
        assert weight_set is not None
        answer = self.post(f"/web/instruments/{instrument}/runs", weight_set_id=weight_set.group(1), mode=mode)
        assert answer.status_code == 303, answer.text
        location = str(answer.headers["location"])
        assert "/web/runs/" in location, location
        return location

    def pending(self, run_url: str) -> tuple[str, str, str] | None:
        """(step id, form action, page text) of the step the run waits at; None when it has ended."""
        page = self.client.get(run_url)
        assert page.status_code == 200, page.text
        found = STEP_ID.search(page.text)
        if found is None:
            return None
        action = ACTION.search(page.text)
        assert action is not None
        return found.group(1), action.group(1), page.text

    def advance(self, run_url: str, steps: int | None = None) -> Any:
        """Do the pending steps as the page offers them (``steps`` of them, or to the end); the last answer."""
        answer = None
        done = 0
        while steps is None or done < steps:
            pending = self.pending(run_url)
            if pending is None:
                break
            step_id, action, _ = pending
            answer = self.post(f"{run_url}/step", step_id=step_id, action=action)
            assert answer.status_code == 303, answer.text
            done += 1
        return answer


LAUNCH = "import sys; from hengqi.cli import main; sys.argv[0] = 'hengqi'; main()"
#: ``LAUNCH`` with demo simulators settling faster: ``sys.argv[1]`` is JSON, seconds by serial number (as
#: :func:`fast_fleet` does in process).
LAUNCH_SETTLING = (
    "import dataclasses, json, sys; from hengqi.server.web import demo; settling = json.loads(sys.argv.pop(1)); "
    "demo.FLEET = tuple(dataclasses.replace(item, simulator={**item.simulator, 'imperfections': "
    "{**item.simulator['imperfections'], 'settling_s': settling[item.serial]}}) if item.serial in settling else item "
    "for item in demo.FLEET); " + LAUNCH
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    """``hengqi serve --demo`` in a child process."""

    base: str
    passwords: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes]

    def stop(self, *, kill: bool = False) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_server(
    data_dir: Path, passwords: dict[str, str] | None = None, *, settling_s: float | Mapping[str, float] | None = None
) -> Served:
    """Start ``hengqi serve --demo`` on a free loopback port with ``data_dir``; wait until it answers.  With
    ``settling_s`` (seconds, for every demo simulator or by serial number), simulators settle in that time instead
    of their own (0.4 s to 0.8 s): a test whose run makes many stable readings need not wait as a person would."""
    port = free_port()
    log = data_dir.parent / f"server-{port}.log"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    launch = [LAUNCH]
    if settling_s is not None:
        by_serial = settling_s if isinstance(settling_s, Mapping) else {i.serial: settling_s for i in web_demo.FLEET}
        launch = [LAUNCH_SETTLING, json.dumps(dict(by_serial))]
    args = [sys.executable, "-c", *launch, "serve", "--demo", "--port", str(port), "--data-dir", str(data_dir)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*args, "--log-level", "warning"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HENGQI_ENV": "test", "HENGQI_WORKERS": "1"},  # one process: killed with its PID
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200 and "web interface" in log.read_text():
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise TimeoutError(log.read_text()[-3000:])
        time.sleep(0.2)
    found = dict(re.findall(r"demo account: demo-(\S+)\s+role \S+\s+password (\S+)", log.read_text()))
    if passwords is None:
        assert found, log.read_text()
    return Served(base, passwords or found, log, process)
