"""``hengqi scale``: identify, read, zero, tare, probe and watch a weighing instrument at a URL.

Exit status: 0 done; 1 the instrument refused (overload, underload, not stable, command not executable);
2 bad address, no connection, silence, or a device that answers in another protocol.

JSON of ``read``: ``{"value": 100.0, "unit": "g", "stable": true, "value_kg": 0.1}``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import click

from hengqi.cli.app import EXIT_FAIL, EXIT_OK
from hengqi.instruments.errors import ScaleCommandError, ScaleRangeError
from hengqi.instruments.probe import open_scale, probe
from hengqi.instruments.reading import Reading
from hengqi.instruments.scale import Scale

T = TypeVar("T")

_URL_HELP = (
    "Instrument address, e.g. tcp://127.0.0.1:4001?protocol=mt-sics, "
    "serial:///dev/ttyUSB0?baud=9600&bytesize=7&parity=E&protocol=and, socket://HOST:PORT, "
    "rfc2217://HOST:PORT, opc.tcp://HOST:4840?protocol=opcua-scales (OPC UA for Scales); "
    "A&D balances: ack=none|once|twice (their erCd setting).\n\n"
    "Exit status: 0 done; 1 the instrument refused (overload, underload, no stability, command not executable); "
    "2 bad address, port refuses the line settings, no connection, silence, or another protocol answered."
)


def _reading_text(reading: Reading) -> str:
    flags = "stable" if reading.stable else "dynamic"
    if reading.net is not None:
        flags += ", net" if reading.net else ", gross"
    return f"{reading.value} {reading.unit} ({flags})"


def _with_scale(url: str, stability_timeout: float, action: Callable[[Scale], T]) -> T | int:
    """Run ``action`` on the opened scale; a refusal by the instrument prints one line and gives exit 1."""
    with open_scale(url, stability_timeout=stability_timeout) as scale:
        try:
            return action(scale)
        except ScaleCommandError as err:
            click.echo(f"hengqi: {err}", err=True)
            return EXIT_FAIL


def _emit(as_json: bool, data: dict[str, Any], text: str) -> None:
    click.echo(json.dumps(data, ensure_ascii=False) if as_json else text)


_stability = click.option(
    "--stability-timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds to wait for a stable reading.",
)
_json = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group("scale", epilog=_URL_HELP)
def scale_group() -> None:
    """Talk to a weighing instrument (MT-SICS, Sartorius SBI, A&D, Toledo continuous, OPC UA for Scales)."""


@scale_group.command("identify")
@click.argument("url")
@_json
@_stability
def identify_command(url: str, as_json: bool, stability_timeout: float) -> int:
    """Make, model, serial number, capacity and d of the instrument at URL."""

    def act(scale: Scale) -> int:
        identity = scale.identify()
        data = identity.as_json()
        lines = [f"{key}: {value}" for key, value in data.items() if value is not None]
        _emit(as_json, data, "\n".join(lines))
        return EXIT_OK

    result = _with_scale(url, stability_timeout, act)
    return result if isinstance(result, int) else EXIT_OK


@scale_group.command("read")
@click.argument("url")
@click.option("--unstable", is_flag=True, help="Do not wait for stability (MT-SICS SI).")
@_json
@_stability
def read_command(url: str, unstable: bool, as_json: bool, stability_timeout: float) -> int:
    """One reading from the instrument at URL (stable unless --unstable)."""

    def act(scale: Scale) -> int:
        reading = scale.read(stable=not unstable)
        _emit(as_json, reading.as_json(), _reading_text(reading))
        return EXIT_OK

    return _with_scale(url, stability_timeout, act)


def _simple(name: str, doc: str, method: Callable[[Scale], None]) -> click.Command:
    @click.command(name, help=doc)
    @click.argument("url")
    @_json
    @_stability
    def command(url: str, as_json: bool, stability_timeout: float) -> int:
        def act(scale: Scale) -> int:
            method(scale)
            _emit(as_json, {"done": name}, f"{name}: done")
            return EXIT_OK

        return _with_scale(url, stability_timeout, act)

    return command


scale_group.add_command(_simple("zero", "Zero the instrument at URL.", lambda s: s.zero()))
scale_group.add_command(_simple("tare", "Tare the instrument at URL.", lambda s: s.tare()))
scale_group.add_command(_simple("clear-tare", "Clear the tare of the instrument at URL.", lambda s: s.clear_tare()))


@scale_group.command("probe")
@click.argument("url")
@_json
def probe_command(url: str, as_json: bool) -> int:
    """Find the protocol (and on a serial port the line settings) of the instrument at URL."""
    result = probe(url)
    _emit(as_json, result.as_json(), f"{result.protocol}: {result.url}\nevidence: {result.evidence!r}")
    return EXIT_OK


@scale_group.command("watch")
@click.argument("url")
@click.option("--count", type=click.IntRange(min=1), default=None, help="Stop after N readings (else Ctrl-C).")
@click.option("--interval", type=click.FloatRange(min=0.0), default=0.2, show_default=True, help="Seconds between.")
@_json
@_stability
def watch_command(url: str, count: int | None, interval: float, as_json: bool, stability_timeout: float) -> int:
    """Live readings from the instrument at URL (dynamic ones included)."""

    def act(scale: Scale) -> int:
        done = 0
        try:
            while count is None or done < count:
                try:
                    reading = scale.read(stable=False)
                except ScaleRangeError as err:  # overload/underload are readings too while watching
                    _emit(as_json, {"error": err.code, "reply": err.reply}, f"{err.meaning}: {err.reply!r}")
                else:
                    _emit(as_json, reading.as_json(), _reading_text(reading))
                done += 1
                if interval and (count is None or done < count):
                    time.sleep(interval)
        except KeyboardInterrupt:
            pass
        return EXIT_OK

    return _with_scale(url, stability_timeout, act)


for _command in scale_group.commands.values():  # every subcommand's --help states the address forms and exit codes
    _command.epilog = _command.epilog or _URL_HELP

COMMANDS = (scale_group,)
