"""Replaying a run: a plan's generator re-created from its parameters and fed the recorded answers.

A :class:`Session` holds one live generator positioned at the step the run waits at.  It is built from a
:class:`~hengqi.procedures.state.RunState` by replaying every recorded answer (plans are deterministic: the
same parameters and answers yield the same steps), checking on the way that each recorded step id still names
the step the plan yields.  Step ids are ``INDEX:DIGEST``: the number of the operator step in the run and a
digest of the step itself, so an id from another run, another plan version or a past step is recognised.

After the plan's steps come its *shutdown* steps (pymeasure's startup/execute/shutdown: shutdown always runs,
after a normal end and after a cancellation), e.g. "remove all loads".  A shutdown step identical to the step
answered just before it is not asked again (no two "Remove all loads" in a row); a run recorded before that rule,
which holds the repeated step, still replays.

A recorded reading can be corrected with a reason (:meth:`Session.correct`): the original record is kept in the
state, and the run is replayed with the new value (refused where the plan would then have asked other steps).

>>> from decimal import Decimal
>>> from hengqi.procedures.steps import Prompt, ReadStable
>>> def toy(parameters):
...     yield Prompt("Begin.")
...     value = yield ReadStable("indication", Decimal(1))
...     return PlanProduct("toy", {"value": str(value)}, True, ("read " + str(value),))
>>> definition = PlanDefinition("toy", toy)
>>> session = Session(RunState.new("r", "toy", {}), definition)
>>> session.pending.step_id  # doctest: +ELLIPSIS
'0:...'
>>> state = session.answer(session.pending.step_id, None, source="operator", by="", now="t")
>>> state = session.answer(session.pending.step_id, "1.002 kg", source="operator", by="", now="t")
>>> session.pending.step  # the shutdown step
RemoveLoad()
>>> state = session.answer(session.pending.step_id, None, source="operator", by="", now="t")
>>> session.status, session.product.record, state.version
('finished', {'value': '1.002'}, 3)
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

from hengqi.errors import HengqiError, InputError
from hengqi.procedures.errors import ReplayError, RunFinishedError, StaleStepError
from hengqi.procedures.instructions import step_as_json, step_digest
from hengqi.procedures.state import RunState, StepRecord
from hengqi.procedures.steps import (
    Answer,
    FindChangeover,
    LiveResult,
    OperatorStep,
    ReadStable,
    Record,
    RemoveLoad,
    Step,
    answer_as_json,
    answer_from_json,
    check_answer,
)


@dataclass(frozen=True, slots=True)
class PlanProduct:
    """What a plan returns when it ends: its record in file form, the verdict (None for a calibration) and a
    short summary for people.  ``error`` says why the record could not be evaluated, where it could not (the
    record is kept all the same: nothing measured is lost)."""

    kind: str
    record: Mapping[str, Any]
    passed: bool | None
    summary: tuple[str, ...] = ()
    error: str | None = None


#: A plan: yields steps, receives answers, returns its product.
PlanGenerator = Generator[Step, Answer, PlanProduct]


def _no_check(parameters: Mapping[str, Any]) -> Mapping[str, Any]:
    return parameters


@dataclass(frozen=True, slots=True)
class PlanDefinition:
    """A kind of plan: how to build its generator from JSON parameters, its shutdown steps, and a parameter
    check run when a run starts (returns the normalised parameters stored in the run)."""

    kind: str
    build: Callable[[Mapping[str, Any]], PlanGenerator]
    shutdown: tuple[OperatorStep, ...] = (RemoveLoad(),)
    normalise: Callable[[Mapping[str, Any]], Mapping[str, Any]] = field(default=_no_check)


@dataclass(frozen=True, slots=True)
class PendingStep:
    """The step a run waits at: its id, its number, the step, and whether it belongs to the shutdown."""

    step_id: str
    index: int
    step: OperatorStep
    shutdown: bool = False

    def as_json(self) -> dict[str, Any]:
        """Plain JSON form, for an API or a web page."""
        return {"step_id": self.step_id, "index": self.index, "shutdown": self.shutdown, **step_as_json(self.step)}


def make_step_id(index: int, step: OperatorStep) -> str:
    """``INDEX:DIGEST`` of an operator step."""
    return f"{index}:{step_digest(step)}"


class Session:
    """A run replayed to the step it waits at; answers advance it and return the next state to save."""

    def __init__(self, state: RunState, definition: PlanDefinition) -> None:
        if definition.kind != state.kind:
            raise ReplayError(state.run_id, f"plan kind {definition.kind!r} cannot replay a {state.kind!r} run")
        self.definition = definition
        self.state = state
        self.live: list[tuple[str, LiveResult]] = []
        self.product: PlanProduct | None = None
        self._shutdown_done = 0
        self._in_shutdown = False
        self._last_step: OperatorStep | None = None
        self._skipped: OperatorStep | None = None
        #: ``(index, step, record)`` of every answered step, in order.
        self.history: list[tuple[int, OperatorStep, StepRecord]] = []
        self._cancelled = False
        self._generator: PlanGenerator | None = None
        self._current: OperatorStep | None = None
        try:
            self._generator = definition.build(state.parameters)
            self._current = self._advance(None, first=True)
            for number, record in enumerate(state.results):
                if state.cancelled_at == number:
                    self._enter_cancel()
                self._replay(number, record)
            if state.cancelled_at == len(state.results):
                self._enter_cancel()
        except ReplayError:
            raise
        except HengqiError as err:
            raise ReplayError(state.run_id, f"the plan cannot be replayed: {err}") from err

    # -- the generator -----------------------------------------------------------------------------------
    def _advance(self, answer: Answer, *, first: bool = False) -> OperatorStep | None:
        generator = self._generator
        if generator is None:
            return None
        value = answer
        try:
            step = next(generator) if first else generator.send(value)
            while isinstance(step, Record):
                self.live.append((step.key, step.value))
                step = generator.send(None)
        except StopIteration as stop:
            self.product = stop.value
            self._generator = None
            self._in_shutdown = True
            self._skip_repeated_shutdown()
            return None
        return step

    def _skip_repeated_shutdown(self) -> None:
        """Leave out a first shutdown step identical to the step answered just before it."""
        steps = self.definition.shutdown
        if steps and self._shutdown_done == 0 and self._last_step is not None and steps[0] == self._last_step:
            self._shutdown_done = 1
            self._skipped = steps[0]

    def _enter_cancel(self) -> None:
        if self._generator is not None:
            self._generator.close()
            self._generator = None
        self._cancelled = True
        self._in_shutdown = True
        self._skip_repeated_shutdown()

    @property
    def _shutdown_step(self) -> OperatorStep | None:
        steps = self.definition.shutdown
        return steps[self._shutdown_done] if self._shutdown_done < len(steps) else None

    @property
    def current_step(self) -> OperatorStep | None:
        """The operator step the run waits at (``None`` when it has ended)."""
        return self._shutdown_step if self._in_shutdown else self._current

    @property
    def pending(self) -> PendingStep | None:
        """The step the run waits at, with its id (``None`` when the run has ended)."""
        step = self.current_step
        if step is None:
            return None
        index = len(self.state.results)
        return PendingStep(make_step_id(index, step), index, step, shutdown=self._in_shutdown)

    @property
    def status(self) -> str:
        """``running``, ``finished`` (plan and shutdown done) or ``cancelled`` (shutdown done after a cancel)."""
        if self.current_step is not None:
            return "running"
        return "cancelled" if self._cancelled else "finished"

    @property
    def live_results(self) -> tuple[LiveResult, ...]:
        """The intermediate results so far, in order."""
        return tuple(value for _, value in self.live)

    def as_json(self) -> dict[str, Any]:
        """The run as a web page or an API shows it: status, the step it waits at, live results, product."""
        product = self.product
        return {
            "run_id": self.state.run_id,
            "kind": self.state.kind,
            "status": self.status,
            "version": self.state.version,
            "steps_done": len(self.state.results),
            "pending": None if self.pending is None else self.pending.as_json(),
            "live": [{"key": key, **value.as_json()} for key, value in self.live],
            "product": None
            if product is None
            else {
                "kind": product.kind,
                "passed": product.passed,
                "summary": list(product.summary),
                "error": product.error,
                "record": dict(product.record),
            },
        }

    def _feed(self, step: OperatorStep, answer: Answer) -> None:
        self._last_step = step
        self._skipped = None
        if self._in_shutdown:
            self._shutdown_done += 1
        else:
            self._current = self._advance(answer)

    def _replay(self, number: int, record: StepRecord) -> None:
        skipped = self._skipped
        if skipped is not None and record.step_id == make_step_id(number, skipped):
            self._skipped = None  # recorded before repeated shutdown steps were left out: kept as it was
            self.history.append((number, skipped, record))
            if self._in_shutdown and self.definition.shutdown[:1] == (skipped,):
                return
        step = self.current_step
        if step is None:
            raise ReplayError(self.state.run_id, f"results[{number}]: recorded after the run had ended")
        expected = make_step_id(number, step)
        if record.step_id != expected:
            raise ReplayError(
                self.state.run_id,
                f"results[{number}]: recorded step {record.step_id!r} but the plan yields {expected!r} "
                f"({step.kind}); the plan or its parameters changed",
            )
        answer = answer_from_json(step, record.answer, path=f"results[{number}].answer")
        self.history.append((number, step, record))
        self._feed(step, answer)

    # -- submissions ---------------------------------------------------------------------------------------
    def recorded(self, step_id: str) -> StepRecord | None:
        """The recorded answer to ``step_id``, if that step is done."""
        for record in self.state.results:
            if record.step_id == step_id:
                return record
        return None

    def check_submission(self, step_id: str, answer: object) -> tuple[OperatorStep, Answer] | StepRecord:
        """Check a submission: the step and normalised answer to record, or the record already made.

        A second submission of a recorded step with the same answer returns that record (nothing to do); any
        other step id, or a different answer to a recorded step, raises :class:`StaleStepError`.
        """
        pending = self.pending
        expected = pending.step_id if pending else None
        done = self.recorded(step_id)
        if done is not None:
            index = int(step_id.split(":", 1)[0])
            step = self._step_at(index)
            try:
                same = step is not None and answer_as_json(check_answer(step, answer)) == done.answer
            except InputError:
                same = False
            if same:
                return done
            raise StaleStepError(self.state.run_id, step_id, expected, "step already recorded with another answer")
        if pending is None:
            raise RunFinishedError(self.state.run_id, self.status)
        if step_id != pending.step_id:
            raise StaleStepError(self.state.run_id, step_id, expected, "not the step the run waits at")
        return pending.step, check_answer(pending.step, answer)

    def _step_at(self, index: int) -> OperatorStep | None:
        """The step recorded at ``index`` (re-derived by a fresh replay up to it)."""
        partial = RunState(
            self.state.run_id,
            self.state.kind,
            self.state.parameters,
            self.state.results[:index],
            self.state.cancelled_at
            if self.state.cancelled_at is not None and self.state.cancelled_at <= index
            else None,
        )
        return Session(partial, self.definition).current_step

    def answer(
        self,
        step_id: str,
        answer: object,
        *,
        source: str,
        by: str,
        now: str,
        flags: tuple[str, ...] = (),
        reason: str = "",
    ) -> RunState:
        """Record an answer to the pending step and advance; returns the new state (version + 1) to save.

        ``flags`` and ``reason``: the plausibility findings the answer is recorded with and why it was accepted.
        A repeated submission of a recorded step with the same answer returns the state unchanged.  If the plan
        refuses the answer (raises), nothing is recorded and this session must be discarded (rebuild it from the
        stored state).
        """
        checked = self.check_submission(step_id, answer)
        if isinstance(checked, StepRecord):
            return self.state
        step, value = checked
        record = StepRecord(step_id, step.kind, answer_as_json(value), source, by, now, tuple(flags), reason)
        self.history.append((len(self.state.results), step, record))
        self._feed(step, value)
        self.state = self.state.with_answer(record).with_status(self.status)
        return self.state

    def correct(
        self,
        index: int,
        answer: object,
        *,
        reason: str,
        source: str,
        by: str,
        now: str,
        flags: tuple[str, ...] = (),
    ) -> RunState:
        """Replace the recorded reading ``index`` (a read or change-point step) with ``answer``, giving a reason.

        The original record is kept (:attr:`RunState.corrections`); the run is replayed with the new value and the
        correction refused (:class:`InputError`) where the plan would then have asked for other steps.  Returns
        the new state to save; this session is then positioned on it.
        """
        if not reason.strip():
            raise InputError("reason", "a correction needs a reason")
        if not 0 <= index < len(self.state.results):
            raise InputError("index", f"expected a recorded step from 0 to {len(self.state.results) - 1}, got {index}")
        _, step, original = self.history[index]
        if not isinstance(step, ReadStable | FindChangeover):
            raise InputError("index", f"a {step.kind} step records no value; only readings can be corrected")
        value = check_answer(step, answer, path="value")
        record = StepRecord(
            original.step_id, step.kind, answer_as_json(value), source, by, now, tuple(flags), reason.strip()
        )
        state = self.state.with_correction(index, record, reason=reason.strip(), by=by, now=now)
        try:
            replayed = Session(state, self.definition)
        except ReplayError as err:
            raise InputError(
                "value", f"this correction would change the steps that followed it; repeat the run instead ({err})"
            ) from err
        state = state.with_status(replayed.status)
        self._adopt(replayed, state)
        return state

    def _adopt(self, other: Session, state: RunState) -> None:
        """Take over the replay of ``other`` (the same run with another state)."""
        self.state = state
        self.live = other.live
        self.product = other.product
        self.history = other.history
        self._shutdown_done = other._shutdown_done
        self._in_shutdown = other._in_shutdown
        self._cancelled = other._cancelled
        self._generator = other._generator
        self._current = other._current
        self._last_step = other._last_step
        self._skipped = other._skipped

    def cancel(self, *, now: str) -> RunState:
        """Ask the plan to stop: its shutdown steps follow; returns the new state to save."""
        if self.status != "running":
            raise RunFinishedError(self.state.run_id, self.status)
        if self._cancelled:
            return self.state
        self._enter_cancel()
        self.state = self.state.with_cancel(now=now).with_status(self.status)
        return self.state
