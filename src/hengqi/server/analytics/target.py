"""The ``--compute`` URL of ``hengqi stats province`` and ``hengqi serve`` (no heavy imports: settings read it).

* ``embedded`` (or nothing): DuckDB in this process;
* ``dask://host:port``: the ``distributed`` scheduler listening there (``tcp://host:port``);
* ``dask://local``: a :class:`distributed.LocalCluster` started for each computation, sized by
  ``?workers=N`` (1 to 64, default 1) and ``processes=0|1`` (threads, the default, or worker processes).

>>> parse_compute_url("dask://local?workers=2")
ComputeTarget(kind='dask-local', address=None, workers=2, processes=False)
>>> parse_compute_url("dask://10.0.0.5:8786").address
'tcp://10.0.0.5:8786'
>>> parse_compute_url(None).kind
'embedded'
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from hengqi.errors import InputError

__all__ = ["ComputeTarget", "parse_compute_url"]


@dataclass(frozen=True, slots=True)
class ComputeTarget:
    """A parsed ``--compute`` URL."""

    kind: str  # "embedded", "dask-local" or "dask"
    address: str | None = None
    workers: int = 1
    processes: bool = False


def parse_compute_url(url: str | None) -> ComputeTarget:
    """``None``/``""``/``embedded``; ``dask://host:port``; ``dask://local[?workers=N&processes=0|1]``.
    Anything else raises :class:`InputError` naming ``--compute``."""
    if url is None or url.strip() in ("", "embedded"):
        return ComputeTarget("embedded")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as err:
        raise InputError("--compute", f"not a valid URL {url!r}: {err}") from err
    if parts.scheme != "dask":
        raise InputError("--compute", f"use embedded, dask://host:port or dask://local; got {url!r}")
    if parts.path not in ("", "/") or parts.fragment or parts.username or parts.password:
        raise InputError("--compute", f"a Dask address is dask://host:port, got {url!r}")
    if parts.hostname == "local":
        query = parse_qs(parts.query, strict_parsing=False)
        unknown = set(query) - {"workers", "processes"}
        if unknown or port is not None:
            raise InputError("--compute", f"dask://local takes ?workers=N&processes=0|1 only, got {url!r}")
        try:
            workers = int(query.get("workers", ["1"])[-1])
            processes = query.get("processes", ["0"])[-1]
        except ValueError as err:
            raise InputError("--compute", f"workers must be a whole number in {url!r}") from err
        if not 1 <= workers <= 64 or processes not in ("0", "1"):
            raise InputError("--compute", f"need 1 <= workers <= 64 and processes 0 or 1, got {url!r}")
        return ComputeTarget("dask-local", None, workers, processes == "1")
    if not parts.hostname or port is None or parts.query:
        raise InputError("--compute", f"a Dask scheduler is dask://host:port, got {url!r}")
    return ComputeTarget("dask", f"tcp://{parts.hostname}:{port}")
