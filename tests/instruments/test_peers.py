"""Independent checks that the simulator speaks the real protocols (protocols.md 5): foreign clients read from it,
and hengqi's own driver reads from a foreign MT-SICS server (mt-sics-emulator, always bound to 127.0.0.1)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
import types
import warnings
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sartorius
from instruments.units import ureg

import instruments as ik


def _shim_pkg_resources() -> None:
    """serial_interface 2.3.1 reads its version through pkg_resources, which this venv (no setuptools) lacks;
    its fallback catches only ``DistributionNotFound``, so give it a module whose lookup raises that."""
    try:
        import pkg_resources  # noqa: F401
    except ModuleNotFoundError:
        shim = types.ModuleType("pkg_resources")

        class DistributionNotFound(Exception):
            pass

        def get_distribution(name: str) -> object:
            raise DistributionNotFound(name)

        shim.DistributionNotFound = DistributionNotFound  # type: ignore[attr-defined]
        shim.get_distribution = get_distribution  # type: ignore[attr-defined]
        sys.modules["pkg_resources"] = shim


_shim_pkg_resources()
from mettler_toledo_device import MettlerToledoDevice  # noqa: E402

from hengqi.instruments.drivers import MtSicsScale  # noqa: E402
from hengqi.instruments.errors import ScaleSyntaxError  # noqa: E402
from hengqi.instruments.simulator import Imperfections, Simulator  # noqa: E402
from hengqi.instruments.transport import open_transport  # noqa: E402

FAST = Imperfections(settling_s=0.05, stability_timeout_s=2.0)


@pytest.fixture
def mtsics_sim() -> Iterator[Simulator]:
    with Simulator.start("mt-sics", pty=True, imperfections=FAST) as sim:
        sim.place("100 g")
        time.sleep(0.1)
        yield sim


def test_instrumentkit_over_tcp(mtsics_sim: Simulator) -> None:
    bal = ik.mettler_toledo.MTSICS.open_tcpip("127.0.0.1", mtsics_sim.port)
    bal.timeout = 1 * ureg.s  # required before mt_sics_commands on TCP (protocols.md 5.3)
    assert bal.weight.to("g").magnitude == pytest.approx(100.0, abs=1e-9)
    assert bal.serial_number == mtsics_sim.info.serial
    assert bal.mt_sics[0] == "01"
    assert ["1", "TAC"] in bal.mt_sics_commands
    bal.tare()
    assert bal.tare_value.to("g").magnitude == pytest.approx(100.0)
    assert bal.weight.to("g").magnitude == pytest.approx(0.0)
    bal.clear_tare()
    mtsics_sim.remove()
    time.sleep(0.1)
    bal.zero()
    bal.weight_mode = bal.WeightMode.immediately
    assert bal.weight.to("g").magnitude == pytest.approx(0.0)


def test_instrumentkit_over_pty_and_error_replies(mtsics_sim: Simulator) -> None:
    assert mtsics_sim.pty_path is not None
    bal = ik.mettler_toledo.MTSICS.open_serial(mtsics_sim.pty_path, 9600)
    bal.timeout = 1 * ureg.s
    assert bal.weight.to("g").magnitude == pytest.approx(100.0)
    mtsics_sim.place("300 g")
    with pytest.raises(OSError, match="overload"):
        bal.weight  # noqa: B018 - the property sends S
    mtsics_sim.place("100 g")
    time.sleep(0.1)
    with pytest.raises(OSError, match="Syntax"):
        bal.query("XYZ")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mtsics_sim.place("50 g")
        bal.weight_mode = bal.WeightMode.immediately
        bal.weight  # noqa: B018 - SI while settling
    assert any("dynamic" in str(w.message) for w in caught)


def test_mettler_toledo_device_over_pty(mtsics_sim: Simulator) -> None:
    dev = MettlerToledoDevice(port=mtsics_sim.pty_path)  # sleeps 2 s in its constructor
    try:
        assert dev.get_weight_stable() == [100.0, "g"]
        assert dev.get_weight() == [100.0, "g", "S"]
        assert dev.get_serial_number() == mtsics_sim.info.serial
        assert dev.get_mtsics_level()[0] == "01"
    finally:
        dev.close()


@pytest.mark.parametrize("over", ["tcp", "pty"])
def test_sartorius_client(over: str) -> None:
    with Simulator.start("sbi", pty=True, imperfections=FAST) as sim:
        sim.place("100 g")
        time.sleep(0.1)
        address = f"127.0.0.1:{sim.port}" if over == "tcp" else sim.pty_path

        async def read() -> tuple[dict[str, object], dict[str, object]]:
            async with sartorius.Scale(address) as scale:
                reading = await scale.get()
                info = await scale.get_info()
                scale.hw.close()
                return dict(reading), dict(info)

        reading, info = asyncio.run(read())
    assert reading == {"mass": 100.0, "units": "g", "stable": True, "measurement": "gross"}
    assert info == {"model": "HQ-SIM", "serial": "SIM0000000", "software": "hengqi-sim 1.0"}


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return int(sock.getsockname()[1])


@pytest.fixture
def emulator() -> Iterator[tuple[int, int]]:
    port, control = _free_port(), _free_port()
    exe = Path(sys.executable).with_name("mtsics-tcp")
    proc = subprocess.Popen(
        [str(exe), "--host", "127.0.0.1", "--port", str(port), "--profile", "mt-xs204", "--control-port", str(control)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                httpx.get(f"http://127.0.0.1:{control}/state", timeout=1)
                break
            except (OSError, httpx.HTTPError):
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        yield port, control
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_hengqi_driver_reads_the_foreign_mt_sics_emulator(emulator: tuple[int, int]) -> None:
    port, control = emulator
    state = httpx.post(f"http://127.0.0.1:{control}/weight", json={"value": 100.0, "snap": True}, timeout=2).json()
    with MtSicsScale(open_transport(f"tcp://127.0.0.1:{port}?timeout=2"), stability_timeout=5) as scale:
        reading = scale.read()
        assert reading.stable
        assert reading.value == Decimal("100")
        assert reading.unit == state["unit"]
        assert scale.read(stable=False).value == reading.value  # the emulator answers "SI S ..." (accepted)
        identity = scale.identify()
        assert identity.serial == state["serial_number"]
        scale.tare()
        assert scale.read().value == 0
        scale.clear_tare()
        assert scale.read().value == Decimal("100")
        with pytest.raises(ScaleSyntaxError):
            scale.tare_value()  # the emulator answers TA with ES (protocols.md 5.4)
