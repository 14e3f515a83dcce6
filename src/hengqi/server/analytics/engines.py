"""Where the statistics run: ``embedded`` (DuckDB in this process, over every file at once) or on Dask
(``dask://host:port``: a running ``distributed`` scheduler; ``dask://local``: a :class:`distributed.LocalCluster`
started for the computation, ``?workers=N&processes=0|1`` to size it; see :mod:`.target`).

Both run the queries of :mod:`hengqi.server.analytics.definitions`; Dask runs them per partition (region, or
region and month) on its workers and this process adds the counts.  Workers of a real cluster need hengqi
installed (the tasks are :func:`~hengqi.server.analytics.definitions.partial_counts`) and must see the Parquet
files under the same path (a shared file system).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from hengqi.errors import InputError
from hengqi.server.analytics import definitions
from hengqi.server.analytics.definitions import Counts, Spec
from hengqi.server.analytics.partitions import everything, partitions
from hengqi.server.analytics.target import ComputeTarget, parse_compute_url

__all__ = ["ComputeTarget", "compute", "parse_compute_url"]


@contextlib.contextmanager
def _client(target: ComputeTarget, timeout_s: float) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if target.kind == "dask-local":
        with (
            LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=target.workers,
                threads_per_worker=1,
                processes=target.processes,
                dashboard_address=None,
                memory_limit=0,
            ) as cluster,
            Client(cluster) as client,  # type: ignore[no-untyped-call]
        ):
            yield client
        return
    try:
        client = Client(target.address, timeout=timeout_s)  # type: ignore[no-untyped-call]
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
        totals = definitions.combine(
            [definitions.partial_counts(everything(root), wanted, as_of, organisations, threads=None)]
        )
    elif client is not None:
        totals = _on_dask(client, root, specs=wanted, as_of=as_of, organisations=organisations, grain=grain)
    else:
        with _client(target, timeout_s) as c:
            totals = _on_dask(c, root, specs=wanted, as_of=as_of, organisations=organisations, grain=grain)
    return definitions.reports(specs, totals, method=method, confidence=confidence)


def _grain(spec: Spec, wanted: str) -> str:
    return definitions.STATISTICS[spec.statistic].grain if wanted == "region-month" else "region"


def _on_dask(
    client: Any,
    root: Path,
    *,
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
