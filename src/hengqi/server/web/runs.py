"""The guided run screens: start, the step the run waits at, step submissions, results, review and approval.

Every submission names the step it answers (``step_id``); the run is loaded from the database, replayed, the
answer checked and the run saved with a compare-and-set (:class:`~hengqi.server.services.guided_runs.DbRunStore`),
so a double click, a retried request or a second technician's late answer is never recorded twice: the
browser is shown the step the run waits at, with a message saying what happened.  An instrument that does not
answer records nothing; the run waits at the same step (retry, or switch to manual entry).

Only the run's performer records (checked before the instrument is touched); every reading is checked for
plausibility (:mod:`hengqi.procedures.plausibility`) and one with a gross finding is held until it is confirmed
with a reason or measured again.  A refused submission redirects (post/redirect/get) with its message carried in
a one-time cookie, so the back button never asks to resubmit a form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from hengqi.errors import HengqiError, InputError
from hengqi.locale import error_text, pgettext, translate_message
from hengqi.metrology.classes import InstrumentKind
from hengqi.metrology.mpe import mpe
from hengqi.metrology.quantities import format_mass
from hengqi.metrology.reporting import reported_uncertainty
from hengqi.procedures.errors import ConcurrentUpdateError, RunFinishedError, StaleStepError
from hengqi.procedures.instructions import describe, position_message
from hengqi.procedures.plausibility import Finding, check_reading, needs_confirmation
from hengqi.procedures.session import PendingStep, Session
from hengqi.procedures.steps import (
    AddLoad,
    Decide,
    FindChangeover,
    PlaceLoad,
    ReadStable,
    RemoveLoad,
    Substitute,
    ZeroScale,
    as_mass,
    check_answer,
)
from hengqi.server.db.guided import GuidedRun
from hengqi.server.db.models import Certificate, Instrument, Run
from hengqi.server.errors import ConflictError, PermissionDeniedError, TooManyRequestsError
from hengqi.server.services import guided_certificates, guided_runs, review, verification_records
from hengqi.server.services.base import get_scoped
from hengqi.server.services.guided_runs import HeldReading
from hengqi.server.services.instrument_links import InstrumentUnavailableError
from hengqi.server.services.registry import instrument_specification
from hengqi.server.web import charts
from hengqi.server.web.common import (
    PREFIX,
    Viewer,
    app_state,
    check_csrf,
    clear_flash,
    flash_redirect,
    language,
    public_base,
    redirect,
    render,
    take_flash,
    user_names,
    viewer,
)
from hengqi.server.web.entry import display_unit, normalise_entry
from hengqi.server.web.i18n import gettext, translate
from hengqi.server.web.pages import curve_points, envelope_ranges, links, mpe_function, point_ranges, workers
from hengqi.server.web.results_view import (
    certified_points,
    check_groups,
    error_table,
    live_texts,
    point_intervals,
    shown,
)
from hengqi.server.web.terms import TERMS

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
RunId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
Text = Annotated[str, Form(max_length=200)]
Reason = Annotated[str, Form(max_length=600)]


def _run_url(run_id: str, notice: str | None = None) -> str:
    return f"{PREFIX}/runs/{run_id}" + (f"?notice={notice}" if notice else "")


@router.post("/instruments/{instrument_id}/runs", response_model=None)
def start_run(
    request: Request,
    instrument_id: Id,
    *,
    csrf_token: Text = "",
    weight_set_id: Annotated[int, Form(ge=0, le=2**31 - 1)] = 0,
    mode: Text = "instrument",
    kind: Text = "calibration",
    temperature: Text = "",
    stage: Text = "initial",
    rules: Text = "oiml-r76",
) -> Response:
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    environment: dict[str, float] = {}
    if temperature.strip():
        try:
            if not temperature.isascii():  # float() reads other scripts' digits too
                raise ValueError(temperature)
            value = float(temperature.replace(",", "."))
        except ValueError:
            return _instrument_error(instrument_id, f"temperature: not a number: {temperature!r}")
        if not -40 <= value <= 80:
            return _instrument_error(instrument_id, f"temperature: {value} °C is not a plausible room temperature")
        environment["temperature_start"] = value
    try:
        run_id = guided_runs.start(
            app_state(request).database,
            who.principal,
            instrument_id=instrument_id,
            kind=kind,
            weight_set_id=weight_set_id,
            mode=mode,
            environment=environment or None,
            stage=stage,
            rules=rules,
        )
    except (InputError, ConflictError) as err:
        return _instrument_error(instrument_id, error_text(language(request), err))
    return redirect(_run_url(run_id))


def _instrument_error(instrument_id: int, message: str) -> Response:
    return redirect(f"{PREFIX}/instruments/{instrument_id}?error={quote(message)}")


def _load(request: Request, who: Viewer, run_id: str) -> tuple[GuidedRun, Instrument, Session]:
    state = app_state(request)
    with state.database.read_session() as session:
        row = guided_runs.get_run(session, who.principal, run_id)
        instrument = get_scoped(session, who.principal, Instrument, row.instrument_id)
        session.expunge_all()
    return row, instrument, guided_runs.open_session(state.database, run_id)


def _step_view(pending: PendingStep, lang: str) -> dict[str, Any]:
    step = pending.step
    view: dict[str, Any] = {"text": describe(step, lang), "kind": step.kind, "id": pending.step_id}
    if isinstance(step, PlaceLoad):
        label = translate_message(lang, position_message(step.position))
        view.update(load=format_mass(step.load_kg), position=step.position, weights=step.weights)
        view["receptor"] = Markup(charts.receptor_svg(step.position, format_mass(step.load_kg)))
        view["position_label"] = label
    if isinstance(step, ReadStable):
        view.update(load=format_mass(step.load_kg), purpose=step.purpose)
    if isinstance(step, Decide):
        view["options"] = [
            (option, translate(lang, f"opt.{option}") if f"opt.{option}" in TERMS else option)
            for option in step.options
        ]
    return view


#: ``calibration[i]``: the key of the live result of the i-th point of a guided calibration
_POINT_KEY = re.compile(r"calibration\[(\d+)\]")


def live_point_ranges(run: Session) -> list[int | None]:
    """The range in use of each point of a guided calibration so far, in the order of its ``calibration[i]`` live
    results: the ``range_in_use`` of the reading at load of the point (the procedure's ``"at load"`` /
    ``"at load, increasing"`` / ``"at load, decreasing"`` :class:`ReadStable`, one per point, in order).

    Taken from the answered steps when the page is shown, not from the :class:`LiveResult` (which names no range):
    a field added there would change the step fingerprints of stored runs.  ``None`` where the step names no range
    (a single range, or a run recorded before steps carried it: its MPE is then taken by load, as before)."""
    return [
        step.range_in_use
        for _, step, _record in run.history
        if isinstance(step, ReadStable) and (step.purpose == "at load" or step.purpose.startswith("at load, "))
    ]


def _live_rows(run: Session, instrument: Instrument) -> list[dict[str, Any]]:
    limit_of = mpe_function(instrument)
    ranges = live_point_ranges(run) if run.state.kind == "calibration" else []
    rows = []
    for key, result in run.live:
        point = _POINT_KEY.fullmatch(key)
        index = int(point.group(1)) if point else None
        in_use = ranges[index] if index is not None and index < len(ranges) else None
        mpe_kg = limit_of(result.load_kg, in_use)  # the MPE of the range the point was read in, where named
        within = None if mpe_kg is None else abs(result.value_kg) + (result.limit_kg or Decimal(0)) <= mpe_kg
        value, limit, mpe_text = live_texts(result, mpe_kg, instrument.max_kg, instrument.d_kg)
        rows.append(
            {
                "label": result.label,
                "range": "" if in_use is None else str(in_use),
                "quantity": result.quantity,
                "value": value,
                "limit_name": result.limit_name,
                "limit": limit,
                "mpe": mpe_text,
                "within": within if result.passed is None else result.passed,
                "message": result.message,
            }
        )
    return rows


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_screen(request: Request, run_id: RunId, notice: str | None = None) -> HTMLResponse:
    who = viewer(request)
    row, instrument, run = _load(request, who, run_id)
    problem = take_flash(request) if notice else None
    return clear_flash(_screen(request, who, row, instrument, run, notice=notice, problem=problem))


def purpose_text(lang: str, purpose: str) -> str:
    """What a reading was for, in ``lang`` (``"eccentricity back-left"`` -> ``"偏载 左后"``)."""
    test, _, rest = purpose.partition(" ")
    if test == "eccentricity" and rest:
        where = translate_message(lang, position_message(rest))
        return gettext(lang, "Eccentricity") + " " + where
    if test == "repeatability" and rest:
        return gettext(lang, "Repeatability") + " " + rest
    if test == "substitution" and rest.startswith("check "):
        return gettext(lang, "Substitution check") + " " + rest.removeprefix("check ")
    if test == "substitution" and ": " in rest:
        number, _, what = rest.partition(": ")
        label = {"standard weights": gettext(lang, "standard weights"), "substitute": gettext(lang, "substitute")}
        title = gettext(lang, "Substitution")
        return f"{title} {number}: {label.get(what, what)}"
    key = f"purpose.{purpose}"
    return translate(lang, key) if key in TERMS else purpose


def _readings(run: Session, row: GuidedRun, instrument: Instrument, lang: str) -> list[dict[str, Any]]:
    """The readings recorded so far, for the list with its correction forms."""
    corrected = {int(item.get("index", -1)) for item in run.state.corrections}
    rows = []
    for index, step, record in run.history:
        if not isinstance(step, ReadStable | FindChangeover) or record.answer is None:
            continue
        rows.append(
            {
                "index": index,
                "purpose": purpose_text(lang, step.purpose) if isinstance(step, ReadStable) else "dL",
                "load": format_mass(step.load_kg),
                "value": format_mass(Decimal(record.answer)),
                "source": record.source,
                "by": record.by,
                "flags": record.flags,
                "reason": record.reason,
                "corrected": index in corrected,
            }
        )
    return rows


def in_service_mpe(instrument: Instrument, load_kg: Decimal, range_in_use: int | None = None) -> Decimal | None:
    """The in-service MPE at a load (OIML R 76-1:2006 3.5.2), or None (no class, load outside the table); on a
    multiple-range instrument that of the range the reading was made in (``range_in_use``, 1 = first) where the
    step names it."""
    try:
        spec = instrument_specification(instrument)
        index = None
        if range_in_use is not None and spec.kind is InstrumentKind.MULTIPLE_RANGE:
            index = range_in_use - 1
        return mpe(load_kg, spec, stage="in-service", range_index=index)
    except InputError:
        return None


def reading_findings(instrument: Instrument, run: Session, step: ReadStable, value_kg: Decimal) -> tuple[Finding, ...]:
    """The plausibility findings of a reading: against its load, the in-service MPE and the readings taken
    before at the same load in the same test (:func:`hengqi.procedures.plausibility.check_reading`)."""
    test = step.purpose.split(" #")[0]
    same = [
        Decimal(record.answer)
        for _, earlier, record in run.history
        if isinstance(earlier, ReadStable)
        and record.answer is not None
        and earlier.load_kg == step.load_kg
        and earlier.purpose != step.purpose
        and earlier.purpose.split(" #")[0] == test
    ]
    return check_reading(
        step.load_kg, value_kg, mpe_kg=in_service_mpe(instrument, step.load_kg, step.range_in_use), same_load=same
    )


def _screen(
    request: Request,
    who: Viewer,
    row: GuidedRun,
    instrument: Instrument,
    run: Session,
    *,
    notice: str | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    from hengqi.server.web.common import language

    lang = language(request)
    pending = run.pending
    with app_state(request).database.read_session() as session:
        connection = guided_runs.connection_of(session, instrument.id)
    done = len(run.state.results)
    total = max(row.total_steps, done + (1 if pending else 0))
    me = who.principal.user_id
    performer = row.performer
    open_for_corrections = row.status == "running" or row.review_status == "returned"
    held = HeldReading.loads(row.held_reading)
    if held is not None and (pending is None or held.step_id != pending.step_id):
        held = None
    return render(
        request,
        "run.html",
        who,
        status_code=status_code,
        row=row,
        instrument=instrument,
        run=run,
        step=None if pending is None else _step_view(pending, lang),
        shutdown=pending is not None and pending.shutdown,
        done=done,
        total=total,
        percent=int(100 * done / total) if total else 100,
        live=_live_rows(run, instrument),
        connected=connection is not None and row.mode == "instrument",
        hands=connection is not None and bool(connection.control_url) and row.mode == "instrument",
        has_connection=connection is not None,
        notice=notice,
        problem=problem,
        names=user_names(request, {row.started_by_id, performer}),
        performer=performer,
        is_performer=performer == me and row.status != "abandoned",
        can_take_over=(
            who.can("run.record")
            and performer != me
            and open_for_corrections
            and row.organisation_id == who.principal.organisation_id
        ),
        can_abandon=who.can("run.abandon") and row.status == "running",
        can_correct=performer == me and open_for_corrections,
        held=held,
        held_value="" if held is None else format_mass(held.value_kg),
        held_messages=() if held is None else held.messages(lang),
        unit=display_unit(instrument.d_kg),
        readings=_readings(run, row, instrument, lang),
        nav="runs",
    )


@router.get("/runs/{run_id}/reading")
async def run_reading(request: Request, run_id: RunId) -> Response:
    """The live indication of the run's instrument (JSON)."""
    from hengqi.server.web.pages import instrument_reading

    who = await run_in_threadpool(viewer, request)

    def instrument_id() -> int:
        with app_state(request).database.read_session() as session:
            return guided_runs.get_run(session, who.principal, run_id).instrument_id

    return await instrument_reading(request, await run_in_threadpool(instrument_id))


@dataclass(frozen=True, slots=True)
class _Checked:
    """A stored connection that passed the policy just now."""

    url: str
    control_url: str


def _perform(
    request: Request, row: GuidedRun, instrument: Instrument, pending: PendingStep, *, action: str, value: str
) -> tuple[Any, str]:
    """The answer to the pending step and its source; instrument I/O happens here (in the route's worker thread)."""
    step = pending.step
    state = app_state(request)
    if action in ("enter", "decide") or row.mode != "instrument":
        connection: _Checked | None = None
    else:
        with state.database.read_session() as session:
            url = guided_runs.usable_url(session, instrument)  # InputError where the policy no longer allows it
            hands_url = guided_runs.usable_control_url(session, instrument) if url is not None else None
        connection = None if url is None else _Checked(url, hands_url or "")
    use_instrument = row.mode == "instrument" and connection is not None
    hands = connection.control_url if connection is not None and connection.control_url else None
    if action == "enter":
        typed = normalise_entry(value, display_unit(instrument.d_kg))
        if isinstance(step, ReadStable):
            return plausible_indication(instrument, step, typed), "operator"
        return typed, "operator"
    if action == "decide":
        return value, "operator"
    if action == "auto" and isinstance(step, FindChangeover) and use_instrument and connection is not None and hands:
        return _auto_changeover(request, row, step, connection.url, hands), "instrument"
    if isinstance(step, ReadStable) and use_instrument and connection is not None:
        if hands:
            links(request).ensure_placed(hands, Decimal(row.receptor_kg), row.receptor_position)
        return links(request).read_stable_kg(connection.url), "instrument"
    if isinstance(step, ZeroScale) and use_instrument and connection is not None:
        if hands:
            links(request).ensure_placed(hands, Decimal(row.receptor_kg), row.receptor_position)
        links(request).zero(connection.url)
        return None, "instrument"
    if isinstance(step, PlaceLoad | AddLoad | RemoveLoad | Substitute) and hands and row.mode == "instrument":
        load, position = _receptor_after(row, step)
        links(request).ensure_placed(hands, load, position)
    return None, "operator"


def plausible_indication(instrument: Instrument, step: ReadStable, value: str) -> Decimal:
    """A typed-in indication, refused where the instrument could not show it.

    Nothing is indicated above Max + 9 e (OIML R 76-1:2006 via Directive 2014/31/EU Annex I, 9, as recorded in
    :attr:`~hengqi.metrology.classes.InstrumentSpecification.max_indication_kg`); below -Max is refused as a typing
    error (a plausibility bound of this interface, not a rule of a standard).
    """
    checked = as_mass(check_answer(step, value, path="value"))
    state_spec = instrument_specification(instrument)
    if checked > state_spec.max_indication_kg or checked < -state_spec.max_kg:
        raise InputError(
            "value",
            f"{format_mass(checked)} is not an indication this instrument can show "
            f"(from -{format_mass(state_spec.max_kg)} to Max + 9 e = {format_mass(state_spec.max_indication_kg)})",
        )
    return checked


def _auto_changeover(request: Request, row: GuidedRun, step: FindChangeover, url: str, hands: str) -> Decimal:
    """The change point found with a simulator's hands: small weights added one by one until the indication steps
    up (OIML R 76-1:2006 A.4.4.3 changeover-point method, as :class:`FindChangeover` describes it); then, for
    the discrimination test, one of them taken off again."""
    link = links(request)
    base, position = Decimal(row.receptor_kg), row.receptor_position
    link.ensure_placed(hands, base, position)
    start = link.read_stable_kg(url)
    added = Decimal(0)
    while added < step.interval_kg:
        added += step.step_kg
        link.ensure_placed(hands, base + added, position)
        if link.read_stable_kg(url) > start:
            break
    if step.remove_one:
        link.ensure_placed(hands, base + added - step.step_kg, position)
    return added


def _receptor_after(
    row: GuidedRun, step: PlaceLoad | AddLoad | RemoveLoad | Substitute | FindChangeover, answer: Decimal | None = None
) -> tuple[Decimal, str]:
    """The load on the receptor after ``step``; a substitution leaves the substitute's nominal load only (the
    standard weights and the change-point weights are taken off, :class:`Substitute`)."""
    if isinstance(step, FindChangeover):
        added = answer if answer is not None else Decimal(0)
        return Decimal(row.receptor_kg) + added - (step.step_kg if step.remove_one else 0), row.receptor_position
    if isinstance(step, PlaceLoad):
        return step.load_kg, step.position
    if isinstance(step, Substitute):
        return step.load_kg, row.receptor_position
    if isinstance(step, AddLoad):
        return Decimal(row.receptor_kg) + step.extra_kg, row.receptor_position
    return Decimal(0), "centre"


@router.post("/runs/{run_id}/step", response_model=None)
def submit_step(
    request: Request,
    run_id: RunId,
    *,
    csrf_token: Text = "",
    step_id: Annotated[str, Form(max_length=64)] = "",
    action: Text = "confirm",
    value: Text = "",
    temperature: Text = "",
    pressure: Text = "",
    humidity: Text = "",
    reason: Reason = "",
) -> Response:
    """Answer the pending step.  ``action``: ``read``/``zero``/``auto`` on the instrument, ``enter`` a typed value,
    ``decide``, ``confirm`` a placement or instruction, ``accept`` a held reading with a ``reason``, or
    ``remeasure`` (drop the held reading and read again)."""
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    if action == "conditions":  # the conditions form: three fields, one answer (all empty: not measured)
        fields = (temperature.strip(), pressure.strip(), humidity.strip())
        value, action = ("; ".join(fields) if any(fields) else ""), "enter"
    state = app_state(request)
    with guided_runs.run_lock(run_id):
        row, instrument, run = _load(request, who, run_id)
        try:  # before anything is done on the instrument or stored
            guided_runs.require_performer(who.principal, row)
        except (PermissionDeniedError, ConflictError) as err:
            return flash_redirect(_run_url(run_id, "denied"), str(err))
        pending = run.pending
        if pending is None:
            return redirect(_run_url(run_id, "finished"))
        if step_id != pending.step_id:
            notice = "already" if run.recorded(step_id) is not None else "stale"
            return redirect(_run_url(run_id, notice))
        held = HeldReading.loads(row.held_reading)
        if action == "remeasure":
            guided_runs.hold_reading(state.database, run_id, None)
            return redirect(_run_url(run_id))
        flags: tuple[str, ...] = ()
        why = ""
        if action == "accept":
            if held is None or held.step_id != pending.step_id:
                return redirect(_run_url(run_id, "stale"))
            try:
                why = guided_runs.check_reason(reason)
            except InputError as err:
                return flash_redirect(_run_url(run_id, "confirm"), error_text(language(request), err))
            answer: Any = held.value_kg
            source, flags = held.source, held.codes
        else:
            try:
                if row.mode == "instrument" and action not in ("enter", "decide"):  # instrument I/O: bounded pool
                    answer, source = workers(request).call(
                        who.principal.user_id,
                        _perform,
                        request,
                        row,
                        instrument,
                        pending,
                        rated=False,
                        action=action,
                        value=value,
                    )
                else:
                    answer, source = _perform(request, row, instrument, pending, action=action, value=value)
            except TooManyRequestsError as err:
                return flash_redirect(_run_url(run_id, "instrument"), err.message)
            except InstrumentUnavailableError as err:
                guided_runs.set_fields(state.database, run_id, problem=str(err))
                return flash_redirect(_run_url(run_id, "instrument"), str(err))
            except InputError as err:
                return flash_redirect(_run_url(run_id, "invalid"), error_text(language(request), err))
            if isinstance(pending.step, ReadStable) and isinstance(answer, Decimal):
                findings = reading_findings(instrument, run, pending.step, answer)
                if needs_confirmation(findings):
                    guided_runs.hold_reading(
                        state.database,
                        run_id,
                        HeldReading.of(pending.step_id, answer, source, findings),
                    )
                    return redirect(_run_url(run_id, "confirm"))
                flags = tuple(f.code for f in findings)
        try:
            run = guided_runs.runs_api(state.database, who.principal.actor).submit(
                run_id, step_id, answer, source=source, by=who.principal.username, flags=flags, reason=why
            )
        except InputError as err:
            return flash_redirect(_run_url(run_id, "invalid"), error_text(language(request), err))
        except (StaleStepError, ConcurrentUpdateError):
            return redirect(_run_url(run_id, "stale"))
        except RunFinishedError:
            return redirect(_run_url(run_id, "finished"))
        if held is not None:
            guided_runs.hold_reading(state.database, run_id, None)
        step = pending.step
        if isinstance(step, PlaceLoad | AddLoad | RemoveLoad | Substitute | FindChangeover):
            recorded = run.recorded(step_id)
            answer_kg = None if recorded is None or recorded.answer is None else Decimal(recorded.answer)
            load, position = _receptor_after(row, step, answer_kg)
            guided_runs.set_fields(
                state.database, run_id, receptor_kg=str(load), receptor_position=position, problem=""
            )
        if run.status != "running":
            guided_certificates.finalise(state.database, state.files, who.principal, run_id, run)
            return redirect(f"{PREFIX}/runs/{run_id}/results")
    return redirect(_run_url(run_id))


@router.post("/runs/{run_id}/mode", response_model=None)
def switch_mode(request: Request, run_id: RunId, csrf_token: Text = "", mode: Text = "manual") -> Response:
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    try:
        guided_runs.switch_mode(app_state(request).database, who.principal, run_id, mode)
    except InputError:
        return redirect(_run_url(run_id, "invalid"))
    except (PermissionDeniedError, ConflictError) as err:
        return flash_redirect(_run_url(run_id, "denied"), str(err))
    return redirect(_run_url(run_id))


@router.post("/runs/{run_id}/cancel", response_model=None)
def cancel_run(request: Request, run_id: RunId, csrf_token: Text = "") -> Response:
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    state = app_state(request)
    with guided_runs.run_lock(run_id):
        try:
            guided_runs.cancel(state.database, who.principal, run_id)
        except RunFinishedError:
            return redirect(_run_url(run_id, "finished"))
        except ConcurrentUpdateError:
            return redirect(_run_url(run_id, "stale"))
        except (PermissionDeniedError, ConflictError) as err:
            return flash_redirect(_run_url(run_id, "denied"), str(err))
    return redirect(_run_url(run_id))


@router.get("/runs/{run_id}/results", response_class=HTMLResponse)
def results(request: Request, run_id: RunId, notice: str | None = None) -> HTMLResponse:
    who = viewer(request)
    problem = take_flash(request) if notice else None
    state = app_state(request)
    with state.database.read_session() as session:
        row = guided_runs.get_run(session, who.principal, run_id)
        instrument = get_scoped(session, who.principal, Instrument, row.instrument_id)
        run_record = session.get(Run, row.run_record_id) if row.run_record_id else None
        certificate = session.get(Certificate, row.certificate_id) if row.certificate_id else None
        if run_record is None:
            # a finished run not yet recorded (e.g. the server stopped right after its last step): record it now
            run = guided_runs.open_session(state.database, run_id)
            if (
                run.status != "running"
                and row.finished_at is None
                and row.status != "abandoned"
                and row.performer == who.principal.user_id
            ):
                session.close()
                guided_certificates.finalise(state.database, state.files, who.principal, run_id, run)
                return results(request, run_id, notice)
    context: dict[str, Any] = {
        "row": row,
        "instrument": instrument,
        "run_record": run_record,
        "certificate": certificate,
    }
    if run_record is not None and run_record.kind == "verification":
        context.update(_verification_view(request, instrument, run_record))
    if run_record is not None and run_record.results.get("points"):
        res = run_record.results
        points = certified_points(curve_points(res), res)
        limit_of = mpe_function(instrument)
        context["curve"] = Markup(
            charts.error_curve_svg(
                points,
                limit_of,
                max_kg=instrument.max_kg,
                d_kg=instrument.d_kg,
                ranges=envelope_ranges(instrument, point_ranges(res)),
                labels=(
                    gettext(language(request), "error E"),
                    gettext(language(request), "± U (k≈2)"),
                    gettext(language(request), "± MPE (initial verification)"),
                ),
            )
        )
        context["table"] = error_table(res, instrument.max_kg, instrument.d_kg, limit_of, record_intervals(run_record))
        ecc = res.get("eccentricity")
        if ecc:
            deviations = [Decimal(x) for x in ecc["deviations_kg"]]
            context["ecc"] = Markup(
                charts.eccentricity_svg(
                    ecc["positions"],
                    deviations,
                    d_kg=instrument.d_kg,
                    title=translate(language(request), "test.eccentricity"),
                    front=pgettext(language(request), "load receptor side", "front"),
                )
            )
            table = context["table"]
            context["ecc_max"] = shown(Decimal(ecc["max_deviation_kg"]), table.error_unit)
            context["ecc_load"] = shown(Decimal(ecc["load_kg"]), table.unit)
        reps = []
        for series in res.get("repeatability", []):
            readings = [Decimal(x) for x in series["readings_kg"]]
            reps.append(
                {
                    "load": shown(Decimal(series["load_kg"]), context["table"].unit),
                    "s": shown(reported_uncertainty(float(series["s_kg"])), context["table"].error_unit),
                    "svg": Markup(
                        charts.repeatability_svg(
                            readings, d_kg=instrument.d_kg, title=translate(language(request), "test.repeatability")
                        )
                    ),
                }
            )
        context["reps"] = reps
        context["summary"] = res.get("summary", [])
    names = user_names(
        request,
        {row.started_by_id}
        | ({certificate.approved_by_id} if certificate is not None and certificate.approved_by_id else set()),
    )
    context["warnings"] = review_warnings(state.database, row, instrument, run_record)
    names |= user_names(request, {row.performer})
    page = render(request, "results.html", who, notice=notice, problem=problem, names=names, nav="runs", **context)
    return clear_flash(page)


def record_intervals(run_record: Run) -> list[Decimal | None]:
    """The d of each point as the certificate states it (:func:`~hengqi.server.web.results_view.point_intervals`
    of the run's record evaluated as for the certificate); empty where the points name no range or the record
    cannot be evaluated (the table then shows no d, never a guessed one)."""
    ranges = point_ranges(run_record.results)
    if not any(r is not None for r in ranges):
        return []
    record = (run_record.raw_data or {}).get("record")
    if not isinstance(record, dict):
        return []
    try:
        result = guided_certificates.calibration_result(record)
    except HengqiError:
        return []
    # the kept results are those of this evaluation, point by point; anything else shows no d
    return point_intervals(result) if [p.range_in_use for p in result.points] == ranges else []


def review_warnings(database: Any, row: GuidedRun, instrument: Instrument, run_record: Run | None) -> list[Any]:
    """Every warning the reviewer must see (:mod:`hengqi.server.services.review`)."""
    if run_record is None:
        return []
    run = guided_runs.open_session(database, row.run_id)
    readings = [
        review.RecordedReading(
            index, step.purpose if isinstance(step, ReadStable) else step.kind, rec.answer, rec.flags, rec.reason
        )
        for index, step, rec in run.history
        if rec.flags
    ]
    found = review.reading_warnings(readings, run.state.corrections)
    record = run_record.raw_data.get("record", {})
    found += review.record_warnings(record if isinstance(record, dict) else {}, run_record.flags or [])
    if run_record.kind == "calibration":
        found = (
            review.point_warnings(
                curve_points(run_record.results), mpe_function(instrument), point_ranges(run_record.results)
            )
            + found
        )
    return found


@router.get("/runs/{run_id}/verification-record", response_model=None)
def verification_record(request: Request, run_id: RunId) -> Response:
    """The evaluated verification record of a finished verification (JSON, as ``hengqi verify --json``)."""
    import json

    who = viewer(request)
    state = app_state(request)
    with state.database.read_session() as session:
        row = guided_runs.get_run(session, who.principal, run_id)
        if row.run_record_id is None:
            from hengqi.server.errors import NotFoundError

            raise NotFoundError("verification-record", run_id)
        document = verification_records.verification_record(session, who.principal, row.run_record_id)
    name = f"verification-record-{row.run_record_id}.json"
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        media_type=verification_records.RECORD_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _verification_view(request: Request, instrument: Instrument, run_record: Run) -> dict[str, Any]:
    """The verdict, the checks and the weighing test's errors against the MPE of the record's stage and rules."""
    res = run_record.results
    record = run_record.raw_data.get("record", {})
    stage, rules = str(record.get("stage", "initial")), str(record.get("rules", "oiml-r76"))
    checks = [c for c in res.get("checks", []) if isinstance(c, dict)]
    points = [
        (Decimal(c["load_kg"]), Decimal(c["value_kg"]), 0.0)
        for c in checks
        if c.get("test") == "weighing" and c.get("quantity") in ("E", "Ec")
    ]
    view: dict[str, Any] = {
        "verdict": res.get("passed"),
        "checks": check_groups(checks, instrument.max_kg, instrument.d_kg),
        "summary": res.get("summary", []),
    }
    if points:
        view["weighing_curve"] = Markup(  # built by charts with every text escaped
            charts.error_curve_svg(
                points,
                mpe_function(instrument, stage=stage, rules=rules),
                max_kg=instrument.max_kg,
                d_kg=instrument.d_kg,
                labels=(
                    gettext(language(request), "error E"),
                    "",
                    gettext(language(request), "± MPE") + f" ({stage}, {rules})",
                ),
            )
        )
    return view


@router.post("/certificates/{certificate_id}/approve", response_model=None)
def approve(request: Request, certificate_id: Id, csrf_token: Text = "", confirm: Text = "") -> Response:
    """Approve, sign and issue (four-eyes rule enforced by the certificate service), once confirmed on the page
    that shows what is signed."""
    who = viewer(request)
    check_csrf(request, who, csrf_token)
    state = app_state(request)
    with state.database.read_session() as session:
        guided = session.scalar(select(GuidedRun).where(GuidedRun.certificate_id == certificate_id))
        get_scoped(session, who.principal, Certificate, certificate_id)
    back = f"{PREFIX}/runs/{guided.run_id}/results" if guided is not None else f"{PREFIX}/certificates"
    if confirm != "yes":  # the confirmation page shows what is signed first
        return redirect(f"{PREFIX}/certificates/{certificate_id}/approve")
    try:
        guided_certificates.approve_and_issue(
            state.database,
            state.files,
            who.principal,
            certificate_id,
            state.settings.data_dir,
            verify_base=public_base(request),
        )
    except PermissionDeniedError as err:
        return flash_redirect(f"{back}?notice=denied", str(err))
    except ConflictError as err:
        return flash_redirect(f"{back}?notice=invalid", str(err))
    return redirect(f"{back}?notice=approved")
