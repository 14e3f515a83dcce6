"""``hengqi field``: the platform's side of field supervision (the MQTT ingest, the broker's ACL)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from hengqi.cli.app import EXIT_OK
from hengqi.cli.serve import _settings, store_options

if TYPE_CHECKING:
    from hengqi.supervision.broker import BrokerAddress

F = TypeVar("F", bound=Callable[..., Any])


@click.group("field")
def field() -> None:
    """Field supervision: ingest telemetry from the broker, write the broker's ACL."""


def stream_options(func: F) -> F:
    """``--namespace`` and ``--partitions`` of the JetStream layout (``docs/scale-out.md``)."""
    func = click.option(
        "--partitions",
        type=click.IntRange(1, 1024),
        default=None,
        help="Partitions of a new stream (default: what the namespace was made with, else 16).",
    )(func)
    return click.option(
        "--namespace",
        default="hengqi",
        show_default=True,
        help="Names the stream <NS>_FIELD, subjects <ns>.field.*, bucket <ns>-field.",
    )(func)


@field.command("ingest")
@store_options
@click.option("--broker", required=True, help="mqtt://INGEST-USER:PASSWORD@host:port")
@click.option("--client-id", default="hengqi-ingest", show_default=True, help="MQTT client id (persistent session).")
@click.option("--duration", type=click.FloatRange(min=0), default=None, help="Stop after this many seconds.")
@click.option(
    "--stream",
    default=None,
    metavar="nats://HOST:PORT",
    help="Bridge into NATS JetStream (one subject per instrument) instead of storing in the database.",
)
@click.option(
    "--host-id",
    default="hengqi",
    show_default=True,
    help="Sparkplug host id: STATE birth/death on spBv1.0/STATE/<host id> ('' for none; database ingest only).",
)
@stream_options
def ingest(  # noqa: PLR0917 - one parameter per click option
    data_dir: Path | None,
    database_url: str | None,
    broker: str,
    client_id: str,
    duration: float | None,
    stream: str | None,
    host_id: str,
    namespace: str,
    partitions: int | None,
) -> int:
    """Subscribe to spBv1.0/# and store telemetry in the platform's database (or bridge it into JetStream)."""
    from hengqi.supervision.broker import parse_broker_url
    from hengqi.supervision.sparkplug import check_id

    address = parse_broker_url(broker)
    if host_id:
        check_id(host_id, "--host-id")  # an InputError: exit code 2 naming the option
    if stream is not None:
        return _bridge(address, stream, client_id, duration, namespace, partitions)
    from hengqi.server.db.engine import Database
    from hengqi.server.db.migrate import upgrade
    from hengqi.server.field.curves import CurveStore
    from hengqi.server.field.ingest import Ingestor
    from hengqi.server.field.mqtt import IngestWorker

    settings = _settings(data_dir, database_url)
    database = Database(settings.effective_database_url())
    upgrade(database.engine)
    curves = CurveStore(Path(settings.data_dir) / "field")
    worker = IngestWorker(
        Ingestor(database, curves=curves), address, client_id=client_id, host_id=host_id or None
    ).start()
    click.echo(f"ingest: {address.display()} -> {database.url.split('@')[-1]}", err=True)
    try:
        end = None if duration is None else time.monotonic() + duration
        while end is None or time.monotonic() < end:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()
        database.dispose()
    total = worker.stats.total
    refused = ", ".join(f"{k} {v}" for k, v in sorted(total.refused.items())) or "none"
    click.echo(f"ingest: {total.stored} stored, {total.duplicates} duplicates, refused: {refused}", err=True)
    return EXIT_OK


def _bridge(  # noqa: PLR0917 - the ingest command's options, handed on
    address: BrokerAddress, stream: str, client_id: str, duration: float | None, namespace: str, partitions: int | None
) -> int:
    from hengqi.server.field import streaming
    from hengqi.supervision.streams import parse_stream_url

    nats_address = parse_stream_url(stream)
    layout = streaming.run_sync(lambda: streaming.layout_for(nats_address, namespace, partitions))
    click.echo(f"ingest: {address.display()} -> {nats_address.display()} stream {layout.stream}", err=True)
    stats = streaming.run_sync(
        lambda: streaming.bridge(nats_address, layout, address, client_id=client_id, duration=duration)
    )
    refused = ", ".join(f"{k} {v}" for k, v in sorted(stats.refused.items())) or "none"
    click.echo(
        f"ingest: {stats.messages} messages, {stats.events} events into {layout.stream}, "
        f"{stats.duplicates} duplicates, refused: {refused}",
        err=True,
    )
    return EXIT_OK


@field.command("consume")
@click.option("--stream", required=True, metavar="nats://HOST:PORT", help="The NATS server with JetStream.")
@stream_options
@click.option("--worker", type=click.IntRange(min=0), default=0, show_default=True, help="This worker's index.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="How many workers.")
@click.option("--name", default=None, help="Worker name in the leases (default: host and process id).")
@click.option("--batch", type=click.IntRange(1, 10_000), default=500, show_default=True)
@click.option("--no-take-over", is_flag=True, help="Serve only this worker's own partitions.")
@click.option("--duration", type=click.FloatRange(min=0), default=None, help="Stop after this many seconds.")
def consume(  # noqa: PLR0917 - one parameter per click option
    stream: str,
    namespace: str,
    partitions: int | None,
    worker: int,
    workers: int,
    name: str | None,
    batch: int,
    no_take_over: bool,
    duration: float | None,
) -> int:
    """Run the detectors on JetStream: serve this worker's partitions and any whose worker died; print totals."""
    import json
    import os
    import socket

    from hengqi.errors import InputError
    from hengqi.server.field import streaming
    from hengqi.supervision.streams import parse_stream_url

    if worker >= workers:
        raise InputError("--worker", f"must be below --workers ({workers})")
    nats_address = parse_stream_url(stream)
    layout = streaming.run_sync(lambda: streaming.layout_for(nats_address, namespace, partitions))
    label = name or f"{socket.gethostname()}-{os.getpid()}"
    click.echo(f"consume: {nats_address.display()} stream {layout.stream} as {label}", err=True)
    stats = streaming.run_sync(
        lambda: streaming.detect(
            nats_address,
            layout,
            name=label,
            worker=worker,
            workers=workers,
            batch=batch,
            take_over=not no_take_over,
            duration=duration,
        )
    )
    click.echo(json.dumps(stats.summary(), sort_keys=True))
    return EXIT_OK


@field.command("stream-sync")
@store_options
@click.option("--stream", required=True, metavar="nats://HOST:PORT", help="The NATS server with JetStream.")
@stream_options
@click.option("--duration", type=click.FloatRange(min=0), default=None, help="Stop after this many seconds.")
def stream_sync(  # noqa: PLR0917 - one parameter per click option
    data_dir: Path | None,
    database_url: str | None,
    stream: str,
    namespace: str,
    partitions: int | None,
    duration: float | None,
) -> int:
    """Platform side of the stream: device profiles into the bucket, the alerts stream into the database."""
    from hengqi.server.db.engine import Database
    from hengqi.server.db.migrate import upgrade
    from hengqi.server.field import streaming
    from hengqi.supervision.streams import parse_stream_url

    nats_address = parse_stream_url(stream)
    settings = _settings(data_dir, database_url)
    database = Database(settings.effective_database_url())
    try:
        upgrade(database.engine)
        layout = streaming.run_sync(lambda: streaming.layout_for(nats_address, namespace, partitions))
        profiles, result = streaming.run_sync(
            lambda: streaming.stream_sync(nats_address, layout, database, duration=duration)
        )
    finally:
        database.dispose()
    click.echo(
        f"stream-sync: {profiles} profiles; alerts: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged"
        + (f"; unknown devices: {', '.join(result.unknown_devices)}" if result.unknown_devices else "")
    )
    return EXIT_OK


@field.command("register")
@store_options
@click.option(
    "--instrument", "instrument_id", type=click.IntRange(min=1), required=True, help="Registry instrument id."
)
@click.option("--device-id", required=True, help="Device id: Sparkplug device id, MQTT user name, event 'instrument'.")
@click.option("--group", required=True, help="Sparkplug group id (e.g. the market or weighbridge operator).")
@click.option("--site-kind", type=click.Choice(["market", "weighbridge", "factory", "other"]), default="market")
@click.option("--region", "region_code", default="", help="Region code (letters or digits, at most 12).")
def register(  # noqa: PLR0917 - one parameter per click option
    data_dir: Path | None,
    database_url: str | None,
    instrument_id: int,
    device_id: str,
    group: str,
    site_kind: str,
    region_code: str,
) -> int:
    """Register a field device for a registry instrument; prints its HTTP token once."""
    from hengqi.server.db.engine import Database
    from hengqi.server.db.models import Instrument
    from hengqi.server.errors import NotFoundError
    from hengqi.server.field.devices import register_device

    settings = _settings(data_dir, database_url)
    database = Database(settings.effective_database_url())
    try:
        with database.write_session() as session:
            instrument = session.get(Instrument, instrument_id)
            if instrument is None:
                raise NotFoundError("instrument", instrument_id)
            device, token = register_device(
                session,
                organisation_id=instrument.organisation_id,
                instrument_id=instrument_id,
                device_id=device_id,
                group_id=group,
                site_kind=site_kind,
                region_code=region_code,
            )
            session.commit()
    finally:
        database.dispose()
    click.echo(f"field device {device.device_id} (group {device.group_id}) for instrument {instrument_id}")
    click.echo(f"HTTP token (shown once): {token}")
    return EXIT_OK


@field.command("retention")
@store_options
@click.option("--curves-days", type=click.IntRange(min=1), required=True, help="Keep this many days of curves.")
def retention(data_dir: Path | None, database_url: str | None, curves_days: int) -> int:
    """Delete the Parquet partitions of weight curves older than --curves-days (events stay in the database)."""
    from datetime import UTC, datetime

    from hengqi.server.field.curves import CurveStore

    settings = _settings(data_dir, database_url)
    removed = CurveStore(Path(settings.data_dir) / "field").apply_retention(curves_days, datetime.now(UTC).date())
    click.echo(
        f"curves: {len(removed)} day partitions removed" + (f" ({removed[0]} .. {removed[-1]})" if removed else "")
    )
    return EXIT_OK


@field.command("acl")
@store_options
@click.option("--ingest-user", default="ingest", show_default=True)
@click.option("--host-id", default="hengqi", show_default=True, help="The ingest's Sparkplug host id ('' for none).")
def acl(data_dir: Path | None, database_url: str | None, ingest_user: str, host_id: str) -> int:
    """Print the Mosquitto ACL for every registered field device (each may publish only on its own topics)."""
    from sqlalchemy import select

    from hengqi.server.db.engine import Database
    from hengqi.server.field.broker import acl_text
    from hengqi.server.field.models import FieldDevice

    settings = _settings(data_dir, database_url)
    database = Database(settings.effective_database_url())
    try:
        with database.read_session() as session:
            rows = session.execute(
                select(FieldDevice.group_id, FieldDevice.device_id)
                .where(FieldDevice.deleted_at.is_(None))
                .order_by(FieldDevice.device_id)
            )
            pairs = [(r[0], r[1]) for r in rows]
    finally:
        database.dispose()
    click.echo(acl_text(pairs, ingest_user=ingest_user, host_id=host_id or None))
    return EXIT_OK


COMMANDS = (field,)


@click.command("field")
@click.option("--instruments", "count", type=click.IntRange(1, 100_000), required=True, help="How many instruments.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--days", type=click.IntRange(1, 366), default=1, show_default=True)
@click.option("--tamper-fraction", type=click.FloatRange(0, 1), default=0.3, show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--broker", default=None, help="Also publish the events over MQTT (Sparkplug B) to mqtt://host:port.")
@click.option("--rate", type=click.FloatRange(min=1), default=None, help="Events/s when publishing (default: at once).")
@click.option(
    "--stream",
    default=None,
    metavar="nats://HOST:PORT",
    help="Also publish the events and the instruments' profiles straight into NATS JetStream.",
)
@stream_options
def sim_field(  # noqa: PLR0917 - one parameter per click option
    count: int,
    seed: int,
    days: int,
    tamper_fraction: float,
    out_dir: Path,
    broker: str | None,
    rate: float | None,
    stream: str | None,
    namespace: str,
    partitions: int | None,
) -> int:
    """Simulate a field of markets and weighbridges with labelled tampering (ground truth beside the data)."""
    import json

    from hengqi.supervision.broker import parse_broker_url
    from hengqi.supervision.fieldsim import field_files, simulate_field
    from hengqi.supervision.streams import parse_stream_url

    address = None if broker is None else parse_broker_url(broker)
    nats_address = None if stream is None else parse_stream_url(stream)
    data = simulate_field(count, seed=seed, days=days, tamper_fraction=tamper_fraction)
    files = field_files(data)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            (out_dir / name).write_bytes(content)
    except OSError as err:
        raise click.ClickException(f"--out: cannot write {out_dir}: {err.strerror or err}") from None
    manifest = json.loads(files["manifest.json"])
    if address is not None:
        from hengqi.edge.replay import publish_events

        groups = {i.device_id: i.group for i in data.instruments}
        acked = publish_events(data.events, groups, address, rate=rate)
        click.echo(f"published to {address.display()}: {acked} messages acknowledged", err=True)
    if nats_address is not None:
        from hengqi.server.field import streaming

        layout = streaming.run_sync(lambda: streaming.layout_for(nats_address, namespace, partitions))
        profiles, result = streaming.run_sync(lambda: streaming.publish_field(nats_address, layout, data))
        click.echo(
            f"published to {nats_address.display()} stream {layout.stream}: {result.stored} events stored, "
            f"{result.duplicates} duplicates, {profiles} profiles",
            err=True,
        )
    click.echo(
        f"{len(data.instruments)} instruments, {len(data.events)} events, {len(data.labels)} labels "
        f"({manifest['labels_by_scenario']}) in {out_dir}"
    )
    return EXIT_OK
