"""The size limit on a DCC read, validated or verified, checked before any parser sees the file.

A DCC of a weighing instrument is tens of kilobytes; parsing is the expensive part (a 200 MB DCC took more than
5.7 GiB and minutes to validate, and verifying 200 MB of junk 60 s and 2 GiB), so an oversized file is refused
from its size alone.  The default (20 MiB) is hengqi's own choice; ``--max-size`` (MiB) raises it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from hengqi.certificates.errors import DccFormatError

MIB: Final = 1024 * 1024
#: Default largest DCC accepted by the reader, the schema validator and the signature verifier (bytes).
MAX_DCC_BYTES: Final = 20 * MIB


class DccTooLargeError(DccFormatError):
    """A DCC larger than the size limit (refused before parsing)."""

    code = "dcc_too_large"


def check_dcc_size(size: int, where: str, max_bytes: int = MAX_DCC_BYTES) -> None:
    """Refuse a DCC of ``size`` bytes over ``max_bytes``.

    >>> check_dcc_size(30 * MIB, "big.xml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hengqi.certificates.limits.DccTooLargeError: big.xml: 30.0 MiB is over the 20 MiB limit for a DCC ...
    """
    if size > max_bytes:
        raise DccTooLargeError(
            where,
            f"{size / MIB:.1f} MiB is over the {max_bytes / MIB:g} MiB limit for a DCC (raise it with --max-size)",
        )


def check_dcc_file(path: str | os.PathLike[str], max_bytes: int = MAX_DCC_BYTES) -> None:
    """:func:`check_dcc_size` on a file's size (a missing file is left to the reader to name)."""
    try:
        size = Path(path).stat().st_size
    except OSError:
        return
    check_dcc_size(size, str(path), max_bytes)
