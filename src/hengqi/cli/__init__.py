"""The ``hengqi`` command.

``cli(argv) -> int`` runs the command and returns the exit status; ``main()`` only calls :func:`sys.exit`.
Exit status: 0 success (or pass), 1 a verdict of fail / a check that failed, 2 invalid input or usage.
Bad input never ends in a traceback: :class:`hengqi.errors.InputError` becomes one line on stderr and exit 2.
"""

from __future__ import annotations

import sys

from hengqi.cli.app import cli

__all__ = ["cli", "main"]


def main() -> None:
    """Console-script entry point."""
    sys.exit(cli(sys.argv[1:]))
