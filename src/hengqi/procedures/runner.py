"""Running plans: :class:`Runs` (start, submit, cancel against a store) and :class:`Runner` (the active loop).

:class:`Runs` is what a web server calls: every call loads the run from the :class:`RunStore`, replays it,
checks the submission and saves with a compare-and-set on the state's version, so

- a step submitted twice (a double click, a retried request) is recorded once, the second call returning the
  same run;
- a stale or foreign step id, or a second technician's *different* answer to a recorded step, is refused with
  :class:`~hengqi.procedures.errors.StaleStepError`; two submissions racing on one step cannot both be saved
  (:class:`~hengqi.procedures.errors.ConcurrentUpdateError` for the loser, who reloads and sees the step done).

:class:`Runner` drives a run to its end against a :class:`ScaleLike` instrument (or none: manual entry) and an
:class:`OperatorChannel` (terminal, web, or a script), persisting after every step.  An instrument error
(timeout, disconnection, no stable reading) surfaces as :class:`~hengqi.procedures.errors.ScaleStepError`
with nothing recorded: the run waits at the same step and :meth:`Runner.run` resumes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Protocol

from hengqi.errors import HengqiError, InputError
from hengqi.instruments.reading import Reading
from hengqi.procedures.errors import CancelRequested, RunFinishedError, ScaleStepError, StaleStepError
from hengqi.procedures.plans import PLANS
from hengqi.procedures.session import PendingStep, PlanDefinition, Session
from hengqi.procedures.state import RunState, RunStore, check_run_id, utc_now
from hengqi.procedures.steps import (
    AddLoad,
    Answer,
    Decide,
    FindChangeover,
    LiveResult,
    OperatorStep,
    PlaceLoad,
    Prompt,
    ReadConditions,
    ReadStable,
    RemoveLoad,
    Substitute,
    ZeroScale,
)


class ScaleLike(Protocol):
    """What a run needs of an instrument (a subset of :class:`hengqi.instruments.scale.Scale`)."""

    def read(self, stable: bool = True) -> Reading:
        """One reading; with ``stable`` a stable one (typed errors on timeout, instability, disconnection)."""
        ...

    def zero(self) -> None:
        """Set the indication to zero."""
        ...


class OperatorChannel(Protocol):
    """How a run talks to the person doing it (terminal, web page, or a test script)."""

    def prompt(self, step: Prompt | ZeroScale) -> None:
        """Show an instruction and wait until it is acknowledged (also: "set to zero" without an instrument)."""
        ...

    def decide(self, step: Decide) -> str:
        """Ask for one of ``step.options``."""
        ...

    def confirm_placed(self, step: PlaceLoad | AddLoad | RemoveLoad | Substitute) -> None:
        """Ask for a load to be placed, added or removed, and wait for the confirmation."""
        ...

    def manual_entry(self, step: ReadStable | FindChangeover) -> Decimal | str:
        """Ask for a value typed in: an indication (no instrument connected) or the change-point load dL."""
        ...

    def cancelled(self) -> bool:
        """Whether the operator asked to stop the run."""
        ...

    def show(self, result: LiveResult) -> None:
        """Show an intermediate result as it comes."""
        ...


def new_run_id() -> str:
    """A fresh random run id."""
    return uuid.uuid4().hex


class Runs:
    """Start, open, answer and cancel runs kept in a :class:`RunStore` (the service a server calls)."""

    def __init__(
        self,
        store: RunStore,
        plans: Mapping[str, PlanDefinition] | None = None,
        *,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        self.store = store
        self.plans = dict(PLANS if plans is None else plans)
        self.clock = clock

    def definition(self, kind: str) -> PlanDefinition:
        """The plan definition of ``kind``; :class:`InputError` if unknown."""
        try:
            return self.plans[kind]
        except KeyError:
            known = ", ".join(sorted(self.plans))
            raise InputError("kind", f"unknown plan {kind!r} (known: {known})") from None

    def start(self, kind: str, parameters: Mapping[str, Any], *, run_id: str | None = None) -> Session:
        """Check the parameters, store a new run and return it positioned at its first step."""
        definition = self.definition(kind)
        normalised = definition.normalise(parameters)
        state = RunState.new(check_run_id(run_id) if run_id else new_run_id(), kind, normalised, now=self.clock())
        session = Session(state, definition)  # builds the plan: bad parameters fail before anything is stored
        state = state.with_status(session.status)
        self.store.create(state)
        session.state = state
        return session

    def open(self, run_id: str) -> Session:
        """The stored run, replayed to the step it waits at."""
        state = self.store.load(run_id)
        return Session(state, self.definition(state.kind))

    def submit(
        self,
        run_id: str,
        step_id: str,
        answer: object,
        *,
        source: str = "operator",
        by: str = "",
        flags: tuple[str, ...] = (),
        reason: str = "",
    ) -> Session:
        """Record ``answer`` to step ``step_id`` (idempotent for a repeated identical submission), with the
        plausibility ``flags`` it was accepted with and the ``reason`` given for that."""
        session = self.open(run_id)
        before = session.state.version
        state = session.answer(step_id, answer, source=source, by=by, now=self.clock(), flags=flags, reason=reason)
        if state.version != before:
            self.store.save(state, expected_version=before)
        return session

    def correct(
        self,
        run_id: str,
        index: int,
        answer: object,
        *,
        reason: str,
        source: str = "operator",
        by: str = "",
        flags: tuple[str, ...] = (),
    ) -> Session:
        """Correct the recorded reading ``index`` with a reason (the original kept; see :meth:`Session.correct`)."""
        session = self.open(run_id)
        before = session.state.version
        state = session.correct(index, answer, reason=reason, source=source, by=by, now=self.clock(), flags=flags)
        self.store.save(state, expected_version=before)
        return session

    def cancel(self, run_id: str) -> Session:
        """Stop the plan; its shutdown steps follow (an ended run raises :class:`RunFinishedError`)."""
        session = self.open(run_id)
        before = session.state.version
        state = session.cancel(now=self.clock())
        if state.version != before:
            self.store.save(state, expected_version=before)
        return session


class Runner:
    """Drives runs to their end: performs each step on the instrument or through the operator channel.

    Without an instrument (``scale=None``) indications are typed in through :meth:`OperatorChannel.manual_entry`
    and "set to zero" is an instruction.  Shutdown steps always run (after the end of the plan, and after a
    cancellation).
    """

    def __init__(self, runs: Runs, channel: OperatorChannel, scale: ScaleLike | None = None, *, by: str = "") -> None:
        self.runs = runs
        self.channel = channel
        self.scale = scale
        self.by = by

    def perform(self, run_id: str, pending: PendingStep) -> tuple[Answer | Decimal | str, str]:
        """Carry out one step; returns the answer and its source (``"instrument"`` or ``"operator"``)."""
        step: OperatorStep = pending.step
        try:
            if isinstance(step, ReadStable) and self.scale is not None:
                return _read(self.scale), "instrument"
            if isinstance(step, ZeroScale) and self.scale is not None:
                self.scale.zero()
                return None, "instrument"
        except HengqiError as err:
            raise ScaleStepError(run_id, pending.step_id, err) from err
        except (OSError, TimeoutError) as err:  # a driver that let a foreign error through
            raise ScaleStepError(run_id, pending.step_id, err) from err
        if isinstance(step, ReadStable | FindChangeover):
            return self.channel.manual_entry(step), "operator"
        if isinstance(step, Decide):
            return self.channel.decide(step), "operator"
        if isinstance(step, PlaceLoad | AddLoad | RemoveLoad | Substitute):
            self.channel.confirm_placed(step)
            return None, "operator"
        if isinstance(step, ReadConditions):  # operator channels have no form for conditions: not measured
            return None, "operator"
        self.channel.prompt(step)
        return None, "operator"

    def advance(self, run_id: str, step_id: str) -> Session:
        """Perform the one step ``step_id`` the run waits at (e.g. a web page's "read the instrument" button).

        A step id that is not the pending one raises :class:`StaleStepError` without touching the instrument;
        an instrument error raises :class:`ScaleStepError` with nothing recorded.
        """
        session = self.runs.open(run_id)
        pending = session.pending
        if pending is None:
            raise RunFinishedError(run_id, session.status)
        if pending.step_id != step_id:
            if session.recorded(step_id) is not None:
                return session  # already done: a repeated request
            raise StaleStepError(run_id, step_id, pending.step_id, "not the step the run waits at")
        answer, source = self.perform(run_id, pending)
        return self.runs.submit(run_id, pending.step_id, answer, source=source, by=self.by)

    def start(self, kind: str, parameters: Mapping[str, Any], *, run_id: str | None = None) -> Session:
        """Start a run and drive it to its end (see :meth:`run`)."""
        session = self.runs.start(kind, parameters, run_id=run_id)
        return self.run(session.state.run_id)

    def run(self, run_id: str) -> Session:
        """Drive the run ``run_id`` from where it waits to its end; returns the ended session.

        Persisted after every step; re-raises instrument errors as :class:`ScaleStepError` (the run stays
        resumable at the same step) and whatever the channel raises (e.g. end of input).
        """
        session = self.runs.open(run_id)
        shown = 0
        for result in session.live_results:
            self.channel.show(result)
            shown += 1
        while (pending := session.pending) is not None:
            if not pending.shutdown and self.channel.cancelled():
                try:
                    session = self.runs.cancel(run_id)
                except RunFinishedError:
                    break
                continue
            try:
                answer, source = self.perform(run_id, pending)
            except CancelRequested:
                if not pending.shutdown:  # shutdown steps always run: asked again
                    session = self.runs.cancel(run_id)
                continue
            session = self.runs.submit(run_id, pending.step_id, answer, source=source, by=self.by)
            live = session.live_results
            for result in live[shown:]:
                self.channel.show(result)
            shown = len(live)
        return session


def _read(scale: ScaleLike) -> Decimal:
    """A stable reading in kg; a non-mass unit or an unstable answer is an error of the step."""
    reading = scale.read(stable=True)
    if reading.value_kg is None:
        raise InputError("reading", f"the instrument indicates in {reading.unit!r}, not in a unit of mass")
    if not reading.stable:
        raise InputError("reading", "the instrument returned an unstable reading for a stable read")
    return reading.value_kg
