"""Guided runs kept in the database: a :class:`~hengqi.procedures.state.RunStore` and the services of the web UI.

:class:`DbRunStore` keeps each run's :class:`~hengqi.procedures.state.RunState` in ``guided_runs`` and saves
with a compare-and-set on its version (``UPDATE ... WHERE run_id = ? AND version = ?``), in a transaction of its
own, after every step: a run survives a closed browser, a lost connection and a server restart, and two
submissions racing on one step cannot both be recorded (:class:`~hengqi.procedures.errors.ConcurrentUpdateError`
for the loser).

Every save also writes one audit entry per step recorded or corrected (in the same transaction), naming who did
it: the audit trail holds the whole run, step by step.

Integrity rules (issue 11):

* only the run's *performer* records its steps (:func:`require_performer`, checked before anything is done on
  the instrument); a colleague may :func:`take_over` a run explicitly (audited);
* one running run per instrument (:class:`InstrumentBusyError`, "in use by X since T"; a partial unique index
  in the database makes it hold under races); a quality manager may :func:`abandon` a stale run with a reason;
* a reading with a gross plausibility finding (:mod:`hengqi.procedures.plausibility`) is *held*
  (:func:`hold_reading`) until it is confirmed with a reason or measured again.

The services check the principal's role and organisation like every other service of the platform
(:mod:`hengqi.server.services.base`), build the plan parameters from the registry (the instrument's
specification, a weight set's weights with their certificates) and, when a calibration run ends, record it as a
:class:`~hengqi.server.db.models.Run` and draft its certificate (:mod:`hengqi.server.services.guided_certificates`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from hengqi.errors import InputError
from hengqi.locale import Message, message_from_json, translate_message
from hengqi.metrology.quantities import format_mass
from hengqi.procedures.errors import ConcurrentUpdateError, RunExistsError, UnknownRunError
from hengqi.procedures.plans import PLANS
from hengqi.procedures.plausibility import Finding
from hengqi.procedures.runner import Runs
from hengqi.procedures.session import Session
from hengqi.procedures.simulate import VirtualBalance, simulate
from hengqi.procedures.state import RunState
from hengqi.server import audit
from hengqi.server.audit import Actor
from hengqi.server.db.engine import Database
from hengqi.server.db.guided import GuidedRun, InstrumentConnection
from hengqi.server.db.models import Instrument, Organisation, User, Weight, WeightSet
from hengqi.server.db.types import utcnow
from hengqi.server.errors import ConflictError, NotFoundError, PermissionDeniedError
from hengqi.server.permissions import Permission, Principal
from hengqi.server.services.base import get_scoped, scoped_select
from hengqi.server.services.instrument_policy import check_url, parse_hosts

#: The plans a browser can run.
WEB_KINDS = ("calibration", "verification")
#: Verification stages and rule sets offered (``hengqi.metrology.mpe.Stage``, ``hengqi.metrology.rulesets``).
STAGES = ("initial", "subsequent", "in-service")
RULES = ("oiml-r76", "jjg539")
#: Supports assumed for the eccentricity test where the registry does not say (a platform on 4 load cells).
DEFAULT_SUPPORTS = 4
MODES = ("instrument", "manual")


class InstrumentBusyError(ConflictError):
    """Another run is in progress on the instrument (one running run per instrument)."""

    code = "instrument_in_use"


class RunAbandonedError(ConflictError):
    """The run was ended by a quality manager; nothing more is recorded in it."""

    code = "run_abandoned"


@dataclass(frozen=True, slots=True)
class NewRun:
    """What the database row of a new run holds besides its state."""

    organisation_id: int
    instrument_id: int
    mode: str
    weight_set_id: int | None
    started_by_id: int
    total_steps: int
    actor_name: str = ""


class DbRunStore:
    """A :class:`~hengqi.procedures.state.RunStore` in the ``guided_runs`` table.

    ``new_run`` describes the row of the next :meth:`create` (the protocol's ``create`` takes only the state).
    """

    def __init__(self, database: Database, new_run: NewRun | None = None, *, actor: Actor | None = None) -> None:
        self.database = database
        self.new_run = new_run
        self.actor = actor

    def create(self, state: RunState) -> None:
        if self.new_run is None:
            raise InputError("run", "a new run needs its instrument and organisation")
        text = state.dumps()
        info = self.new_run
        with self.database.write_session() as session:
            if session.scalar(select(GuidedRun.id).where(GuidedRun.run_id == state.run_id)) is not None:
                raise RunExistsError(state.run_id)
            refuse_if_busy(session, info.instrument_id)
            session.add(
                GuidedRun(
                    run_id=state.run_id,
                    organisation_id=info.organisation_id,
                    instrument_id=info.instrument_id,
                    kind=state.kind,
                    status=state.status,
                    version=state.version,
                    total_steps=info.total_steps,
                    state=text,
                    mode=info.mode,
                    weight_set_id=info.weight_set_id,
                    started_by_id=info.started_by_id,
                    performer_id=info.started_by_id,
                    receptor_kg="0",
                    receptor_position="centre",
                    problem="",
                )
            )
            try:
                session.flush()
            except IntegrityError as err:  # another run was started on the instrument at the same moment
                session.rollback()
                raise InstrumentBusyError(
                    "another run was just started on this instrument", details={"instrument_id": info.instrument_id}
                ) from err
            audit.record(
                session,
                actor=Actor(info.started_by_id, info.actor_name or str(info.started_by_id)),
                action="start",
                entity="guided_runs",
                entity_id=state.run_id,
                organisation_id=info.organisation_id,
                new={
                    "kind": state.kind,
                    "instrument_id": info.instrument_id,
                    "mode": info.mode,
                    "weight_set_id": info.weight_set_id,
                },
            )
            session.commit()

    def load(self, run_id: str) -> RunState:
        with self.database.read_session() as session:
            text = session.scalar(select(GuidedRun.state).where(GuidedRun.run_id == run_id))
        if text is None:
            raise UnknownRunError(run_id)
        return RunState.loads(text, source=f"guided run {run_id}")

    def save(self, state: RunState, *, expected_version: int) -> None:
        if state.version <= expected_version:
            raise InputError("version", f"a saved state must have a version above {expected_version}")
        text = state.dumps()
        with self.database.write_session() as session:
            before = session.execute(
                select(GuidedRun.state, GuidedRun.organisation_id).where(GuidedRun.run_id == state.run_id)
            ).first()
            result = session.execute(
                update(GuidedRun)
                .where(
                    GuidedRun.run_id == state.run_id,
                    GuidedRun.version == expected_version,
                    GuidedRun.status != "abandoned",
                )
                .values(state=text, version=state.version, status=state.status, updated_at=utcnow())
            )
            if getattr(result, "rowcount", 0) != 1 or before is None:
                session.rollback()
                found = session.scalar(select(GuidedRun.version).where(GuidedRun.run_id == state.run_id))
                if found is None:
                    raise UnknownRunError(state.run_id)
                raise ConcurrentUpdateError(state.run_id, expected_version, found)
            old = RunState.loads(before[0], source=f"guided run {state.run_id}")
            self._audit_steps(session, old, state, organisation_id=before[1])
            session.commit()

    def _audit_steps(self, session: DbSession, old: RunState, new: RunState, *, organisation_id: int) -> None:
        """One audit entry per step recorded (``record_step``) or corrected (``correct_step``) by this save."""
        actor = self.actor or Actor(None, "system")
        for index, record in enumerate(new.results):
            previous = old.results[index] if index < len(old.results) else None
            if previous == record:
                continue
            audit.record(
                session,
                actor=actor,
                action="record_step" if previous is None else "correct_step",
                entity="guided_runs",
                entity_id=new.run_id,
                organisation_id=organisation_id,
                old=None if previous is None else {"step": index, **previous.as_json()},
                new={"step": index, **record.as_json()},
            )

    def run_ids(self) -> tuple[str, ...]:
        with self.database.read_session() as session:
            return tuple(sorted(session.scalars(select(GuidedRun.run_id))))


# -- one submission at a time per run (in this process; the compare-and-set covers several processes) ---------
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@contextmanager
def run_lock(run_id: str) -> Iterator[None]:
    """Serialise the submissions to one run within this server process."""
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(run_id, threading.Lock())
    with lock:
        yield


# -- parameters from the registry ------------------------------------------------------------------------------
def _kg(value: Decimal) -> str:
    return format_mass(value)


def weight_entries(
    session: DbSession, principal: Principal, weight_set: WeightSet, *, max_kg: Decimal | None = None
) -> tuple[list[dict[str, Any]], list[int]]:
    """The weights of a set in calibration-record form (use by certificate where ``U`` is known) and their ids;
    with ``max_kg`` only those of at most that nominal value (a heavier one cannot be put on the instrument)."""
    rows = list(
        session.scalars(
            scoped_select(principal, Weight)
            .where(Weight.weight_set_id == weight_set.id)
            .order_by(Weight.nominal_kg.desc(), Weight.id)
        )
    )
    if not rows:
        raise InputError("weight_set_id", f"weight set {weight_set.name!r} has no weights")
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in rows:
        if max_kg is not None and row.nominal_kg > max_kg:
            continue
        ident = row.identifier
        if ident in seen:
            ident = f"{ident} #{row.id}"
        seen.add(ident)
        entry: dict[str, Any] = {"id": ident, "class": row.weight_class, "nominal": _kg(row.nominal_kg)}
        if row.u_kg > 0:
            entry["certificate"] = {
                "id": row.certificate_number or weight_set.certificate_number or None,
                "correction": _kg(row.correction_kg),
                "U": _kg(row.u_kg),
                "k": float(row.k),
            }
        entries.append(entry)
    return entries, [row.id for row in rows if max_kg is None or row.nominal_kg <= max_kg]


def instrument_label(instrument: Instrument) -> str:
    return f"{instrument.make} {instrument.model} {instrument.serial}"


def calibration_instrument(instrument: Instrument) -> dict[str, Any]:
    """The ``instrument`` of a calibration record header for a registered instrument; one with several ranges
    carries its ``kind`` and ``ranges`` (d = e in each), so that each reading is evaluated in its range."""
    item: dict[str, Any] = {
        "id": instrument_label(instrument),
        "make": instrument.make,
        "model": instrument.model,
        "serial": instrument.serial,
        "max": _kg(instrument.max_kg),
        "d": _kg(instrument.d_kg),
        "e": _kg(instrument.e_kg),
        "class": instrument.accuracy_class,
    }
    if instrument.min_kg > 0:
        item["min"] = _kg(instrument.min_kg)
    if len(instrument.ranges) > 1:  # several ranges: d = e in each (R 76-1 via Directive Annex I), d and e are e1
        first = _kg(Decimal(instrument.ranges[0]["e_kg"]))
        item.update(kind=instrument.kind, d=first, e=first)
        item["ranges"] = [
            {"max": _kg(Decimal(r["max_kg"])), "d": _kg(Decimal(r["e_kg"])), "e": _kg(Decimal(r["e_kg"]))}
            for r in instrument.ranges
        ]
    return item


def calibration_parameters(
    session: DbSession,
    principal: Principal,
    instrument: Instrument,
    weight_set: WeightSet,
    *,
    operator: str,
    on: date,
    environment: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """The parameters of a guided calibration (``{"record": header}``) for ``instrument`` with ``weight_set``."""
    usable, _ids = weight_entries(session, principal, weight_set, max_kg=instrument.max_kg)
    if not usable:
        raise InputError(
            "weight_set_id",
            f"no weight of {weight_set.name!r} is at most Max = {format_mass(instrument.max_kg)}; "
            "choose a set that can make up loads up to Max",
        )
    item = calibration_instrument(instrument)
    header: dict[str, Any] = {
        "date": on.isoformat(),
        "operator": operator,
        "instrument": item,
        "weights": usable,
    }
    if environment:
        header["environment"] = dict(environment)
    return {"record": header}


def verification_parameters(
    session: DbSession,
    principal: Principal,
    instrument: Instrument,
    weight_set: WeightSet,
    *,
    operator: str,
    on: date,
    stage: str,
    rules: str,
    environment: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """The parameters of a guided verification (``{"record": header}``, OIML R 76-1 Annex A plan of
    :mod:`hengqi.procedures.verification`) for ``instrument`` with ``weight_set``."""
    if stage not in STAGES:
        raise InputError("stage", f"expected one of {', '.join(STAGES)}, got {stage!r}")
    if rules not in RULES:
        raise InputError("rules", f"expected one of {', '.join(RULES)}, got {rules!r}")
    usable, _ids = weight_entries(session, principal, weight_set, max_kg=instrument.max_kg)
    if not usable:
        raise InputError("weight_set_id", f"no weight of {weight_set.name!r} is at most Max")
    specification: dict[str, Any] = {"class": instrument.accuracy_class, "supports": DEFAULT_SUPPORTS}
    if len(instrument.ranges) > 1:
        specification["kind"] = instrument.kind
        specification["ranges"] = [
            {"max": _kg(Decimal(r["max_kg"])), "e": _kg(Decimal(r["e_kg"]))} for r in instrument.ranges
        ]
    else:
        specification.update(max=_kg(instrument.max_kg), e=_kg(instrument.e_kg), d=_kg(instrument.d_kg))
    if instrument.min_kg > 0:
        specification["min"] = _kg(instrument.min_kg)
    header: dict[str, Any] = {
        "instrument": {
            "id": instrument_label(instrument),
            "make": instrument.make,
            "model": instrument.model,
            "serial": instrument.serial,
            "specification": specification,
        },
        "reference_weights": [{"id": w["id"], "class": w["class"], "nominal": w["nominal"]} for w in usable],
        "operator": operator,
        "date": on.isoformat(),
        "stage": stage,
        "rules": rules,
    }
    if environment:
        header["environment"] = dict(environment)
    return {"record": header}


def count_steps(kind: str, parameters: Mapping[str, Any], d_kg: Decimal) -> int:
    """How many operator steps the run will take (its plan driven once by a virtual balance), shutdown included."""
    definition = PLANS[kind]
    simulation = simulate(definition.build(parameters), VirtualBalance(d_kg).respond)
    steps = [message.step for message in simulation.messages if message.step.kind != "record"]
    shutdown = len(definition.shutdown)
    if steps and definition.shutdown and definition.shutdown[0] == steps[-1]:
        shutdown -= 1  # a shutdown step repeating the last step is not asked (hengqi.procedures.session)
    return len(steps) + shutdown


def start(
    database: Database,
    principal: Principal,
    *,
    instrument_id: int,
    kind: str,
    weight_set_id: int,
    mode: str,
    environment: Mapping[str, float] | None = None,
    stage: str = "initial",
    rules: str = "oiml-r76",
) -> str:
    """Start a guided run of ``kind`` on an instrument; returns its run id."""
    principal.require(Permission.RECORD_RUN)
    if kind not in WEB_KINDS:
        raise InputError("kind", f"expected one of {', '.join(WEB_KINDS)}, got {kind!r}")
    if mode not in MODES:
        raise InputError("mode", f"expected one of {', '.join(MODES)}, got {mode!r}")
    with database.read_session() as session:
        instrument = get_scoped(session, principal, Instrument, instrument_id)
        if instrument.status != "in-service":
            raise InputError("instrument_id", f"the instrument is {instrument.status}, not in service")
        refuse_if_busy(session, instrument.id)
        weight_set = get_scoped(session, principal, WeightSet, weight_set_id)
        if weight_set.organisation_id != instrument.organisation_id:
            raise InputError("weight_set_id", "belongs to another organisation")
        user = session.get(User, principal.user_id)
        operator = (user.full_name if user is not None and user.full_name else principal.username) or "technician"
        if mode == "instrument" and connection_of(session, instrument.id) is None:
            raise InputError("mode", "no instrument connection is configured; choose manual entry")
        if kind == "verification":
            parameters = verification_parameters(
                session,
                principal,
                instrument,
                weight_set,
                operator=operator,
                on=date.today(),
                stage=stage,
                rules=rules,
                environment=environment,
            )
        else:
            parameters = calibration_parameters(
                session, principal, instrument, weight_set, operator=operator, on=date.today(), environment=environment
            )
        d_kg = instrument.d_kg
        organisation_id = instrument.organisation_id
    runs = Runs(DbRunStore(database), PLANS)
    normalised = runs.definition(kind).normalise(parameters)
    total = count_steps(kind, normalised, d_kg)
    info = NewRun(organisation_id, instrument_id, mode, weight_set_id, principal.user_id, total, principal.username)
    session_ = Runs(DbRunStore(database, info), PLANS).start(kind, parameters)
    return session_.state.run_id


def connection_of(session: DbSession, instrument_id: int) -> InstrumentConnection | None:
    return session.get(InstrumentConnection, instrument_id)


def allowed_hosts(session: DbSession, organisation_id: int) -> tuple[str, ...]:
    """The organisation's instrument host allow-list (:mod:`~hengqi.server.services.instrument_policy`)."""
    org = session.get(Organisation, organisation_id)
    return () if org is None else parse_hosts(org.instrument_hosts)


def usable_url(session: DbSession, instrument: Instrument) -> str | None:
    """The instrument's connection URL if one is stored; an :class:`InputError` if the policy no longer allows it
    (a URL stored before the policy, or a host since taken off the allow-list, is never opened)."""
    connection = connection_of(session, instrument.id)
    if connection is None:
        return None
    check_url(connection.url, allowed_hosts(session, instrument.organisation_id))
    return connection.url


def usable_control_url(session: DbSession, instrument: Instrument) -> str | None:
    """The stored simulator control URL ("hands") if any, checked like :func:`usable_url`."""
    connection = connection_of(session, instrument.id)
    if connection is None or not connection.control_url:
        return None
    check_url(connection.control_url, allowed_hosts(session, instrument.organisation_id))
    return connection.control_url


def _lock_instrument(session: DbSession, instrument_id: int) -> None:
    """Serialise changes of one instrument's connection: two first saves at once would both insert (PostgreSQL row
    lock; SQLite's writers already hold the database write lock)."""
    session.execute(select(Instrument.id).where(Instrument.id == instrument_id).with_for_update())


def set_connection(
    session: DbSession, principal: Principal, instrument_id: int, url: str, control_url: str = ""
) -> None:
    """Record how an instrument is reached (roles that connect instruments; the URL checked against the policy)."""
    principal.require(Permission.CONNECT_INSTRUMENT)
    instrument = get_scoped(session, principal, Instrument, instrument_id)
    hosts = allowed_hosts(session, instrument.organisation_id)
    check_url(url, hosts)  # an InputError names what is wrong with the URL or why the server refuses it
    if control_url:
        check_url(control_url, hosts)
    _lock_instrument(session, instrument_id)
    row = session.get(InstrumentConnection, instrument_id)
    audit.record(
        session,
        actor=principal.actor,
        action="update" if row is not None else "create",
        entity="instrument_connections",
        entity_id=instrument_id,
        organisation_id=instrument.organisation_id,
        old=None if row is None else {"url": row.url, "control_url": row.control_url},
        new={"url": url, "control_url": control_url},
    )
    if row is None:
        session.add(InstrumentConnection(instrument_id=instrument_id, url=url, control_url=control_url))
    else:
        row.url, row.control_url, row.updated_at = url, control_url, utcnow()
    session.flush()


def remove_connection(session: DbSession, principal: Principal, instrument_id: int) -> None:
    """Forget how an instrument is reached (its runs then take readings typed in)."""
    principal.require(Permission.CONNECT_INSTRUMENT)
    get_scoped(session, principal, Instrument, instrument_id)
    _lock_instrument(session, instrument_id)
    row = session.get(InstrumentConnection, instrument_id)
    if row is not None:
        session.delete(row)
        session.flush()


def get_run(session: DbSession, principal: Principal, run_id: str) -> GuidedRun:
    """The guided run ``run_id`` if the principal may see it."""
    row = session.scalar(select(GuidedRun).where(GuidedRun.run_id == run_id))
    if row is None or not principal.sees(row.organisation_id):
        raise NotFoundError("guided-run", run_id)
    return row


def open_session(database: Database, run_id: str) -> Session:
    """The run replayed to the step it waits at."""
    return Runs(DbRunStore(database), PLANS).open(run_id)


def runs_api(database: Database, actor: Actor | None = None) -> Runs:
    """The runs API on the database; ``actor`` is named in the audit entry of every step it records."""
    return Runs(DbRunStore(database, actor=actor), PLANS)


def set_fields(database: Database, run_id: str, **values: Any) -> None:
    """Update bookkeeping columns of a run (mode, receptor state, problem), not its state."""
    with database.write_session() as session:
        session.execute(update(GuidedRun).where(GuidedRun.run_id == run_id).values(**values))
        session.commit()


def list_runs(
    session: DbSession, principal: Principal, *, status: str | None = None, limit: int = 50
) -> list[GuidedRun]:
    statement = select(GuidedRun).order_by(GuidedRun.updated_at.desc()).limit(limit)
    visible = principal.visible_organisations()
    if visible is not None:
        statement = statement.where(GuidedRun.organisation_id.in_(sorted(visible)))
    if status is not None:
        statement = statement.where(GuidedRun.status == status)
    return list(session.scalars(statement))


def switch_mode(database: Database, principal: Principal, run_id: str, mode: str) -> None:
    """Take readings from the instrument or type them in from now on (recorded in the audit trail)."""
    principal.require(Permission.RECORD_RUN)
    if mode not in MODES:
        raise InputError("mode", f"expected one of {', '.join(MODES)}, got {mode!r}")
    with database.write_session() as session:
        row = get_run(session, principal, run_id)
        require_performer(principal, row)
        if row.mode != mode:
            audit.record(
                session,
                actor=principal.actor,
                action="update",
                entity="guided_runs",
                entity_id=run_id,
                organisation_id=row.organisation_id,
                old={"mode": row.mode},
                new={"mode": mode},
            )
            row.mode = mode
        session.commit()


def cancel(database: Database, principal: Principal, run_id: str) -> Session:
    """Ask the run to stop (its shutdown steps follow); recorded in the audit trail."""
    principal.require(Permission.RECORD_RUN)
    with database.read_session() as session:
        row = get_run(session, principal, run_id)
        require_performer(principal, row)
        organisation_id = row.organisation_id
    run = runs_api(database, principal.actor).cancel(run_id)
    with database.write_session() as session:
        audit.record(
            session,
            actor=principal.actor,
            action="cancel",
            entity="guided_runs",
            entity_id=run_id,
            organisation_id=organisation_id,
            new={"results": len(run.state.results)},
        )
        session.commit()
    return run


# -- who records, one run per instrument ------------------------------------------------------------------------
def _name(session: DbSession, user_id: int) -> str:
    user = session.get(User, user_id)
    return f"user {user_id}" if user is None else (user.full_name or user.username)


def active_run(session: DbSession, instrument_id: int) -> GuidedRun | None:
    """The run in progress on the instrument, if any."""
    return session.scalar(
        select(GuidedRun).where(GuidedRun.instrument_id == instrument_id, GuidedRun.status == "running")
    )


def in_use_text(session: DbSession, row: GuidedRun) -> str:
    """ "in use by NAME since T (run ID)"."""
    since = row.created_at.strftime("%Y-%m-%d %H:%M UTC")
    return f"in use by {_name(session, row.performer)} since {since} (run {row.run_id})"


def refuse_if_busy(session: DbSession, instrument_id: int) -> None:
    """:class:`InstrumentBusyError` if a run is in progress on the instrument."""
    busy = active_run(session, instrument_id)
    if busy is not None:
        raise InstrumentBusyError(
            f"the instrument is {in_use_text(session, busy)}; a quality manager may end a stale run",
            details={"run_id": busy.run_id, "performer_id": busy.performer},
        )


def require_performer(principal: Principal, row: GuidedRun) -> None:
    """Only the run's performer records in it (after the role check); an abandoned run takes nothing more.

    Called before anything is done on the instrument or stored, for every step, mode switch and cancellation.
    """
    principal.require(Permission.RECORD_RUN)
    if row.status == "abandoned":
        raise RunAbandonedError(f"the run was ended by a quality manager: {row.abandon_reason}")
    if row.performer != principal.user_id:
        raise PermissionDeniedError(
            "only the technician performing this run records its steps; take the run over to continue it",
            details={"rule": "performer", "performer_id": row.performer},
        )


def take_over(database: Database, principal: Principal, run_id: str) -> None:
    """Make the principal the run's performer (a colleague continuing it); recorded in the audit trail."""
    principal.require(Permission.RECORD_RUN)
    with database.write_session() as session:
        row = get_run(session, principal, run_id)
        if row.organisation_id != principal.organisation_id:
            raise PermissionDeniedError("a run is taken over only within its own organisation")
        if row.status != "running" and row.review_status != "returned":
            raise ConflictError(f"the run is {row.status}; there is nothing to take over", code="run_ended")
        if row.performer == principal.user_id:
            return
        audit.record(
            session,
            actor=principal.actor,
            action="take_over",
            entity="guided_runs",
            entity_id=run_id,
            organisation_id=row.organisation_id,
            old={"performer_id": row.performer},
            new={"performer_id": principal.user_id},
        )
        row.performer_id = principal.user_id
        session.commit()


#: Limits of a reason given in a form (abandoning a run, confirming a reading, correcting, returning).
REASON_MIN, REASON_MAX = 3, 500


def check_reason(reason: str, field: str = "reason") -> str:
    """A reason of 3 to 500 characters (after trimming)."""
    text = " ".join(reason.split())
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise InputError(field, f"give a reason of {REASON_MIN} to {REASON_MAX} characters")
    return text


def abandon(database: Database, principal: Principal, run_id: str, reason: str) -> None:
    """End a stale run (quality manager), freeing its instrument; the reason goes to the run and the audit trail.

    Nothing recorded in the run is lost; no step can be recorded in it afterwards.
    """
    principal.require(Permission.ABANDON_RUN)
    text = check_reason(reason)
    with database.write_session() as session:
        row = get_run(session, principal, run_id)
        if row.organisation_id != principal.organisation_id:
            raise PermissionDeniedError("a run is ended only within its own organisation")
        if row.status != "running":
            raise ConflictError(f"the run is {row.status}, not running", code="run_ended")
        audit.record(
            session,
            actor=principal.actor,
            action="abandon",
            entity="guided_runs",
            entity_id=run_id,
            organisation_id=row.organisation_id,
            old={"status": row.status, "performer_id": row.performer},
            new={"status": "abandoned", "reason": text},
        )
        row.status, row.abandon_reason, row.finished_at = "abandoned", text, utcnow()
        row.held_reading = ""
        session.commit()


# -- readings held for confirmation ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HeldReading:
    """A reading kept aside until it is confirmed with a reason: the step it answers, its value (kg), its
    source and the findings that stopped it (codes and what they say).

    ``findings`` are catalogue messages (English msgid and parameters), translated when the page is drawn.
    A reading held before the findings were messages was stored with its texts in English and Chinese
    (``messages``, ``messages_zh``): it is read as it was stored (``legacy``) and shown in either language.
    """

    step_id: str
    value_kg: Decimal
    source: str
    codes: tuple[str, ...]
    findings: tuple[Message, ...] = ()
    legacy: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, step_id: str, value_kg: Decimal, source: str, findings: tuple[Finding, ...]) -> HeldReading:
        """A reading held with its plausibility findings."""
        return cls(step_id, value_kg, source, tuple(f.code for f in findings), tuple(f.what for f in findings))

    def messages(self, lang: str) -> tuple[str, ...]:
        """What the findings say, in ``lang``."""
        if self.findings:
            return tuple(translate_message(lang, message) for message in self.findings)
        return tuple(zh if lang == "zh" and zh else en for en, zh in self.legacy)

    def dumps(self) -> str:
        data: dict[str, Any] = {
            "step_id": self.step_id,
            "value_kg": str(self.value_kg),
            "source": self.source,
            "codes": list(self.codes),
        }
        if self.findings:
            data["findings"] = [message.as_json() for message in self.findings]
            data["messages"] = [message.english() for message in self.findings]  # for a reader of the raw row
        else:
            data["messages"] = [en for en, _ in self.legacy]
            data["messages_zh"] = [zh for _, zh in self.legacy]
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def loads(cls, text: str) -> HeldReading | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            findings: tuple[Message, ...] = ()
            legacy: tuple[tuple[str, str], ...] = ()
            if "findings" in data:
                findings = tuple(message_from_json(item) for item in data["findings"])
            else:
                english = [str(x) for x in data["messages"]]
                chinese = [str(x) for x in data.get("messages_zh", english)]
                legacy = tuple(zip(english, chinese + english[len(chinese) :], strict=False))
            return cls(
                str(data["step_id"]),
                Decimal(str(data["value_kg"])),
                str(data["source"]),
                tuple(str(x) for x in data["codes"]),
                findings,
                legacy,
            )
        except (ValueError, KeyError, TypeError, ArithmeticError):
            return None


def hold_reading(database: Database, run_id: str, held: HeldReading | None) -> None:
    """Keep a reading aside for confirmation (``None``: drop what was held)."""
    set_fields(database, run_id, held_reading="" if held is None else held.dumps())
