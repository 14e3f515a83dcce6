"""Fleet statistics over the registry for quality managers and regulators (issue 15).

The records are read with the principal's organisation scope (:func:`hengqi.server.services.base.scoped_select`)
and handed as plain dictionaries to the pure functions of :mod:`hengqi.supervision.statistics`.

A verification counts when its run is a ``verification`` that is not cancelled and carries a verdict: the
recorded ``results["passed"]`` of a guided verification, or the server's MPE check (``results["server_check"]``,
OIML R 76-1:2006 Table 6, see :mod:`hengqi.server.services.runs`); a failed server check makes it a failure.

An instrument's ``region`` is the region code of its field device (``field_devices.region_code``; ``None`` for an
instrument without one); alarms are the field alerts of its devices (``field_alerts``), one per detector episode.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from sqlalchemy.orm import Session

from hengqi.errors import InputError
from hengqi.server.alerts.models import FieldAlert
from hengqi.server.db.models import Instrument, Run
from hengqi.server.errors import PermissionDeniedError
from hengqi.server.field.models import FieldDevice
from hengqi.server.permissions import Principal, Role
from hengqi.server.services.base import scoped_select
from hengqi.supervision.statistics import (
    FunnelPoint,
    GroupRate,
    KeySpec,
    RateInterval,
    ReverificationTime,
    age_band,
    alarm_rate,
    funnel,
    month,
    overdue_rate,
    pass_rate,
    time_to_reverify,
)

#: The roles that may read fleet statistics.
STATISTICS_ROLES: Final = frozenset({Role.QUALITY_MANAGER, Role.REGULATOR})

#: Grouping keys of the API and the record field each reads.
GROUP_KEYS: Final[dict[str, KeySpec]] = {
    "organisation": "organisation",
    "site": "site",
    "type": "type",
    "class": "class",
    "maker": "maker",
    "model": "model",
    "region": "region",
    "age": "age",  # made per call: the age band at the statistics' date (see _keys)
    "month": ("month", month("date")[1]),
}


def _require(principal: Principal) -> None:
    if principal.role not in STATISTICS_ROLES:
        raise PermissionDeniedError(
            f"role {principal.role} may not read fleet statistics", details={"permission": "statistics.read"}
        )


def _keys(group_by: Sequence[str], as_of: date | None = None) -> list[KeySpec]:
    """The key specs of ``group_by``; ``age`` is the band (0-2, 2-5, 5-10, 10+ years, ``unknown``) of the time
    from ``installed_on`` to ``as_of`` (default today)."""
    unknown = [k for k in group_by if k not in GROUP_KEYS]
    if unknown:
        raise InputError("group_by", f"unknown key {unknown[0]!r}; use {', '.join(GROUP_KEYS)}")
    if len(set(group_by)) != len(group_by):
        raise InputError("group_by", "a key may appear only once")
    age = ("age", age_band("installed_on", as_of or date.today())[1])
    return [age if k == "age" else GROUP_KEYS[k] for k in group_by]


def _regions(session: Session, principal: Principal) -> dict[int, str]:
    """Instrument id -> region code of its (first, not deleted) field device."""
    rows = session.execute(
        scoped_select(principal, FieldDevice)
        .where(FieldDevice.deleted_at.is_(None), FieldDevice.region_code != "")
        .order_by(FieldDevice.id)
        .with_only_columns(FieldDevice.instrument_id, FieldDevice.region_code)
    )
    out: dict[int, str] = {}
    for instrument_id, region in rows:
        out.setdefault(instrument_id, region)
    return out


def _instrument_fields(inst: Instrument, regions: dict[int, str] | None = None) -> dict[str, Any]:
    return {
        "region": (regions or {}).get(inst.id),
        "organisation": inst.organisation_id,
        "site": inst.site_id,
        "type": inst.kind,
        "class": inst.accuracy_class,
        "maker": inst.make,
        "model": inst.model,
        "installed_on": inst.installed_on,
    }


def verification_outcome(results: object) -> bool | None:
    """The verdict of a verification run: the recorded ``passed`` (a guided run), failed anyway where the server's
    MPE check failed; else the server check alone; ``None`` where the run has neither (not counted)."""
    if not isinstance(results, dict):
        return None
    check = results.get("server_check")
    server = check.get("pass") if isinstance(check, dict) else None
    recorded = results.get("passed")
    if isinstance(recorded, bool):
        return recorded and server is not False
    return server if isinstance(server, bool) else None


def verification_records(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """One record per counted verification, with the instrument's grouping fields."""
    _require(principal)
    instruments = {i.id: i for i in session.scalars(scoped_select(principal, Instrument))}
    regions = _regions(session, principal)
    runs = session.scalars(
        scoped_select(principal, Run).where(Run.kind == "verification", Run.status != "cancelled").order_by(Run.id)
    )
    out = []
    for run in runs:
        inst = instruments.get(run.instrument_id)
        passed = verification_outcome(run.results)
        if inst is None or passed is None:
            continue
        out.append(
            {
                **_instrument_fields(inst, regions),
                "instrument_id": run.instrument_id,
                "date": run.performed_on,
                "passed": passed,
            }
        )
    return out


@dataclass(frozen=True, slots=True)
class RateTable:
    """Group rates with the overall rate and, per group, the funnel-plot verdict."""

    group_by: tuple[str, ...]
    overall: GroupRate | None
    groups: tuple[GroupRate, ...]
    funnel: tuple[FunnelPoint, ...]


def _table(
    records: list[dict[str, Any]],
    group_by: Sequence[str],
    compute: Callable[[list[dict[str, Any]], list[KeySpec]], tuple[GroupRate, ...]],
    as_of: date | None = None,
) -> RateTable:
    keys = _keys(group_by, as_of)
    if not records:
        return RateTable(tuple(group_by), None, (), ())
    (overall,) = compute(records, [])
    groups = compute(records, keys)
    points = funnel(groups, target=overall.rate)[1] if keys else ()
    return RateTable(tuple(group_by), overall, groups, points)


def pass_rates(
    session: Session,
    principal: Principal,
    group_by: Sequence[str] = (),
    *,
    method: str = "wilson",
    confidence: float = 0.95,
) -> RateTable:
    """Verification pass rates by ``group_by`` (see :data:`GROUP_KEYS`), with intervals and funnel flags."""
    _keys(group_by)
    records = verification_records(session, principal)
    return _table(records, group_by, lambda rs, ks: pass_rate(rs, group_by=ks, method=method, confidence=confidence))


def overdue_rates(
    session: Session,
    principal: Principal,
    group_by: Sequence[str] = (),
    *,
    as_of: date,
    method: str = "wilson",
    confidence: float = 0.95,
) -> RateTable:
    """Share of in-service instruments whose verification is overdue on ``as_of``, by ``group_by``."""
    _require(principal)
    if "month" in group_by:
        raise InputError("group_by", "'month' does not apply to instruments")
    _keys(group_by, as_of)
    regions = _regions(session, principal)
    records = [
        {**_instrument_fields(i, regions), "next_due": i.verification_due}
        for i in session.scalars(
            scoped_select(principal, Instrument).where(Instrument.status == "in-service").order_by(Instrument.id)
        )
    ]
    return _table(
        records,
        group_by,
        lambda rs, ks: overdue_rate(rs, as_of=as_of, group_by=ks, method=method, confidence=confidence),
        as_of,
    )


def reverification_times(
    session: Session, principal: Principal, group_by: Sequence[str] = ()
) -> tuple[ReverificationTime, ...]:
    """Mean days from a failed verification to the instrument's next passed one, by ``group_by`` (the groups of
    the failed verification); failures not yet followed by a pass are counted as open."""
    keys = _keys(group_by)
    return time_to_reverify(verification_records(session, principal), group_by=keys)


def alarm_rates(
    session: Session,
    principal: Principal,
    group_by: Sequence[str] = (),
    *,
    since: date | None = None,
    confidence: float = 0.95,
) -> tuple[tuple[tuple[tuple[str, object], ...], RateInterval], ...]:
    """Field alerts per 1 000 in-service instruments by ``group_by`` (Garwood intervals), counting the alerts of
    in-service instruments whose episode started on or after ``since`` (all when ``None``)."""
    _require(principal)
    if "month" in group_by:
        raise InputError("group_by", "'month' does not apply to alarms per instrument")
    keys = _keys(group_by)
    regions = _regions(session, principal)
    instruments = {
        i.id: {**_instrument_fields(i, regions)}
        for i in session.scalars(scoped_select(principal, Instrument).where(Instrument.status == "in-service"))
    }
    statement = (
        scoped_select(principal, FieldAlert)
        .join(FieldDevice, FieldDevice.id == FieldAlert.device_pk)
        .with_only_columns(FieldDevice.instrument_id, FieldAlert.window_start)
    )
    alarms = [
        instruments[instrument_id]
        for instrument_id, start in session.execute(statement)
        if instrument_id in instruments and (since is None or start.date() >= since)
    ]
    return alarm_rate(alarms, instruments.values(), group_by=keys, per=1000.0, confidence=confidence)


__all__ = [
    "GROUP_KEYS",
    "STATISTICS_ROLES",
    "RateTable",
    "alarm_rates",
    "overdue_rates",
    "pass_rates",
    "reverification_times",
    "verification_records",
]
