"""The simulator's side of each protocol, byte for byte over a raw loopback socket (a manual clock, no settling)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from hengqi.instruments import sbi
from hengqi.instruments.drivers import MtSicsScale
from hengqi.instruments.probe import open_scale
from hengqi.instruments.simulator import Imperfections, ManualClock, Simulator
from hengqi.instruments.transport import open_transport

STILL = Imperfections(settling_s=0.0, stability_timeout_s=1.0)


class Raw:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=2)

    def ask(self, data: bytes, lines: int = 1) -> bytes:
        self.sock.sendall(data)
        received = b""
        while received.count(b"\r\n") < lines:
            chunk = self.sock.recv(4096)
            assert chunk, "connection closed"
            received += chunk
        return received


@pytest.fixture
def mtsics() -> Iterator[tuple[Simulator, Raw]]:
    with Simulator.start("mt-sics", imperfections=STILL, clock=ManualClock()) as sim:
        sim.place("100 g")
        raw = Raw(sim.port)
        yield sim, raw
        raw.sock.close()


@pytest.mark.parametrize(
    ("command", "reply"),
    [
        (b"S\r\n", b"S S   100.0000 g\r\n"),
        (b"SI\r\n", b"S S   100.0000 g\r\n"),
        (b"I1\r\n", b'I1 A "01" "2.20" "2.20" "1.00" ""\r\n'),
        (b"I2\r\n", b'I2 A "HQ-SIM 220.0000 g"\r\n'),
        (b"I3\r\n", b'I3 A "hengqi-sim 1.0"\r\n'),
        (b"I4\r\n", b'I4 A "SIM0000000"\r\n'),
        (b"@\r\n", b'I4 A "SIM0000000"\r\n'),
        (b"TA\r\n", b"TA A     0.0000 g\r\n"),
        (b"TAC\r\n", b"TAC A\r\n"),
        (b'D "HI"\r\n', b"D A\r\n"),
        (b'D "A" "B"\r\n', b"D L\r\n"),
        (b"DW\r\n", b"DW A\r\n"),
        (b"XYZ\r\n", b"ES\r\n"),
        (b"S 1\r\n", b"EL\r\n"),
        (b"s\r\n", b"ES\r\n"),
        (b"TA 12.5 g\r\n", b"TA A    12.5000 g\r\n"),
        (b"TA 1 furlong\r\n", b"TA L\r\n"),
        (b"T\r\n", b"T S   100.0000 g\r\n"),
        (b"TI\r\n", b"TI S   100.0000 g\r\n"),
        (b"Z\r\n", b"Z +\r\n"),
        (b"ZI\r\n", b"ZI +\r\n"),
    ],
)
def test_mtsics_replies(mtsics: tuple[Simulator, Raw], command: bytes, reply: bytes) -> None:
    assert mtsics[1].ask(command) == reply


def test_mtsics_zero_status_overload_underload_unstable(mtsics: tuple[Simulator, Raw]) -> None:
    sim, raw = mtsics
    sim.place("0.5 g")
    assert raw.ask(b"Z\r\n") == b"Z A\r\n"
    assert raw.ask(b"ZI\r\n") == b"ZI S\r\n"
    sim.place("221 g")
    assert raw.ask(b"S\r\n") == b"S +\r\n"
    assert raw.ask(b"T\r\n") == b"T +\r\n"
    sim.place("0 g")
    sim.model.zero()
    sim.place("0.5 g")
    sim.model.zero()
    sim.place("0 g")  # 0.5 g below the zero reference, more than 20 e = 20 mg: underload
    assert raw.ask(b"SI\r\n") == b"S -\r\n"
    lines = raw.ask(b"I0\r\n", lines=17).decode().splitlines()
    assert lines[0] == 'I0 B 0 "@"'
    assert lines[-1] == 'I0 A 1 "TI"'
    assert all(line.startswith("I0 B ") for line in lines[:-1])


def test_mtsics_stability_timeout_answers_i() -> None:
    clock = ManualClock()
    imp = Imperfections(settling_s=10, stability_timeout_s=2)
    with Simulator.start("mt-sics", imperfections=imp, clock=clock) as sim:
        sim.place("10 g")
        raw = Raw(sim.port)
        assert raw.ask(b"S\r\n") == b"S I\r\n"
        assert clock.now() == pytest.approx(2.0)
        assert raw.ask(b"SI\r\n").startswith(b"S D ")
        assert raw.ask(b"T\r\n") == b"T I\r\n"
        assert raw.ask(b"ZI\r\n").startswith(b"ZI ")
        raw.sock.close()


def test_mtsics_sir_streams_until_another_command() -> None:
    with Simulator.start("mt-sics", imperfections=STILL) as sim:
        sim.place("7 g")
        with MtSicsScale(open_transport(sim.url)) as scale:
            values = [r.value for r in scale.stream(5)]
            assert values == [Decimal("7.0000")] * 5
            assert scale.read().value == Decimal("7.0000")  # the stream stopped: replies line up again


def test_sbi_replies_and_framing_without_crlf() -> None:
    with Simulator.start("sbi", imperfections=STILL, sbi_width=16) as sim:
        sim.place("100 g")
        raw = Raw(sim.port)
        assert raw.ask(b"\x1bP") == b"+ 100.0000 g  \r\n"
        assert raw.ask(b"\x1bx1_\x1bx2_", lines=2) == b"HQ-SIM\r\nSIM0000000\r\n"
        raw.sock.sendall(b"\x1bU")  # tare: no reply
        assert raw.ask(b"\x1bP\r\n") == b"+   0.0000 g  \r\n"
        sim.place("300 g")
        assert raw.ask(b"\x1bP") == sbi.format_status("H", 16).encode() + b"\r\n"
        raw.sock.close()
        with open_scale(sim.url) as scale:
            sim.place("100 g")
            time.sleep(0.05)
            assert scale.read(stable=False).value == Decimal("0.0000")  # tare still set


def test_and_replies() -> None:
    with Simulator.start("and", imperfections=STILL) as sim:
        sim.place("100 g")
        raw = Raw(sim.port)
        assert raw.ask(b"Q\r\n") == b"ST,+100.0000  g\r\n"
        assert raw.ask(b"S\r\n") == b"ST,+100.0000  g\r\n"
        assert raw.ask(b"T\r\n") == b"\x06\r\n"
        assert raw.ask(b"?TN\r\n") == b"TN,HQ-SIM\r\n"
        assert raw.ask(b"?SN\r\n") == b"SN,SIM0000000\r\n"
        assert raw.ask(b"HELLO\r\n") == b"EC,E01\r\n"
        assert raw.ask(b"SIR\r\n", lines=3).count(b"ST,+000.0000  g\r\n") == 3
        raw.sock.sendall(b"C\r\n")
        sim.place("300 g")
        time.sleep(0.2)
        assert b"OL,+9999999E+19\r\n" in raw.ask(b"Q\r\n")
        raw.sock.close()


def test_socket_url_reads_the_simulator() -> None:
    with Simulator.start("and", imperfections=STILL) as sim:
        sim.place("1 g")
        with open_scale(f"socket://127.0.0.1:{sim.port}?protocol=and&timeout=1") as scale:
            assert scale.read().value == Decimal("1.0000")
