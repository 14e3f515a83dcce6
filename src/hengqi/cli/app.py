"""The root command group and the error boundary of the command line.

Each command lives in its own module of :mod:`hengqi.cli` and is registered in :data:`COMMANDS`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click

from hengqi import __version__
from hengqi.errors import HengqiError, InputError

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_INVALID = 2


#: Modules of :mod:`hengqi.cli` whose ``COMMANDS`` tuple of click commands is added to the root group.
COMMAND_MODULES: tuple[str, ...] = (
    "legal",
    "uncertainty",
    "serve",
    "verify",
    "scale",
    "sim",
    "calibrate",
    "certificate",
    "run",
    "agent",
    "field",
    "opcua",
    "stats",
    "detect",
    "reminders",
)


#: Which module defines a command, so that ``hengqi scale`` imports only :mod:`hengqi.cli.scale` (not the server,
#: certificates and scipy); a command missing here is still found, by importing every module.
COMMAND_HINTS: dict[str, str] = {
    "mpe": "legal",
    "weights": "legal",
    "rules": "legal",
    "uncertainty": "uncertainty",
    "serve": "serve",
    "db": "serve",
    "users": "serve",
    "audit": "serve",
    "backup": "serve",
    "restore": "serve",
    "verify": "verify",
    "schema": "verify",
    "scale": "scale",
    "sim": "sim",
    "calibrate": "calibrate",
    "certificate": "certificate",
    "run": "run",
    "opcua": "opcua",
    "agent": "agent",
    "field": "detect",  # cli.detect imports cli.field and adds `field detect` to it
    "stats": "stats",
    "reminders": "reminders",
}


class LazyGroup(click.Group):
    """The root group: each command's module is imported when that command is asked for (or for ``--help``)."""

    _loaded: set[str]

    def _load(self, module_name: str) -> None:
        loaded = self.__dict__.setdefault("_loaded", set())
        if module_name in loaded:
            return
        module = importlib.import_module(f"hengqi.cli.{module_name}")
        for command in module.COMMANDS:
            self.add_command(command)
        loaded.add(module_name)

    def load_all(self) -> None:
        """Import every command module (listing the commands needs them all)."""
        for name in COMMAND_MODULES:
            self._load(name)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        hint = COMMAND_HINTS.get(cmd_name)
        if hint is not None:
            self._load(hint)
        command = super().get_command(ctx, cmd_name)
        if command is None:
            self.load_all()
            command = super().get_command(ctx, cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.load_all()
        return super().list_commands(ctx)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="hengqi")
def hengqi() -> None:
    """hengqi (衡器): verify, calibrate and certify weighing instruments."""


def cli(argv: Sequence[str] | None = None) -> int:
    """Run ``hengqi`` with ``argv`` and return the exit status (never raises for bad input).

    >>> cli(["--version"])
    hengqi, version 0.1.0
    0
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = hengqi.main(args=args, prog_name="hengqi", standalone_mode=False)
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.exceptions.Abort:
        click.echo("hengqi: aborted", err=True)
        return EXIT_INVALID
    except click.UsageError as err:  # one line, like every other refusal (click's own show() prints four)
        where = err.ctx.command_path if err.ctx is not None else "hengqi"
        click.echo(f"hengqi: error: {err.format_message()} (see '{where} --help')", err=True)
        return EXIT_INVALID
    except click.ClickException as err:
        click.echo(f"hengqi: error: {err.format_message()}", err=True)
        return EXIT_INVALID
    except InputError as err:
        click.echo(f"hengqi: error: {err}", err=True)
        return EXIT_INVALID
    except HengqiError as err:
        click.echo(f"hengqi: error: {err}", err=True)
        return EXIT_INVALID
    except BrokenPipeError:  # pragma: no cover - output piped into `head`
        return EXIT_OK
    if isinstance(result, int):
        return result
    return EXIT_OK
