"""``hengqi field detect``: run the tampering and drift detectors over the stored field events and record alerts.

Added to the ``hengqi field`` group from here (the group lives in :mod:`hengqi.cli.field`).
"""

from __future__ import annotations

from pathlib import Path

import click

from hengqi.cli.app import EXIT_OK
from hengqi.cli.field import field
from hengqi.cli.serve import _settings, store_options


@click.command("detect")
@store_options
@click.option("--device", "devices", multiple=True, help="Only this device id (repeatable; default: every device).")
def detect(data_dir: Path | None, database_url: str | None, devices: tuple[str, ...]) -> int:
    """Run every detector over the stored events; findings become alerts (a second run adds nothing)."""
    from hengqi.server.alerts.service import detect_stored
    from hengqi.server.audit import Actor
    from hengqi.server.db.engine import Database
    from hengqi.server.db.migrate import upgrade
    from hengqi.server.field.curves import CurveStore

    settings = _settings(data_dir, database_url)
    database = Database(settings.effective_database_url())
    try:
        upgrade(database.engine)
        with database.write_session() as session:
            result = detect_stored(
                session,
                actor=Actor(None, "hengqi field detect"),
                device_ids=list(devices) if devices else None,
                curves=CurveStore(settings.data_dir / "field"),
            )
            session.commit()
    finally:
        database.dispose()
    click.echo(f"alerts: {result.created} created, {result.updated} updated, {result.unchanged} unchanged")
    return EXIT_OK


field.add_command(detect)
#: The field group, now with ``detect``: the root group loads this module for ``hengqi field`` (COMMAND_HINTS).
COMMANDS: tuple[click.Command, ...] = (field,)
