"""``hengqi opcua``: serve a simulated balance from the command line; refusals exit 2 with one line."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest
from asyncua import Client
from tests.opcua.fixtures import free_port

from hengqi.cli.app import cli
from hengqi.instruments.opcua import DI_NS, SCALES_NS
from hengqi.instruments.simulator import Simulator
from hengqi.opcua.model import HENGQI_NS

HENGQI = [sys.executable, "-c", "from hengqi.cli import main; main()"]


def test_serve_a_simulated_balance(tmp_path: Path) -> None:
    with Simulator.start(protocol="mt-sics") as sim:
        sim.place("12 g")
        port = free_port()
        process = subprocess.Popen(
            [
                *HENGQI,
                *("opcua", "serve", "--scale", sim.url, "--port", str(port)),
                *("--duration", "60", "--poll-interval", "0.05", "--pki", str(tmp_path)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            assert first.startswith(f"endpoint opc.tcp://127.0.0.1:{port}/")
            assert "anonymous" in first
            assert process.stdout.readline().split() == ["Scale1", sim.url]

            async def read() -> float:
                async with Client(f"opc.tcp://127.0.0.1:{port}/") as client:
                    await client.load_data_type_definitions()
                    ns = await client.get_namespace_index(SCALES_NS)
                    di = await client.get_namespace_index(DI_NS)
                    hq = await client.get_namespace_index(HENGQI_NS)
                    node = await client.nodes.objects.get_child(
                        [f"{di}:DeviceSet", f"{hq}:Scale1", f"{ns}:CurrentWeight"]
                    )
                    deadline = time.monotonic() + 10
                    while (value := await node.read_value()).Net != 12.0 and time.monotonic() < deadline:
                        await asyncio.sleep(0.05)
                    return float(value.Net)

            assert asyncio.run(read()) == 12.0
        finally:
            process.terminate()
            process.wait(30)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["opcua", "serve"], "give at least one scale"),
        (["opcua", "serve", "--scale", "ftp://x"], "unknown scheme"),
        (["opcua", "serve", "--scale", "tcp://127.0.0.1:1?protocol=mt-sics", "--host", "0.0.0.0"], "without security"),
        (["opcua", "serve", "--config", "/nonexistent/opcua.yaml"], "cannot read"),
    ],
)
def test_refusals_exit_2_with_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def test_bad_config_names_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "opcua.yaml"
    path.write_text("scales:\n  - url: tcp://127.0.0.1:1?protocol=mt-sics\n    e: -1 mg\n", encoding="utf-8")
    assert cli(["opcua", "serve", "--config", str(path)]) == 2
    assert "scales[0].e" in capsys.readouterr().err
    path.write_text("scales: ['tcp://127.0.0.1:1?protocol=mt-sics']\nusers: {mes: plaintext}\n", encoding="utf-8")
    assert cli(["opcua", "serve", "--config", str(path)]) == 2
    assert "argon2" in capsys.readouterr().err
    path.write_text("scales: [{url: 'tcp://127.0.0.1:1?protocol=mt-sics', extension: {verification_due: soon}}]\n")
    assert cli(["opcua", "serve", "--config", str(path)]) == 2
    assert "verification_due" in capsys.readouterr().err
    path.write_text("scales: [tcp://127.0.0.1:1?protocol=mt-sics]\n", encoding="utf-8")  # unquoted flow: bad YAML
    assert cli(["opcua", "serve", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "not valid YAML at line 1" in err
    assert err.count("\n") == 1


def test_hash_password_reads_stdin() -> None:
    done = subprocess.run(
        [*HENGQI, "opcua", "hash-password"],
        input="s3cret\n",
        capture_output=True,
        text=True,
        check=True,
    )
    from argon2 import PasswordHasher

    assert PasswordHasher().verify(done.stdout.strip(), "s3cret")
