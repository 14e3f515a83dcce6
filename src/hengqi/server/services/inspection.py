"""The month's proposed inspection sample over the registry (issue 15, points 3 and 4).

The in-service instruments the principal may read (:func:`hengqi.server.services.base.scoped_select`; a regulator:
the organisations granted to them) are grouped into populations by model × age band × region and sampled by
:func:`hengqi.supervision.populations.population_samples` ("at least 95 % conforming at 95 % confidence",
hypergeometric). The draw is seeded by the month alone (:func:`month_seed`), and the age is taken on the month's
first day, so the same registry and month give the same sample, which a regulator reproduces from the export with
``hengqi stats population-samples FILE --group-by model,age,region --seed N --as-of YYYY-MM-01``.

Within a population the drawn instruments are ordered by :func:`hengqi.supervision.sampling.rank_for_inspection`
on the month's first day: overdue verification, failed recent verifications, field alerts in the 90 days before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Final

from sqlalchemy.orm import Session

from hengqi.errors import InputError
from hengqi.server.alerts.models import FieldAlert
from hengqi.server.db.models import Instrument, Organisation
from hengqi.server.errors import PermissionDeniedError
from hengqi.server.field.models import FieldDevice
from hengqi.server.permissions import Principal, Role
from hengqi.server.services.base import scoped_select
from hengqi.server.services.statistics import STATISTICS_ROLES, _regions, verification_records
from hengqi.supervision.populations import population_samples
from hengqi.supervision.sampling import InspectionPriority, rank_for_inspection
from hengqi.supervision.statistics import age_band

#: Roles that may read the sample: those of the statistics, and an administrator (for their own organisation).
INSPECTION_ROLES: Final = STATISTICS_ROLES | {Role.ADMIN}
#: The population keys, in the order of ``hengqi stats population-samples --group-by``.
SAMPLE_KEYS: Final = ("model", "age", "region")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> date:
    """The first day of the month ``YYYY-MM`` (years 2000-2999); :class:`InputError` on ``month`` otherwise.

    >>> parse_month("2026-12")
    datetime.date(2026, 12, 1)
    """
    found = _MONTH.match(text)
    if found is None or not 2000 <= int(found.group(1)) <= 2999 or not 1 <= int(found.group(2)) <= 12:
        raise InputError("month", f"must be a month YYYY-MM (years 2000-2999), got {text[:20]!r}")
    return date(int(found.group(1)), int(found.group(2)), 1)


def month_seed(month: date) -> int:
    """The seed of a month's draw: ``year × 100 + month`` (hengqi's convention, shown on the page).

    >>> month_seed(date(2026, 12, 1))
    202612
    """
    return month.year * 100 + month.month


@dataclass(frozen=True, slots=True)
class SampledInstrument:
    """One in-service instrument of a population, ``drawn`` or not, with its inspection priority."""

    instrument_id: int
    organisation: str
    make: str
    model: str
    serial: str
    installed_on: date | None
    region: str
    verification_due: date | None
    drawn: bool
    priority: InspectionPriority


@dataclass(frozen=True, slots=True)
class InspectionPopulation:
    """One population (its ``model``, ``age`` band, ``region``; ``""`` where the registry has none): its size, the
    plan's ``n`` and acceptance number ``c``, and its instruments, drawn first, each part by priority."""

    model: str
    age: str
    region: str
    population: int
    n: int
    c: int
    risk: float
    instruments: tuple[SampledInstrument, ...]

    @property
    def drawn(self) -> tuple[SampledInstrument, ...]:
        return tuple(i for i in self.instruments if i.drawn)


@dataclass(frozen=True, slots=True)
class InspectionSample:
    """The month's sample: ``as_of`` (the month's first day, for ages and priorities) and ``seed`` of the draw."""

    month: date
    as_of: date
    seed: int
    proportion: float
    confidence: float
    populations: tuple[InspectionPopulation, ...]


def sample_records(instruments: list[Instrument], regions: dict[int, str]) -> list[dict[str, Any]]:
    """The records handed to the draw, as the export writes them (so the CLI reads the same values back)."""
    return [
        {
            "instrument_id": str(i.id),
            "model": i.model or "",
            "region": regions.get(i.id) or "",
            "installed": None if i.installed_on is None else i.installed_on.isoformat(),
        }
        for i in instruments
    ]


def inspection_sample(session: Session, principal: Principal, month: date) -> InspectionSample:
    """The proposed inspection sample of ``month`` over the instruments ``principal`` may read."""
    if principal.role not in INSPECTION_ROLES:
        raise PermissionDeniedError(
            f"role {principal.role} may not read the inspection sample", details={"permission": "statistics.read"}
        )
    if principal.role is Role.ADMIN:  # their own organisation, read as its quality manager would
        principal = replace(principal, role=Role.QUALITY_MANAGER)
    as_of = month.replace(day=1)
    seed = month_seed(as_of)
    instruments = list(
        session.scalars(
            scoped_select(principal, Instrument).where(Instrument.status == "in-service").order_by(Instrument.id)
        )
    )
    regions = _regions(session, principal)
    records = sample_records(instruments, regions)
    samples = population_samples(
        records, ["model", ("age", age_band("installed", as_of)[1]), "region"], seed=seed
    )  # fmt: skip
    verifications = verification_records(session, principal)
    alerts = session.execute(
        scoped_select(principal, FieldAlert)
        .join(FieldDevice, FieldDevice.id == FieldAlert.device_pk)
        .with_only_columns(FieldDevice.instrument_id, FieldAlert.window_start)
    )
    alarms = [{"instrument_id": iid, "date": start} for iid, start in alerts]
    priorities = {
        p.instrument_id: p
        for p in rank_for_inspection(
            [{"instrument_id": i.id, "next_due": i.verification_due} for i in instruments],
            as_of=as_of,
            verifications=verifications,
            alarms=alarms,
        )
    }
    order = {iid: rank for rank, iid in enumerate(priorities)}
    names = dict(
        session.execute(
            scoped_select(principal, Organisation)
            .where(Organisation.id.in_({i.organisation_id for i in instruments}))
            .with_only_columns(Organisation.id, Organisation.name)
        ).all()
    ) if instruments else {}  # fmt: skip
    by_id = {str(i.id): i for i in instruments}
    populations = []
    for s in samples:
        drawn = set(s.instrument_ids)
        members = [r["instrument_id"] for r in records if _key(r, as_of) == s.key]
        members.sort(key=lambda iid: (iid not in drawn, order[iid]))
        populations.append(
            InspectionPopulation(
                str(s.key[0]), str(s.key[1]), str(s.key[2]), s.population, s.n, s.c, s.risk,
                tuple(_instrument(by_id[iid], names, regions, iid in drawn, priorities[iid]) for iid in members),
            )
        )  # fmt: skip
    return InspectionSample(month, as_of, seed, 0.95, 0.95, tuple(populations))


def _key(record: dict[str, Any], as_of: date) -> tuple[object, ...]:
    return (record["model"], age_band("installed", as_of)[1](record), record["region"])


def _instrument(
    inst: Instrument, names: dict[int, str], regions: dict[int, str], drawn: bool, priority: InspectionPriority
) -> SampledInstrument:
    return SampledInstrument(
        inst.id, names.get(inst.organisation_id, str(inst.organisation_id)), inst.make, inst.model or "",
        inst.serial, inst.installed_on, regions.get(inst.id) or "", inst.verification_due, drawn, priority,
    )  # fmt: skip


#: The export's columns: those the CLI reads (``instrument_id``, ``model``, ``installed``, ``region``), then the rest.
EXPORT_COLUMNS: Final = (
    "instrument_id", "model", "installed", "region", "age", "month", "seed", "population", "n", "c", "drawn",
    "organisation", "make", "serial", "verification_due", "score", "days_overdue", "failure_share", "recent_alarms",
)  # fmt: skip


def export_rows(sample: InspectionSample) -> list[dict[str, Any]]:
    """Every instrument of every population, one row each (the CLI reproduces the draw from these rows)."""
    rows = []
    for p in sample.populations:
        for i in p.instruments:
            rows.append(
                {
                    "instrument_id": str(i.instrument_id), "model": i.model,
                    "installed": None if i.installed_on is None else i.installed_on.isoformat(),
                    "region": i.region, "age": p.age, "month": sample.month.strftime("%Y-%m"), "seed": sample.seed,
                    "population": p.population, "n": p.n, "c": p.c, "drawn": "yes" if i.drawn else "no",
                    "organisation": i.organisation, "make": i.make, "serial": i.serial,
                    "verification_due": None if i.verification_due is None else i.verification_due.isoformat(),
                    "score": round(i.priority.score, 4), "days_overdue": i.priority.days_overdue,
                    "failure_share": round(i.priority.failure_share, 4), "recent_alarms": i.priority.recent_alarms,
                }
            )  # fmt: skip
    return rows


__all__ = [
    "EXPORT_COLUMNS",
    "INSPECTION_ROLES",
    "InspectionPopulation",
    "InspectionSample",
    "SampledInstrument",
    "export_rows",
    "inspection_sample",
    "month_seed",
    "parse_month",
]
