"""A simulated balance behind a real ``hengqi`` OPC UA server on a loopback port (real sockets both sides)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hengqi.instruments.simulator import Simulator
from hengqi.opcua.config import parse_config
from hengqi.opcua.security import hash_password
from hengqi.opcua.server import ScaleServer, ServerThread

PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    sim: Simulator
    server: ScaleServer

    @property
    def endpoint(self) -> str:
        return self.server.endpoint


def config(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "scales": [
            {
                "url": url,
                "name": "Balance1",
                "e": "1 mg",
                "legal_for_trade": True,
                "extension": {
                    "calibration_counter": 7,
                    "configuration_counter": 3,
                    "event_log": ["2026-11-02T09:00:00Z span adjusted", "2026-11-03T10:00:00Z parameter 12 changed"],
                    "software_id": "V1.20",
                    "verification_status": "verified",
                    "verification_due": "2027-11-02",
                },
            }
        ],
        **extra,
    }


@pytest.fixture
def served() -> Iterator[Served]:
    with Simulator.start(protocol="mt-sics") as sim:
        server = ScaleServer(parse_config(config(sim.url)), port=free_port(), poll_interval=0.02)
        with ServerThread(server):
            yield Served(sim, server)


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[Served]:
    """Loopback, but only Basic256Sha256 SignAndEncrypt with user names (as on any other address)."""
    with Simulator.start(protocol="mt-sics") as sim:
        cfg = parse_config(config(sim.url, users={"mes": hash_password(PASSWORD)}))
        server = ScaleServer(cfg, port=free_port(), poll_interval=0.02, pki=tmp_path / "pki", require_security=True)
        with ServerThread(server):
            yield Served(sim, server)
