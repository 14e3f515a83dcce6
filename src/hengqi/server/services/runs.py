"""Procedures and runs (verification, calibration, routine test), with the server's own flags.

A run is never silently accepted when something about it is wrong: the server adds *flags* that are stored with
the run and shown by the API:

* ``weight_out_of_calibration``: a reference weight whose calibration due date had passed on the day of the run
  (ISO/IEC 17025:2017, 6.4.7 and 6.5: equipment used must be calibrated; its status must be known);
* ``weight_calibration_unknown``: a weight with no due date recorded;
* ``instrument_not_in_service``: the instrument's status is not ``in-service``;
* ``load_outside_specification``: a load above the instrument's Max (OIML R 76-1:2006 terminology: Max is the
  maximum weighing capacity), or one the MPE table does not cover;
* ``mpe_exceeded``: (verification runs) an indication error larger than the MPE for the stage.

For verification runs whose raw data list ``loads`` with ``load`` and ``indication``, the server computes each
error and its MPE with :func:`hengqi.metrology.mpe.mpe` (OIML R 76-1:2006, 3.5.1, Table 6; 3.5.2) and stores them
under ``results["server_check"]``; the error is taken as indication minus load, without the rounding-error
correction of R 76-1 A.4.4.3 (that belongs to the full R 76 evaluation in :mod:`hengqi.metrology.r76`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hengqi.errors import InputError, RecordError
from hengqi.metrology.classes import InstrumentSpecification
from hengqi.metrology.conformity import SIMPLE_ACCEPTANCE
from hengqi.metrology.mpe import mpe
from hengqi.metrology.quantities import parse_mass
from hengqi.records.run_data import PointResult, check_json_value, check_run_data
from hengqi.server import audit
from hengqi.server.db.engine import UNREADABLE
from hengqi.server.db.models import Certificate, Instrument, Procedure, Run
from hengqi.server.errors import ConflictError
from hengqi.server.permissions import Permission, Principal
from hengqi.server.schemas.workflow import (
    Flag,
    ProcedureCreate,
    ProcedureUpdate,
    RunCreate,
    RunPublic,
    RunRevisionCreate,
    RunUpdate,
)
from hengqi.server.services.base import add_audited, ensure_organisation, get_scoped, update_audited
from hengqi.server.services.due import advance_due
from hengqi.server.services.registry import instrument_specification, live_weights, weight_due


# -- procedures -------------------------------------------------------------------------------------------------
def create_procedure(session: Session, principal: Principal, data: ProcedureCreate) -> Procedure:
    principal.require(Permission.WRITE_REGISTRY)
    org = principal.writes_to(data.organisation_id)
    ensure_organisation(session, org)
    values = data.model_dump(exclude={"organisation_id"})
    return add_audited(session, principal, Procedure(organisation_id=org, **values), what="procedure")


def update_procedure(session: Session, principal: Principal, key: int, data: ProcedureUpdate) -> Procedure:
    principal.require(Permission.WRITE_REGISTRY)
    procedure = get_scoped(session, principal, Procedure, key)
    return update_audited(session, principal, procedure, data.model_dump(exclude_unset=True), what="procedure")


# -- flags and the server's check -------------------------------------------------------------------------------
def _flag(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details}


def _loads(raw: dict[str, Any]) -> list[tuple[int, Decimal, Decimal | None]]:
    items = raw.get("loads")
    if items is None:
        return []
    if not isinstance(items, list):
        raise InputError("raw_data.loads", "must be a list of {load, indication}")
    out = []
    for index, item in enumerate(items):
        path = f"raw_data.loads[{index}]"
        if not isinstance(item, dict) or "load" not in item:
            raise InputError(path, "must be an object with 'load' (and 'indication')")
        load = parse_mass(item["load"], path=f"{path}.load", default_unit="kg")
        indication = item.get("indication")
        reading = None if indication is None else parse_mass(indication, path=f"{path}.indication", default_unit="kg")
        out.append((index, load, reading))
    return out


def evaluate(
    session: Session, run: Run, instrument: Instrument, weights_due: list[tuple[int, date | None]]
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The flags of ``run`` and, for a verification run with indications, the server's MPE check."""
    flags: list[dict[str, Any]] = []
    for weight_id, due in weights_due:
        if due is None:
            flags.append(_flag("weight_calibration_unknown", f"weight {weight_id} has no calibration due date"))
        elif due < run.performed_on:
            flags.append(
                _flag(
                    "weight_out_of_calibration",
                    f"weight {weight_id} was out of calibration on {run.performed_on} (due {due})",
                    weight_id=weight_id,
                    due_date=due.isoformat(),
                )
            )
    if instrument.status != "in-service":
        flags.append(_flag("instrument_not_in_service", f"instrument status is {instrument.status}"))
    spec: InstrumentSpecification = instrument_specification(instrument)
    stage = str(run.raw_data.get("stage", "initial"))
    rows: list[dict[str, Any]] = []
    for index, load, indication in _loads(run.raw_data):
        if load > spec.max_kg:
            flags.append(
                _flag(
                    "load_outside_specification",
                    f"load {load} kg at loads[{index}] exceeds Max = {spec.max_kg} kg",
                    index=index,
                )
            )
        if run.kind != "verification" or indication is None:
            continue
        try:
            limit = mpe(load, spec, stage=stage)
        except InputError as err:
            flags.append(_flag("load_outside_specification", f"loads[{index}]: {err}", index=index))
            continue
        error = indication - load
        within = abs(error) <= limit
        rows.append(
            {"index": index, "load_kg": str(load), "error_kg": str(error), "mpe_kg": str(limit), "within": within}
        )
        if not within:
            flags.append(
                _flag("mpe_exceeded", f"loads[{index}]: |E| = {abs(error)} kg > MPE = {limit} kg", index=index)
            )
    check = None
    if rows:
        check = {
            "rule": "OIML R 76-1:2006, 3.5.1, Table 6 (stage multiplier 3.5.2); E = I - L, no rounding correction",
            "stage": stage,
            "decision_rule": str(SIMPLE_ACCEPTANCE),
            "loads": rows,
            "pass": all(row["within"] for row in rows),
        }
    return flags, check


def _apply_evaluation(session: Session, principal: Principal, run: Run, instrument: Instrument) -> None:
    weights = live_weights(session, principal, run.weight_ids, run.organisation_id)
    flags, check = evaluate(session, run, instrument, [(w.id, weight_due(session, w)) for w in weights])
    run.flags = flags
    results = {k: v for k, v in run.results.items() if k != "server_check"}
    if check is not None:
        results["server_check"] = check
    run.results = results


def _verification_passed(run: Run) -> bool:
    """A completed verification whose results say it passed, with no server flag saying an MPE was exceeded and no
    failing server check: only then does the instrument's next verification fall due from it."""
    if run.kind != "verification" or run.status != "completed" or run.results.get("passed") is not True:
        return False
    check = run.results.get("server_check")
    if isinstance(check, dict) and check.get("pass") is False:
        return False
    return not any(flag.get("code") == "mpe_exceeded" for flag in run.flags)


# -- runs -------------------------------------------------------------------------------------------------------
def _checked(raw_data: object, results: object) -> tuple[dict[str, Any], dict[str, Any]]:
    """The documents to store, checked against their formats (a client's ``server_check`` is the server's to make:
    it is dropped before the check and made again)."""
    if isinstance(results, dict):
        results = {k: v for k, v in results.items() if k != "server_check"}
    return check_run_data(raw_data, results)


def revision_of(session: Session, run_id: int) -> Run | None:
    """The run that corrects run ``run_id``, if any."""
    return session.scalar(select(Run).where(Run.supersedes_id == run_id))


def frozen_reason(session: Session, run: Run) -> str | None:
    """Why ``run`` may no longer change (a certificate draws on it, or it has been corrected), or None."""
    certificate = session.scalar(
        select(Certificate)
        .where(Certificate.run_id == run.id, Certificate.deleted_at.is_(None))
        .order_by(Certificate.id)
        .limit(1)
    )
    if certificate is not None:
        return f"certificate {certificate.number} ({certificate.status}) draws on run {run.id}"
    revision = revision_of(session, run.id)
    if revision is not None:
        return f"run {run.id} has been corrected by run {revision.id}"
    return None


def _refuse_if_frozen(session: Session, run: Run) -> None:
    reason = frozen_reason(session, run)
    if reason is not None:
        raise ConflictError(
            f"{reason}: the run is frozen and cannot be changed; record a correction instead "
            f"(POST /api/v1/runs/{run.id}/revisions with the corrected data and a reason)",
            code="run_frozen",
            details={"run_id": run.id},
        )


def create_run(session: Session, principal: Principal, data: RunCreate) -> Run:
    principal.require(Permission.RECORD_RUN)
    instrument = get_scoped(session, principal, Instrument, data.instrument_id)
    if data.procedure_id is not None:
        procedure = get_scoped(session, principal, Procedure, data.procedure_id)
        if procedure.organisation_id != instrument.organisation_id:
            raise InputError("procedure_id", "belongs to another organisation")
    raw_data, results = _checked(data.raw_data, data.results)
    run = Run(
        organisation_id=instrument.organisation_id,
        instrument_id=instrument.id,
        procedure_id=data.procedure_id,
        kind=data.kind,
        status=data.status,
        performed_by_id=principal.user_id,
        performed_on=data.performed_on or date.today(),
        raw_data=raw_data,
        results=results,
        weight_ids=list(dict.fromkeys(data.weight_ids)),
        flags=[],
    )
    _apply_evaluation(session, principal, run, instrument)
    added = add_audited(session, principal, run, what="run")
    if _verification_passed(run):
        advance_due(session, principal, instrument, "verification", run.performed_on)
    return added


def update_run(session: Session, principal: Principal, run_id: int, data: RunUpdate) -> Run:
    principal.require(Permission.RECORD_RUN)
    run = get_scoped(session, principal, Run, run_id)
    _refuse_if_frozen(session, run)
    if run.status == "completed" and data.model_dump(exclude_unset=True, exclude={"status", "row_version"}):
        raise ConflictError("a completed run cannot be changed; record a new run", code="run_completed")
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    # what will be stored is checked whole, also when only the status changes: a run stored before the formats
    # existed, or damaged in the database, is refused (422 naming the field) instead of being evaluated
    changes["raw_data"], changes["results"] = _checked(
        changes.get("raw_data", run.raw_data), changes.get("results", run.results)
    )
    if "weight_ids" in changes:
        changes["weight_ids"] = list(dict.fromkeys(changes["weight_ids"]))
    instrument = get_scoped(session, principal, Instrument, run.instrument_id)
    probe = Run(
        organisation_id=run.organisation_id,
        kind=run.kind,
        performed_on=changes.get("performed_on", run.performed_on),
        raw_data=changes.get("raw_data", run.raw_data),
        results=changes.get("results", run.results),
        weight_ids=changes.get("weight_ids", run.weight_ids),
        flags=[],
    )
    _apply_evaluation(session, principal, probe, instrument)
    changes["flags"] = probe.flags
    changes["results"] = probe.results
    return update_audited(session, principal, run, changes, what="run")


def create_revision(session: Session, principal: Principal, run_id: int, data: RunRevisionCreate) -> Run:
    """Correct run ``run_id``: a new run with the corrected values (the others copied), naming the run it corrects
    and the reason; the corrected run is kept unchanged.  A run is corrected once (then correct its correction)."""
    principal.require(Permission.RECORD_RUN)
    original = get_scoped(session, principal, Run, run_id, for_update=True)
    later = revision_of(session, original.id)
    if later is not None:
        raise ConflictError(
            f"run {original.id} was already corrected by run {later.id}; correct run {later.id} instead",
            code="run_already_revised",
            details={"revision_id": later.id},
        )
    instrument = get_scoped(session, principal, Instrument, original.instrument_id)
    given = data.model_dump(exclude_unset=True)
    raw_data, results = _checked(given.get("raw_data", original.raw_data), given.get("results", original.results))
    revision = Run(
        organisation_id=original.organisation_id,
        instrument_id=original.instrument_id,
        procedure_id=original.procedure_id,
        kind=original.kind,
        status=given.get("status") or original.status,
        performed_by_id=original.performed_by_id,
        performed_on=given.get("performed_on") or original.performed_on,
        raw_data=raw_data,
        results=results,
        weight_ids=list(dict.fromkeys(given.get("weight_ids") or original.weight_ids)),
        flags=[],
        supersedes_id=original.id,
        revision_reason=data.reason,
    )
    _apply_evaluation(session, principal, revision, instrument)
    made = add_audited(session, principal, revision, what="run revision")
    audit.record(
        session,
        actor=principal.actor,
        action="revise",
        entity="runs",
        entity_id=original.id,
        organisation_id=original.organisation_id,
        new={"superseded_by_id": made.id, "reason": data.reason},
    )
    return made


# -- reading what is stored -------------------------------------------------------------------------------------
_POINTS: TypeAdapter[list[PointResult]] = TypeAdapter(list[PointResult])


def stored_data_problem(run: Run) -> str | None:
    """Why the stored documents of ``run`` cannot be shown (changed in the database behind the server's back, or
    stored before they were checked), or None.  Readers show such a run with this message instead of its data,
    so that one broken row never fails a whole list, export or page."""
    for name in ("raw_data", "results", "flags", "weight_ids"):
        value = getattr(run, name)
        if isinstance(value, dict) and UNREADABLE in value:
            return f"stored {name}: {value[UNREADABLE]}"
    for name in ("raw_data", "results"):
        if not isinstance(getattr(run, name), dict):
            return f"stored {name} is not a JSON object"
    if not isinstance(run.flags, list) or not all(isinstance(flag, dict) for flag in run.flags):
        return "stored flags are not a list of objects"
    if not isinstance(run.weight_ids, list) or not all(type(key) is int for key in run.weight_ids):
        return "stored weight_ids are not a list of ids"
    try:
        check_json_value(run.raw_data, "raw_data")
        check_json_value(run.results, "results")
        check_json_value(run.flags, "flags")
        points = run.results.get("points")
        if points is not None:
            _POINTS.validate_python(points)
    except RecordError as err:
        return f"stored data unreadable: {err}"
    except ValidationError as err:
        return f"stored data unreadable: {record_error_text(err, 'results.points')}"
    return None


def record_error_text(err: ValidationError, prefix: str) -> str:
    from hengqi.records.loading import record_error

    return str(record_error(err).at(prefix))


def public_run(run: Run) -> RunPublic:
    """The public form of ``run``; a run whose stored data cannot be read is shown without it, marked."""
    problem = stored_data_problem(run)
    if problem is None:
        try:
            return RunPublic.model_validate(run)
        except ValidationError as err:
            problem = f"stored data unreadable: {record_error_text(err, '')}"
    return RunPublic(
        id=run.id,
        organisation_id=run.organisation_id,
        row_version=run.row_version,
        created_at=run.created_at,
        updated_at=run.updated_at,
        instrument_id=run.instrument_id,
        procedure_id=run.procedure_id,
        kind=run.kind,
        status=run.status,
        performed_by_id=run.performed_by_id,
        performed_on=run.performed_on,
        weight_ids=[],
        raw_data={},
        results={},
        flags=[Flag(code="stored_data_invalid", message=problem)],
        supersedes_id=run.supersedes_id,
        revision_reason=run.revision_reason,
        stored_data_error=problem,
    )
