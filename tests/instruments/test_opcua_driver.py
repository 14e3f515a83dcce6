"""The ``opc.tcp://…?protocol=opcua-scales`` instrument URL: hengqi reads a scale that speaks OPC UA.

Against hengqi's own OPC UA server (the simulator behind it) and against a plain asyncua server that has no
OPC UA for Scales namespace (it must be refused with a clear error, not misread).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from tests.opcua.fixtures import PASSWORD, config, free_port

from hengqi.instruments import open_scale, parse_address, probe
from hengqi.instruments.errors import AddressError, ProtocolMismatchError, ScaleRangeError, TransportError
from hengqi.instruments.opcua import OpcUaScale
from hengqi.instruments.simulator import Simulator
from hengqi.instruments.transport import open_transport
from hengqi.opcua.config import parse_config, with_urls
from hengqi.opcua.security import hash_password
from hengqi.opcua.server import ScaleServer, ServerThread


@pytest.fixture
def bridged() -> Iterator[tuple[Simulator, str]]:
    with Simulator.start(protocol="mt-sics") as sim:
        port = free_port()
        with ServerThread(ScaleServer(parse_config(config(sim.url)), port=port, poll_interval=0.02)):
            yield sim, f"opc.tcp://127.0.0.1:{port}?protocol=opcua-scales"


def _settled(scale: OpcUaScale, value: str) -> None:
    deadline = time.monotonic() + 10
    while scale.read(stable=True).value != Decimal(value) and time.monotonic() < deadline:
        time.sleep(0.05)


def test_addresses() -> None:
    address = parse_address("opc.tcp://127.0.0.1:4841/scales?protocol=opcua-scales&scale=Balance1&timeout=3")
    assert (address.protocol, address.host, address.port, address.timeout) == ("opcua-scales", "127.0.0.1", 4841, 3.0)
    assert address.target == "opc.tcp://127.0.0.1:4841/scales"
    assert dict(address.passthrough) == {"scale": "Balance1"}
    assert parse_address("opc.tcp://scale.local").port == 4840  # the protocol is implied, the IANA port default
    assert parse_address("opc.tcp://scale.local").protocol == "opcua-scales"
    for bad in (
        "opc.tcp://",  # no host
        "opc.tcp://h:99999",  # no such port
        "opc.tcp://h:4840?protocol=mt-sics",  # a byte protocol over OPC UA
        "tcp://h:4001?protocol=opcua-scales",  # OPC UA over a raw socket
        "opc.tcp://h:4840?baud=9600",  # a serial option
        "opc.tcp://user:secret@h:4840",  # credentials do not belong in a URL that is logged
    ):
        with pytest.raises(AddressError):
            parse_address(bad)
    with pytest.raises(AddressError, match="no byte transport"):
        open_transport("opc.tcp://127.0.0.1:4840")


def test_read_identify_tare_zero_through_open_scale(bridged: tuple[Simulator, str]) -> None:
    sim, url = bridged
    with open_scale(url, stability_timeout=5) as scale:
        assert isinstance(scale, OpcUaScale)
        identity = scale.identify()
        assert (identity.make, identity.model, identity.serial) == ("Mettler-Toledo", "HQ-SIM", "SIM0000000")
        assert identity.capacity_kg == Decimal("0.22")
        assert identity.d_kg == Decimal("1E-7")
        sim.place("100 g")
        _settled(scale, "100")
        reading = scale.read()
        assert (reading.value, reading.unit, reading.stable) == (Decimal("100.0000"), "g", True)
        assert str(reading.value) == "100.0000"  # the displayed digits survive (PrintableValue)
        assert reading.value_kg == Decimal("0.1")
        scale.tare()
        assert sim.model.indication().tare_kg == Decimal("0.1")
        _settled(scale, "0")
        assert scale.read().net is True
        registered = scale.register_weight()
        assert registered.value == 0
        assert registered.net is True
        scale.clear_tare()
        assert sim.model.indication().tare_kg == 0
        sim.place("200 g")
        _settled(scale, "200")
        with pytest.raises(ScaleRangeError):  # Z refused by the balance -> BadOutOfRange -> typed error
            scale.zero()


def test_probe_finds_the_scale_object(bridged: tuple[Simulator, str]) -> None:
    _, url = bridged
    result = probe(url.split("?")[0])
    assert result.protocol == "opcua-scales"
    assert result.url == url.replace("?", "/?", 0)
    assert result.evidence.endswith("ScaleDeviceType object Balance1")
    with pytest.raises(ProtocolMismatchError, match="named 'Other'"):
        probe(url + "&scale=Other")


def test_a_secured_server_with_a_user(tmp_path: Path) -> None:
    with Simulator.start(protocol="mt-sics") as sim:
        port = free_port()
        cfg = parse_config(config(sim.url, users={"mes": hash_password(PASSWORD)}))
        server = ScaleServer(cfg, port=port, poll_interval=0.02, pki=tmp_path, require_security=True)
        with ServerThread(server):
            url = f"opc.tcp://127.0.0.1:{port}"
            with pytest.raises(TransportError):  # anonymous: refused
                OpcUaScale(url, stability_timeout=2)
            with pytest.raises(TransportError):
                OpcUaScale(url, user="mes", password="guess", stability_timeout=2)
            sim.place("5 g")
            with OpcUaScale(url, user="mes", password=PASSWORD, stability_timeout=5) as scale:
                _settled(scale, "5")
                assert scale.read().value == Decimal("5.0000")


def test_asyncua_sample_server_is_refused_as_not_a_scale() -> None:
    """asyncua's example server (``uaserver --populate``): OPC UA, but no OPC UA for Scales namespace."""
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "uaserver"), "--populate", "--url", f"opc.tcp://127.0.0.1:{port}/"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "uaserver did not start"
                time.sleep(0.2)
        with pytest.raises(ProtocolMismatchError, match="Scales/V2"):
            open_scale(f"opc.tcp://127.0.0.1:{port}?timeout=10")
    finally:
        server.terminate()
        server.wait(30)


def test_nothing_listening_is_a_transport_error() -> None:
    with pytest.raises(TransportError):
        open_scale(f"opc.tcp://127.0.0.1:{free_port()}?timeout=1")


def test_two_scales_on_one_server_are_told_apart_by_name() -> None:
    with Simulator.start(protocol="mt-sics") as first, Simulator.start(protocol="sbi") as second:
        first.place("1 g")
        second.place("2 g")
        port = free_port()
        cfg = with_urls(parse_config({}), [first.url, second.url])
        with ServerThread(ScaleServer(cfg, port=port, poll_interval=0.02)):
            url = f"opc.tcp://127.0.0.1:{port}"
            with pytest.raises(ProtocolMismatchError, match=r"several scales \(Scale1, Scale2\)"):
                open_scale(url)
            with open_scale(f"{url}?scale=Scale2", stability_timeout=5) as scale:
                _settled(scale, "2")
                assert scale.read().value == 2
                other = OpcUaScale(f"{url}?scale=Scale1")
                try:
                    assert other.read(stable=False).value == 1
                finally:
                    other.close()
