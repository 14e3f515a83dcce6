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
def ingest(data_dir: Path | None, database_url: str | None, broker: str, client_id: str, duration: float | None) -> int:
    """Subscribe to spBv1.0/# and store telemetry in the platform's database until Ctrl-C."""
    from hengqi.server.db.engine import Database
    from hengqi.server.db.migrate import upgrade
    from hengqi.server.field.ingest import Ingestor
    from hengqi.server.field.mqtt import IngestWorker
    from hengqi.supervision.broker import parse_broker_url

    address = parse_broker_url(broker)
    settings = _settings(data_dir, database_url)
    database = Database(settings.effective_database_url())
    upgrade(database.engine)
    worker = IngestWorker(Ingestor(database), address, client_id=client_id).start()
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


@field.command("acl")
@store_options
@click.option("--ingest-user", default="ingest", show_default=True)
def acl(data_dir: Path | None, database_url: str | None, ingest_user: str) -> int:
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
    click.echo(acl_text(pairs, ingest_user=ingest_user))
    return EXIT_OK


COMMANDS = (field,)
