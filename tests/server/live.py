"""A real ``hengqi serve`` process on a loopback port, for end-to-end, crash and load tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

LAUNCH = "import sys; from hengqi.cli import main; sys.argv[0] = 'hengqi'; main()"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LiveServer:
    """``hengqi serve`` in a child process; :meth:`kill` sends SIGKILL."""

    def __init__(self, data_dir: Path, database_url: str | None = None, *extra: str, one_process: bool = True) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-c", LAUNCH, "serve", "--port", str(self.port), "--data-dir", str(data_dir)]
        if database_url:
            args += ["--database-url", database_url]
        args += ["--log-level", "warning", *extra]
        # one process unless the test asks for more (--workers) or for the default (``one_process=False``):
        # kill() and the log then concern one process
        env = {**os.environ, "HENGQI_ENV": "test"}
        env.pop("HENGQI_WORKERS", None)
        if one_process:
            env["HENGQI_WORKERS"] = "1"
        self.log = data_dir.parent / f"server-{self.port}.log"
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log.open("wb")
        self.process = subprocess.Popen(args, stdout=self._log_file, stderr=subprocess.STDOUT, env=env)

    def wait_healthy(self, timeout_s: float = 60) -> httpx.Response:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                answer = httpx.get(f"{self.base}/api/v1/health", timeout=2)
            except httpx.TransportError:
                time.sleep(0.1)
                continue
            return answer
        raise TimeoutError(f"server not up after {timeout_s} s: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self._log_file.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log_file.close()

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def login_token(base: str, username: str, password: str) -> dict[str, str]:
    """Sign in with the password, then make an API token; returns Bearer headers."""
    with httpx.Client(base_url=base, timeout=30) as client:
        session = client.post("/api/v1/auth/login", json={"username": username, "password": password})
        session.raise_for_status()
        csrf = session.json()["csrf_token"]
        made = client.post("/api/v1/auth/tokens", json={"name": "test"}, headers={"X-CSRF-Token": csrf})
        made.raise_for_status()
        return {"Authorization": f"Bearer {made.json()['token']}"}
