"""``rfc2217://`` addresses: a small RFC 2217 (Telnet COM-port control) server built on pyserial's own
``PortManager`` bridges to the simulator, as a terminal server in front of a balance would."""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest
from serial import rfc2217

from hengqi.instruments.probe import open_scale, probe
from hengqi.instruments.simulator import Imperfections, Simulator


class _LinePort:
    """What PortManager needs of a serial port: line settings and modem lines (a TCP link has none)."""

    def __init__(self) -> None:
        self.baudrate, self.bytesize, self.parity, self.stopbits = 9600, 8, "N", 1
        self.rtscts = self.xonxoff = self.dtr = self.rts = self.break_condition = False
        self.cts = self.dsr = self.ri = self.cd = False
        self.name = "bridge"

    def reset_input_buffer(self) -> None: ...

    def reset_output_buffer(self) -> None: ...


class _Writer:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self.lock:
            self.sock.sendall(data)


@pytest.fixture
def bridge() -> Iterator[tuple[Simulator, str]]:
    with Simulator.start("mt-sics", imperfections=Imperfections(settling_s=0, stability_timeout_s=1)) as sim:
        server = socket.create_server(("127.0.0.1", 0))
        stop = threading.Event()

        def serve() -> None:
            while not stop.is_set():
                ready, _, _ = select.select([server], [], [], 0.05)
                if not ready:
                    continue
                client, _ = server.accept()
                device = socket.create_connection(("127.0.0.1", sim.port), timeout=2)
                manager = rfc2217.PortManager(_LinePort(), _Writer(client))
                with client, device:
                    while not stop.is_set():
                        readable, _, _ = select.select([client, device], [], [], 0.05)
                        if client in readable:
                            data = client.recv(4096)
                            if not data:
                                break
                            device.sendall(b"".join(manager.filter(data)))
                        if device in readable:
                            data = device.recv(4096)
                            if not data:
                                break
                            client.sendall(b"".join(manager.escape(data)))

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            yield sim, f"rfc2217://127.0.0.1:{server.getsockname()[1]}"
        finally:
            stop.set()
            thread.join(timeout=5)
            server.close()


def test_reading_through_an_rfc2217_terminal_server(bridge: tuple[Simulator, str]) -> None:
    sim, url = bridge
    sim.place("42 g")
    with open_scale(f"{url}?protocol=mt-sics&timeout=2") as scale:
        assert scale.read().value == Decimal("42.0000")
        assert scale.identify().serial == sim.info.serial
    assert probe(url).protocol == "mt-sics"
