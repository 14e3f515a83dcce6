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

from sqlalchemy.orm import Session

from hengqi.errors import InputError
from hengqi.metrology.classes import InstrumentSpecification
from hengqi.metrology.conformity import SIMPLE_ACCEPTANCE
from hengqi.metrology.mpe import mpe
from hengqi.metrology.quantities import parse_mass
from hengqi.server.db.models import Instrument, Procedure, Run
from hengqi.server.errors import ConflictError
from hengqi.server.permissions import Permission, Principal
from hengqi.server.schemas.workflow import ProcedureCreate, ProcedureUpdate, RunCreate, RunUpdate
from hengqi.server.services.base import add_audited, ensure_organisation, get_scoped, update_audited
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


# -- runs -------------------------------------------------------------------------------------------------------
def create_run(session: Session, principal: Principal, data: RunCreate) -> Run:
    principal.require(Permission.RECORD_RUN)
    instrument = get_scoped(session, principal, Instrument, data.instrument_id)
    if data.procedure_id is not None:
        procedure = get_scoped(session, principal, Procedure, data.procedure_id)
        if procedure.organisation_id != instrument.organisation_id:
            raise InputError("procedure_id", "belongs to another organisation")
    run = Run(
        organisation_id=instrument.organisation_id,
        instrument_id=instrument.id,
        procedure_id=data.procedure_id,
        kind=data.kind,
        status=data.status,
        performed_by_id=principal.user_id,
        performed_on=data.performed_on or date.today(),
        raw_data=data.raw_data,
        results=data.results,
        weight_ids=list(dict.fromkeys(data.weight_ids)),
        flags=[],
    )
    _apply_evaluation(session, principal, run, instrument)
    return add_audited(session, principal, run, what="run")


def update_run(session: Session, principal: Principal, run_id: int, data: RunUpdate) -> Run:
    principal.require(Permission.RECORD_RUN)
    run = get_scoped(session, principal, Run, run_id)
    if run.status == "completed" and data.model_dump(exclude_unset=True, exclude={"status"}):
        raise ConflictError("a completed run cannot be changed; record a new run", code="run_completed")
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
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
