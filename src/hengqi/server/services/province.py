"""Province statistics for quality managers and regulators: the reports of
:mod:`hengqi.server.analytics.definitions` over the Parquet partitions in ``settings.effective_province_dir``,
computed on ``settings.compute`` (embedded DuckDB or Dask) within the organisations the principal may read, and
kept until the files change (the dashboard reads the kept results).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

from hengqi.errors import InputError
from hengqi.server.analytics.definitions import STANDARD_REPORTS, Spec
from hengqi.server.analytics.target import parse_compute_url
from hengqi.server.errors import NotFoundError, PermissionDeniedError
from hengqi.server.permissions import Principal
from hengqi.server.services.statistics import STATISTICS_ROLES
from hengqi.server.settings import Settings

_KEPT: Final = 64


@dataclass(frozen=True, slots=True)
class ProvinceAnswer:
    """Reports with how and when they were computed."""

    reports: tuple[dict[str, Any], ...]
    as_of: date
    compute: str
    computed_in_s: float
    cached: bool


_lock = threading.Lock()
_kept: OrderedDict[tuple[object, ...], ProvinceAnswer] = OrderedDict()


def _signature(root: Path) -> tuple[int, int]:
    files = list(root.glob("*/**/*.parquet"))
    return len(files), max((f.stat().st_mtime_ns for f in files), default=0)


def specs_from(statistic: str | None, group_by: Sequence[str]) -> tuple[Spec, ...]:
    """One report (``statistic`` grouped by ``group_by``) or, without ``statistic``, every standard report."""
    if not statistic:
        if group_by:
            raise InputError("group_by", "needs a statistic")
        return STANDARD_REPORTS
    return (Spec(statistic, tuple(group_by)),)


def province_reports(
    principal: Principal,
    settings: Settings,
    specs: Sequence[Spec],
    *,
    as_of: date,
    method: str = "wilson",
) -> ProvinceAnswer:
    """The reports of ``specs``; the principal's organisation scope is part of every query (a regulator: the
    organisations granted to them and their own)."""
    if principal.role not in STATISTICS_ROLES:
        raise PermissionDeniedError(
            f"role {principal.role} may not read fleet statistics", details={"permission": "statistics.read"}
        )
    root = settings.effective_province_dir
    if not (root / "instruments").is_dir():
        raise NotFoundError("province statistics", str(root.name))
    from hengqi.server.analytics.engines import compute

    scope = principal.visible_organisations()
    key = (str(root), scope, tuple(specs), as_of, method, settings.compute, _signature(root))
    with _lock:
        kept = _kept.get(key)
        if kept is not None:
            _kept.move_to_end(key)
            return ProvinceAnswer(kept.reports, kept.as_of, kept.compute, kept.computed_in_s, cached=True)
    started = time.perf_counter()
    reports = compute(
        root, specs, as_of=as_of, target=parse_compute_url(settings.compute), organisations=scope, method=method
    )
    answer = ProvinceAnswer(tuple(reports), as_of, settings.compute, time.perf_counter() - started, cached=False)
    with _lock:
        _kept[key] = answer
        while len(_kept) > _KEPT:
            _kept.popitem(last=False)
    return answer


__all__ = ["ProvinceAnswer", "province_reports", "specs_from"]
