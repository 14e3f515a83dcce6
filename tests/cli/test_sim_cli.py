"""``hengqi sim``: one instrument from options, a fleet from a file; real processes on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hengqi.cli import cli
from hengqi.instruments.probe import open_scale
from hengqi.instruments.simulator import ControlClient

ROOT = Path(__file__).resolve().parents[2]
HENGQI = Path(sys.executable).with_name("hengqi")


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(HENGQI), "sim", "--json", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_single_simulator_serves_and_takes_control_commands() -> None:
    proc = _start(
        "--protocol",
        "mt-sics",
        "--port",
        "0",
        "--class",
        "I",
        "--max",
        "220 g",
        "--e",
        "1 mg",
        "--d",
        "0.1 mg",
        "--settling",
        "0.05",
        "--duration",
        "20",
    )
    try:
        assert proc.stdout is not None
        record = json.loads(proc.stdout.readline())
        assert record["url"].startswith("tcp://127.0.0.1:")
        assert record["protocol"] == "mt-sics"
        assert ControlClient(record["control"]).send("PLACE 12.5 g").startswith("OK")
        with open_scale(record["url"], stability_timeout=3) as scale:
            reading = scale.read()
        assert str(reading.value) == "12.5000"
        assert reading.unit == "g"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_fleet_file_prints_every_instrument(capsys: pytest.CaptureFixture[str]) -> None:
    fleet = ROOT / "examples" / "sim" / "retail-scale.yaml"
    assert cli(["sim", "--config", str(fleet), "--json", "--duration", "0.1"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["name"] for r in records] == ["counter", "counter-and"]
    assert [r["protocol"] for r in records] == ["sbi", "and"]
    assert all(r["url"].startswith("tcp://127.0.0.1:") and r["control"] for r in records)


def test_bounded_run_and_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["sim", "--protocol", "sbi", "--duration", "0.2", "--pty"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("sim: tcp://127.0.0.1:")
    assert "?protocol=sbi" in out
    assert "pty serial:///dev/" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--class", "II"], "--max: n = Max/e = 220000 exceeds 100000"),
        (["--e", "1 furlong"], "--e: unknown mass unit"),
        (["--config", "/nonexistent/fleet.yaml"], "/nonexistent/fleet.yaml: no such file"),
        (["--protocol", "modbus"], "Invalid value for '--protocol'"),
    ],
)
def test_bad_options_exit_2(args: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["sim", "--duration", "0", *args]) == 2
    assert words in capsys.readouterr().err
