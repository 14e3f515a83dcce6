"""``hengqi agent``: the edge agent, reading a scale and publishing its telemetry over MQTT/Sparkplug B.

Events wait in a local SQLite queue (``--queue``, bounded by ``--capacity``, oldest dropped first) until the broker
has acknowledged them, so the agent survives broker outages and its own restarts (see docs/field.md).
"""

from __future__ import annotations

from pathlib import Path

import click

from hengqi.cli.app import EXIT_OK


@click.command("agent")
@click.option("--scale", "scale_url", required=True, help="Instrument URL, e.g. tcp://127.0.0.1:4001?protocol=mt-sics.")
@click.option("--instrument", required=True, help="The device id the platform registered for this instrument.")
@click.option("--broker", required=True, help="mqtt://DEVICE-ID:PASSWORD@host:port")
@click.option("--group", default="default", show_default=True, help="Sparkplug B group id (e.g. the market).")
@click.option("--queue", "queue_path", type=click.Path(dir_okay=False, path_type=Path), help="Queue file.")
@click.option(
    "--capacity", type=click.IntRange(min=1), default=100_000, show_default=True, help="Queue bound (events)."
)
@click.option("--poll", type=click.FloatRange(min=0.01), default=0.2, show_default=True, help="Seconds between reads.")
@click.option(
    "--heartbeat", type=click.FloatRange(min=1), default=10.0, show_default=True, help="Seconds between heartbeats."
)
@click.option("--duration", type=click.FloatRange(min=0), default=None, help="Stop after this many seconds.")
@click.option(
    "--primary-host",
    default=None,
    help="Sparkplug host id of the platform's ingest (e.g. hengqi): publish only while it is online.",
)
def agent(  # noqa: PLR0917 - one parameter per click option
    scale_url: str,
    instrument: str,
    broker: str,
    group: str,
    queue_path: Path | None,
    capacity: int,
    poll: float,
    heartbeat: float,
    duration: float | None,
    primary_host: str | None,
) -> int:
    """Read a scale and publish its telemetry (identity, weighings, state, heartbeats) to the platform."""
    from hengqi.edge.agent import Agent, check_scale_url
    from hengqi.edge.publisher import Publisher
    from hengqi.edge.queue import ForwardQueue
    from hengqi.errors import InputError
    from hengqi.supervision.broker import parse_broker_url
    from hengqi.supervision.sparkplug import check_id

    check_scale_url(scale_url)
    address = parse_broker_url(broker)
    try:
        check_id(instrument, "--instrument")
        check_id(group, "--group")
    except InputError as err:
        raise InputError(err.path, err.reason) from None
    queue = ForwardQueue(queue_path or Path(f"agent-{instrument}.sqlite3"), instrument, capacity=capacity)
    publisher = Publisher(queue, address, group=group, primary_host=primary_host).start()
    runner = Agent(scale_url, queue, publisher, poll_s=poll, heartbeat_s=heartbeat)
    click.echo(f"agent {instrument}: {scale_url} -> {address.display()} group {group}, queue {queue.path}", err=True)
    try:
        counts = runner.run(duration_s=duration)
        publisher.drain(timeout_s=5)
    finally:
        publisher.stop()
        left = queue.depth()
        queue.close()
    click.echo(
        f"agent {instrument}: {counts.events} events, {left} still queued, {counts.scale_errors} scale errors", err=True
    )
    return EXIT_OK


COMMANDS = (agent,)
