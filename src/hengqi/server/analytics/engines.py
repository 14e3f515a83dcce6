"""Where the statistics run: ``embedded`` (DuckDB in this process, over every file at once) or on Dask
(``dask://host:port``: a running ``distributed`` scheduler; ``dask://local``: a :class:`distributed.LocalCluster`
started for the computation, ``?workers=N&processes=0|1`` to size it).

Both run the queries of :mod:`hengqi.server.analytics.definitions`; Dask runs them per partition (region, or
region and month) on its workers and this process adds the counts.  Workers of a real cluster need hengqi
installed (the tasks are :func:`~hengqi.server.analytics.definitions.partial_counts`) and must see the Parquet
files under the same path (a shared file system).

>>> parse_compute_url("dask://local?workers=2")
ComputeTarget(kind='dask-local', address=None, workers=2, processes=False)
>>> parse_compute_url(None).kind
'embedded'
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hengqi.errors import InputError
from hengqi.server.analytics import definitions
from hengqi.server.analytics.definitions import Counts, Spec
from hengqi.server.analytics.partitions import everything, partitions

__all__ = ["ComputeTarget", "compute", "parse_compute_url"]


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


@contextlib.contextmanager
def _client(target: ComputeTarget, timeout_s: float) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if target.kind == "dask-local":
        with (
            LocalCluster(
                n_workers=target.workers,
                threads_per_worker=1,
                processes=target.processes,
                dashboard_address=None,
                memory_limit=0,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = Client(target.address, timeout=timeout_s)
    except (OSError, TimeoutError) as err:
        raise InputError("--compute", f"no Dask scheduler answers at {target.address}: {err}") from err
    with client:
        yield client


def compute(
    root: Path,
    specs: Sequence[Spec],
    *,
    as_of: date,
    target: ComputeTarget | None = None,
    organisations: frozenset[int] | None = None,
    method: str = "wilson",
    confidence: float = 0.95,
    client: Any = None,
    grain: str = "region",
    timeout_s: float = 10.0,
) -> list[dict[str, Any]]:
    """The reports of ``specs`` over the province under ``root``, restricted to ``organisations`` (``None``:
    all), computed embedded or on Dask (``target``; or an open ``client``).

    On Dask one task reads one region (``grain="region"``: the region's instruments and its monthly files of
    facts) or, with ``grain="region-month"``, one region and month for the statistics whose counts add over
    months (the others stay per region); the finer grain makes 12 times more, smaller tasks."""
    if grain not in ("region", "region-month"):
        raise InputError("grain", f"use 'region' or 'region-month', got {grain!r}")
    target = target or ComputeTarget("embedded")
    wanted = definitions.needed(specs)
    if client is None and target.kind == "embedded":
        totals = definitions.combine([definitions.partial_counts(everything(root), wanted, as_of, organisations)])
    elif client is not None:
        totals = _on_dask(client, root, wanted, as_of, organisations, grain)
    else:
        with _client(target, timeout_s) as c:
            totals = _on_dask(c, root, wanted, as_of, organisations, grain)
    return definitions.reports(specs, totals, method=method, confidence=confidence)


def _grain(spec: Spec, wanted: str) -> str:
    return definitions.STATISTICS[spec.statistic].grain if wanted == "region-month" else "region"


def _on_dask(
    client: Any,
    root: Path,
    specs: Sequence[Spec],
    as_of: date,
    organisations: frozenset[int] | None,
    grain: str,
) -> dict[Spec, Counts]:
    futures = []
    for g in ("region", "region-month"):
        mine = [s for s in specs if _grain(s, grain) == g]
        if not mine:
            continue
        parts = partitions(root, g)
        futures += client.map(
            definitions.partial_counts,
            parts,
            specs=mine,
            as_of=as_of,
            organisations=organisations,
            pure=False,
        )
    return definitions.combine(client.gather(futures))
