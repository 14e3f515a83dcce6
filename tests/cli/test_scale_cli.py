"""``hengqi scale``: each subcommand against the simulator, the JSON contract, exit codes for bad input."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from hengqi.cli import cli
from hengqi.instruments.simulator import Imperfections, Simulator

FAST = Imperfections(settling_s=0.05, stability_timeout_s=1.0)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator.start("mt-sics", imperfections=FAST) as simulator:
        simulator.place("100 g")
        time.sleep(0.1)
        yield simulator


def test_read_json_contract(sim: Simulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["scale", "read", sim.url, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {"value": 100.0, "unit": "g", "stable": True, "value_kg": 0.1}


def test_read_text_identify_probe(sim: Simulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["scale", "read", sim.url, "--unstable"]) == 0
    assert capsys.readouterr().out.strip() == "100.0000 g (stable)"
    assert cli(["scale", "identify", sim.url, "--json"]) == 0
    identity = json.loads(capsys.readouterr().out)
    assert identity["serial"] == sim.info.serial
    assert identity["capacity_kg"] == "0.2200000"
    assert identity["d_kg"] == "1E-7"
    bare = sim.url.split("?")[0]
    assert cli(["scale", "probe", bare, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["protocol"] == "mt-sics"
    assert cli(["scale", "identify", bare]) == 0
    assert "model: HQ-SIM" in capsys.readouterr().out


def test_tare_zero_clear_tare(sim: Simulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["scale", "tare", sim.url]) == 0
    assert cli(["scale", "read", sim.url, "--json"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith('{"value": 0.0')
    assert cli(["scale", "clear-tare", sim.url, "--json"]) == 0
    sim.remove()
    time.sleep(0.1)
    assert cli(["scale", "zero", sim.url]) == 0
    assert "zero: done" in capsys.readouterr().out


def test_refusals_exit_1(sim: Simulator, capsys: pytest.CaptureFixture[str]) -> None:
    sim.place("500 g")
    time.sleep(0.1)
    assert cli(["scale", "read", sim.url]) == 1
    assert "overload" in capsys.readouterr().err
    assert cli(["scale", "zero", sim.url]) == 1
    assert cli(["scale", "watch", sim.url, "--count", "2", "--interval", "0", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["error"] for line in lines] == ["scale_overload", "scale_overload"]


def test_watch_counts(sim: Simulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["scale", "watch", sim.url, "--count", "3", "--interval", "0.01"]) == 0
    assert capsys.readouterr().out.splitlines() == ["100.0000 g (stable)"] * 3


def test_sbi_read_reports_net_or_gross(capsys: pytest.CaptureFixture[str]) -> None:
    with Simulator.start("sbi", imperfections=FAST) as simulator:
        simulator.place("5 g")
        time.sleep(0.1)
        assert cli(["scale", "read", simulator.url]) == 0
    assert capsys.readouterr().out.strip() == "5.0000 g (stable, gross)"


def _closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["scale", "read", "gopher://x"], "unknown scheme 'gopher'"),
        (
            ["scale", "read", "serial:///dev/no-such-port?protocol=mt-sics"],
            "serial:///dev/no-such-port?protocol=mt-sics: cannot open",
        ),
        (["scale", "identify", "tcp://127.0.0.1:{port}?protocol=sbi"], "cannot connect"),
        (["scale", "read", "tcp://127.0.0.1:{port}?baud=x"], "is not a number"),
    ],
)
def test_bad_input_exits_2_naming_the_url(args: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    port = _closed_port()
    args = [a.format(port=port) for a in args]
    assert cli(args) == 2
    err = capsys.readouterr().err
    assert words in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_device_in_another_protocol_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with Simulator.start("and", imperfections=FAST) as simulator:
        bare = simulator.url.split("?")[0]
        assert cli(["scale", "read", f"{bare}?protocol=mt-sics&timeout=0.5", "--unstable"]) == 2
    err = capsys.readouterr().err
    assert "expected a MT-SICS reply" in err
    assert bare in err


def test_silent_device_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        url = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        assert cli(["scale", "read", f"{url}?protocol=mt-sics&timeout=0.3", "--unstable"]) == 2
        assert cli(["scale", "probe", url]) == 2
    err = capsys.readouterr().err
    assert "no reply within 0.3 s" in err
    assert "no MT-SICS, A&D, SBI or Toledo continuous instrument answered" in err
