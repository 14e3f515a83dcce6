"""Driving plans without threads, instruments or UI (like bluesky's ``RunEngineSimulator``).

:func:`simulate` runs a plan's generator to its end, answering each step with a responder function, and
returns every message exchanged, the live results and the plan's product.  :class:`VirtualBalance` is a
deterministic balance for such runs: it follows the loads the plan asks for (:class:`LoadTracker`), indicates
``load + error(load, position)`` rounded to its scale interval, finds change points as an operator would with
small weights, and also serves as a :class:`~hengqi.procedures.runner.ScaleLike` instrument for the runner
(with faults that can be queued).

>>> from decimal import Decimal
>>> from hengqi.procedures.steps import PlaceLoad, ReadStable, FindChangeover
>>> balance = VirtualBalance(Decimal("0.005"), error=lambda load, position: Decimal("0.001"))
>>> balance.respond(PlaceLoad(Decimal("1")))
>>> balance.respond(ReadStable("indication", Decimal("1")))
Decimal('1.000')
>>> balance.respond(FindChangeover(Decimal("1"), Decimal("0.0005"), Decimal("0.005")))
Decimal('0.0015')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from hengqi.instruments.reading import Reading
from hengqi.procedures.session import PlanGenerator, PlanProduct
from hengqi.procedures.steps import (
    AddLoad,
    Answer,
    Decide,
    FindChangeover,
    LiveResult,
    OperatorStep,
    PlaceLoad,
    ReadConditions,
    ReadStable,
    Record,
    RemoveLoad,
    Step,
    Substitute,
)

#: The error of a balance as a function of load and position (kg).
ErrorFunction = Callable[[Decimal, str], Decimal]


def _no_error(load: Decimal, position: str) -> Decimal:
    return Decimal(0)


@dataclass(frozen=True, slots=True)
class Message:
    """One step a plan yielded and the answer it received."""

    step: Step
    answer: Answer


@dataclass(frozen=True, slots=True)
class Simulation:
    """Everything a simulated run produced."""

    messages: tuple[Message, ...]
    live: tuple[LiveResult, ...]
    product: PlanProduct

    def steps(self, kind: type[Step]) -> tuple[Step, ...]:
        """The steps of one type, in order."""
        return tuple(message.step for message in self.messages if isinstance(message.step, kind))


def simulate(plan: PlanGenerator, respond: Callable[[OperatorStep], Answer], *, limit: int = 100_000) -> Simulation:
    """Run ``plan`` to its end, answering each operator step with ``respond`` (records are answered ``None``)."""
    messages: list[Message] = []
    live: list[LiveResult] = []
    answer: Answer = None
    try:
        step = next(plan)
        while True:
            if len(messages) >= limit:
                plan.close()
                raise RuntimeError(f"the plan yielded more than {limit} steps")
            if isinstance(step, Record):
                live.append(step.value)
                answer = None
            else:
                answer = respond(step)
            messages.append(Message(step, answer))
            step = plan.send(answer)
    except StopIteration as stop:
        return Simulation(tuple(messages), tuple(live), stop.value)


class LoadTracker:
    """The load on the receptor and where it lies, following place / add / remove steps."""

    def __init__(self) -> None:
        self.load_kg = Decimal(0)
        self.position = "centre"

    def apply(self, step: PlaceLoad | AddLoad | RemoveLoad | Substitute) -> None:
        """Follow one loading step."""
        if isinstance(step, PlaceLoad):
            self.load_kg, self.position = step.load_kg, step.position
        elif isinstance(step, AddLoad):
            self.load_kg += step.extra_kg
        elif isinstance(step, Substitute):  # the substitute takes the weights' place (change-point weights off)
            self.load_kg = step.load_kg
        else:
            self.load_kg, self.position = Decimal(0), "centre"

    def changeover(self, step: FindChangeover, indicate: Callable[[Decimal], Decimal]) -> Decimal:
        """Add ``step.step_kg`` at a time until ``indicate(load)`` steps up; returns dL (load updated).

        Stops at one whole interval at most (an indication that never moves is then for the test to judge).
        With ``remove_one`` one small weight is taken off again afterwards.
        """
        start = indicate(self.load_kg)
        added = Decimal(0)
        while added < step.interval_kg:
            added += step.step_kg
            if indicate(self.load_kg + added) > start:
                break
        self.load_kg += added
        if step.remove_one:
            self.load_kg -= step.step_kg
        return added


class VirtualBalance:
    """A deterministic balance: indication = ``load + error(load, position)`` rounded (half up) to ``d_kg``
    (a fixed interval, or a function of the indication, e.g. ``spec.d_at`` for a multi-interval instrument).

    ``respond`` answers plan steps directly (for :func:`simulate`); ``read`` and ``zero`` make it a
    :class:`~hengqi.procedures.runner.ScaleLike` for the runner; ``faults`` is a list of exceptions raised,
    in order, by the next calls to ``read``; ``decisions`` answers :class:`Decide` steps.
    """

    def __init__(
        self,
        d_kg: Decimal | Callable[[Decimal], Decimal],
        *,
        error: ErrorFunction = _no_error,
        decisions: tuple[str, ...] = (),
        unit: str = "kg",
        conditions: tuple[str | None, ...] = (),
    ) -> None:
        self.d_kg = d_kg
        self.error = error
        self.tracker = LoadTracker()
        self.zero_offset = Decimal(0)
        self.faults: list[Exception] = []
        self._decisions = list(decisions)
        self._conditions = list(conditions)
        self.unit = unit
        self.reads = 0

    def indicate(self, load_kg: Decimal | None = None) -> Decimal:
        """The indication for a load (default: the load on the receptor) at the current position."""
        load = self.tracker.load_kg if load_kg is None else load_kg
        raw = load + self.error(load, self.tracker.position) - self.zero_offset
        d = self.d_kg(max(abs(raw), Decimal(0))) if callable(self.d_kg) else self.d_kg
        steps = (raw / d).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return steps * d

    def read(self, stable: bool = True) -> Reading:
        """A stable reading (or the next queued fault)."""
        self.reads += 1
        if self.faults:
            raise self.faults.pop(0)
        value = self.indicate()
        return Reading(value=value, unit="kg", stable=True, value_kg=value)

    def zero(self) -> None:
        """Set the indication to zero at the current load."""
        load = self.tracker.load_kg
        self.zero_offset = load + self.error(load, self.tracker.position)

    def place(self, step: PlaceLoad | AddLoad | RemoveLoad | Substitute) -> None:
        """Follow a loading step (the operator's hands)."""
        self.tracker.apply(step)

    def changeover(self, step: FindChangeover) -> Decimal:
        """Find the change point as an operator would with small weights."""
        return self.tracker.changeover(step, self.indicate)

    def respond(self, step: OperatorStep) -> Answer:
        """Answer any operator step as a careful operator with this balance would."""
        if isinstance(step, PlaceLoad | AddLoad | RemoveLoad | Substitute):
            self.place(step)
            return None
        if isinstance(step, ReadStable):
            return self.indicate()
        if isinstance(step, FindChangeover):
            return self.changeover(step)
        if isinstance(step, Decide):
            return self._decisions.pop(0) if self._decisions else step.options[0]
        if isinstance(step, ReadConditions):
            return self._conditions.pop(0) if self._conditions else None
        if step.kind == "zero":
            self.zero()
        return None
