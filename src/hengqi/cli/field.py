"""``hengqi field``: the platform's side of field supervision (the MQTT ingest, the broker's ACL)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from hengqi.cli.app import EXIT_OK
from hengqi.cli.serve import _settings, store_options


@click.group("field")
def field() -> None:
    """Field supervision: ingest telemetry from the broker, write the broker's ACL."""


@field.command("ingest")
@store_options
@click.option("--broker", required=True, help="mqtt://INGEST-USER:PASSWORD@host:port")
@click.option("--client-id", default="hengqi-ingest", show_default=True, help="MQTT client id (persistent session).")
@click.option("--duration", type=click.FloatRange(min=0), default=None, help="Stop after this many seconds.")
@click.option(
    "--host-id",
    default="hengqi",
    show_default=True,
    help="Sparkplug host id: STATE birth/death on spBv1.0/STATE/<host id> ('' for none).",
)
def ingest(  # noqa: PLR0917 - one parameter per click option
    data_dir: Path | None, database_url: str | None, broker: str, client_id: str, duration: float | None, host_id: str
) -> int:
    """Subscribe to spBv1.0/# and store telemetry in the platform's database until Ctrl-C."""
    from hengqi.server.db.engine import Database
    from hengqi.server.db.migrate import upgrade
    from hengqi.server.field.curves import CurveStore
    from hengqi.server.field.ingest import Ingestor
    from hengqi.server.field.mqtt import IngestWorker
    from hengqi.supervision.broker import parse_broker_url
    from hengqi.supervision.sparkplug import check_id

    address = parse_broker_url(broker)
    if host_id:
        check_id(host_id, "--host-id")  # an InputError: exit code 2 naming the option
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
def sim_field(  # noqa: PLR0917 - one parameter per click option
    count: int, seed: int, days: int, tamper_fraction: float, out_dir: Path, broker: str | None, rate: float | None
) -> int:
    """Simulate a field of markets and weighbridges with labelled tampering (ground truth beside the data)."""
    import json

    from hengqi.supervision.broker import parse_broker_url
    from hengqi.supervision.fieldsim import field_files, simulate_field

    address = None if broker is None else parse_broker_url(broker)
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
    click.echo(
        f"{len(data.instruments)} instruments, {len(data.events)} events, {len(data.labels)} labels "
        f"({manifest['labels_by_scenario']}) in {out_dir}"
    )
    return EXIT_OK
