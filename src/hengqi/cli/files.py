"""Writing output files from the command line without ever leaving half a file behind.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_atomic(folder / "out.txt", b"done")
>>> (folder / "out.txt").read_bytes(), sorted(p.name for p in folder.iterdir())
(b'done', ['out.txt'])
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``.

    A reader (or a crash, a full disk, an interrupt) sees the old file or the new one, never a part; on failure
    the temporary file is removed and the :class:`OSError` is raised for the caller to translate.  A new file
    gets mode 0644, a replaced one keeps its mode.  A symbolic link is followed (the file it names is replaced,
    the link stays); something that exists but is not a regular file (``/dev/stdout``, a pipe, a device) is
    written in place, never replaced.
    """
    path = Path(os.path.realpath(path))
    if path.exists() and not path.is_file():
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
        with open(path, "wb") as stream:
            stream.write(data)
        return
    mode = path.stat().st_mode & 0o777 if path.is_file() else 0o644
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
