"""``hengqi reminders send``: e-mail every subscriber their digest of what is overdue or falls due soon
(:func:`hengqi.server.services.reminders.send_due`); run it daily from a scheduler (cron, a systemd timer).

Without an SMTP server configured (``HENGQI_SMTP_HOST``) it sends nothing and exits 2 saying so.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from hengqi.cli.app import EXIT_OK
from hengqi.cli.serve import _settings, store_options


@click.group("reminders")
def reminders() -> None:
    """Due-date reminder e-mails."""


@reminders.command("send")
@store_options
@click.option("--date", "on", metavar="YYYY-MM-DD", help="the day the digests are for (default: today)")
@click.option("--force", is_flag=True, help="send again to subscribers already sent a digest that day")
def send(data_dir: Path | None, database_url: str | None, on: str | None, force: bool) -> int:
    """Send today's digests (once a day per subscriber; an empty digest is not sent)."""
    from hengqi.errors import InputError
    from hengqi.server.db.engine import Database
    from hengqi.server.db.migrate import upgrade
    from hengqi.server.services.reminders import send_due

    settings = _settings(data_dir, database_url)
    try:
        day = date.fromisoformat(on) if on else None
    except ValueError as err:
        raise InputError("--date", f"not a date YYYY-MM-DD: {on!r}") from err
    database = Database(settings.effective_database_url())
    try:
        upgrade(database.engine)
        outcome = send_due(database, settings, today=day, force=force)
    finally:
        database.dispose()
    click.echo(f"reminders: {outcome.sent} sent, {outcome.empty} with nothing due, {outcome.already} already sent")
    return EXIT_OK


COMMANDS: tuple[click.Command, ...] = (reminders,)
