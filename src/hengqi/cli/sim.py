"""``hengqi sim``: run simulated instruments on loopback (one from options, or a fleet from a YAML file).

Prints one line per instrument: its name, TCP URL, pty URL (with ``--pty``) and control-channel URL; then serves
until Ctrl-C or ``--duration`` seconds.
"""

from __future__ import annotations

import json
import re
import time

import click

from hengqi.cli.app import EXIT_OK
from hengqi.errors import InputError
from hengqi.instruments.fleet import FleetConfig, load_fleet, parse_fleet, start_fleet
from hengqi.instruments.simulator import Simulator
from hengqi.instruments.transport import PROTOCOLS


def _single(
    *,
    protocol: str,
    port: int,
    accuracy_class: str,
    max_: str,
    e: str,
    d: str | None,
    unit: str,
    pty: bool,
    control_port: int,
    seed: int,
    load: str | None,
    settling: float,
) -> FleetConfig:
    item: dict[str, object] = {
        "name": "sim",
        "protocol": protocol,
        "port": port,
        "class": accuracy_class,
        "max": max_,
        "e": e,
        "unit": unit,
        "pty": pty,
        "control_port": control_port,
        "seed": seed,
        "imperfections": {"settling_s": settling},
    }
    if d is not None:
        item["d"] = d
    if load is not None:
        item["load"] = load
    try:
        return parse_fleet({"instruments": [item]})
    except InputError as err:  # name the option, not the fleet-file field
        option = err.path.removeprefix("instruments[0].").replace("accuracy_class", "class").replace("_", "-")
        raise InputError(f"--{option}", err.reason) from None


@click.group("sim", invoke_without_command=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Fleet file (YAML).")
@click.option("--protocol", type=click.Choice(PROTOCOLS), default="mt-sics", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="TCP port (0: any free).")
@click.option(
    "--class", "accuracy_class", type=click.Choice(["I", "II", "III", "IIII"]), default="I", show_default=True
)
@click.option("--max", "max_", default="220 g", show_default=True, help="Max, e.g. '220 g'.")
@click.option("--e", default="1 mg", show_default=True, help="Verification scale interval e.")
@click.option("--d", default="0.1 mg", show_default=True, help="Actual scale interval d.")
@click.option("--unit", default=None, help="Display unit (default: the unit of --max).")
@click.option("--pty", is_flag=True, help="Also serve on a pseudo-terminal.")
@click.option(
    "--control-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Control-channel port (0: any free).",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--load", default=None, help="Initial load on the receptor, e.g. '100 g'.")
@click.option(
    "--settling", type=click.FloatRange(min=0), default=1.0, show_default=True, help="Settling time in seconds."
)
@click.option("--duration", type=click.FloatRange(min=0), default=None, help="Stop after this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the addresses as JSON lines.")
def sim_command(  # noqa: PLR0917 - one parameter per click option
    config_path: str | None,
    protocol: str,
    port: int,
    accuracy_class: str,
    max_: str,
    e: str,
    d: str | None,
    unit: str | None,
    pty: bool,
    control_port: int,
    seed: int,
    load: str | None,
    settling: float,
    duration: float | None,
    as_json: bool,
) -> int:
    """Run simulated weighing instruments on 127.0.0.1 (see docs/simulator.md); ``sim field``: a field's data."""
    if click.get_current_context().invoked_subcommand is not None:
        return EXIT_OK
    if config_path is not None:
        config = load_fleet(config_path)
    else:
        match = re.search(r"([A-Za-zµμ]+)\s*$", max_)
        display_unit = unit or (match.group(1) if match else "g")
        config = _single(
            protocol=protocol,
            port=port,
            accuracy_class=accuracy_class,
            max_=max_,
            e=e,
            d=d,
            unit=display_unit,
            pty=pty,
            control_port=control_port,
            seed=seed,
            load=load,
            settling=settling,
        )
    simulators: list[Simulator] = start_fleet(config)
    try:
        for sim in simulators:
            record = {
                "name": sim.name,
                "protocol": sim.protocol,
                "url": sim.url,
                "pty": sim.pty_url,
                "control": sim.control_url,
            }
            if as_json:
                click.echo(json.dumps(record))
            else:
                extra = f"  pty {sim.pty_url}" if sim.pty_url else ""
                click.echo(f"{sim.name}: {sim.url}{extra}  control {sim.control_url}")
        click.echo("serving; Ctrl-C stops" if duration is None else f"serving for {duration:g} s", err=True)
        deadline = None if duration is None else time.monotonic() + duration
        try:
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.1 if deadline is None else max(0.0, min(0.1, deadline - time.monotonic())))
        except KeyboardInterrupt:
            pass
    finally:
        for sim in simulators:
            sim.stop()
    return EXIT_OK


def _add_field_command() -> None:
    """``hengqi sim field`` (the field simulator) lives with the other field commands."""
    from hengqi.cli.field import sim_field

    sim_command.add_command(sim_field)


_add_field_command()

COMMANDS = (sim_command,)
