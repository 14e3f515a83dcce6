"""The root command group and the error boundary of the command line.

Each command lives in its own module of :mod:`hengqi.cli` and is registered in :data:`COMMANDS`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from hengqi import __version__
from hengqi.errors import HengqiError, InputError

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_INVALID = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="hengqi")
def hengqi() -> None:
    """hengqi (衡器): verify, calibrate and certify weighing instruments."""


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
    "detect",
)


def _register() -> None:
    import importlib

    for name in COMMAND_MODULES:
        module = importlib.import_module(f"hengqi.cli.{name}")
        for command in module.COMMANDS:
            hengqi.add_command(command)


_register()


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
