"""Operator channels: a scripted one (tests, demos, unattended runs) and one over text streams (a terminal).

Both implement :class:`hengqi.procedures.runner.OperatorChannel`.  Neither imports a UI toolkit: the terminal
channel reads and writes plain text streams, so the command line hands it ``stdin``/``stdout`` and tests hand
it :class:`io.StringIO`.

>>> import io
>>> from decimal import Decimal
>>> from hengqi.procedures.steps import ReadStable
>>> channel = StreamChannel(io.StringIO("oops\\n1005\\n"), io.StringIO(), unit="g")
>>> channel.manual_entry(ReadStable("indication", Decimal("1")))
Decimal('1.005')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import TextIO

from hengqi.errors import InputError
from hengqi.metrology.quantities import canonical_unit, format_mass, parse_mass
from hengqi.procedures.errors import CancelRequested, OperatorGoneError, ScriptExhaustedError
from hengqi.procedures.instructions import describe
from hengqi.procedures.steps import (
    AddLoad,
    Decide,
    FindChangeover,
    LiveResult,
    PlaceLoad,
    Prompt,
    ReadStable,
    RemoveLoad,
    Step,
    Substitute,
    ZeroScale,
    as_mass,
    check_answer,
)

#: Words that ask a terminal run to stop.
CANCEL_WORDS = frozenset({"cancel", "取消"})


class ScriptChannel:
    """An operator that follows a script: canned entries and decisions, optional hooks, a transcript.

    - ``entries``: values typed in, in order, for :class:`ReadStable` (when no instrument is connected) and
      :class:`FindChangeover` steps (masses as ``Decimal`` kg or text with a unit);
    - ``decisions``: options chosen at :class:`Decide` steps, in order (``default_decision`` once they run out);
    - ``on_place``: called with every place/add/remove step (e.g. to put the load on a simulator);
    - ``on_read`` / ``on_changeover``: answer those steps instead of ``entries`` (e.g. from a simulator);
    - ``cancel_after``: ask to stop after that many steps.

    ``transcript`` lists ``(kind, text)`` for every step met, ``shown`` every live result.
    """

    def __init__(
        self,
        entries: Iterable[Decimal | str] = (),
        *,
        decisions: Iterable[str] = (),
        default_decision: str | None = None,
        on_place: Callable[[PlaceLoad | AddLoad | RemoveLoad | Substitute], None] | None = None,
        on_read: Callable[[ReadStable], Decimal | str] | None = None,
        on_changeover: Callable[[FindChangeover], Decimal | str] | None = None,
        cancel_after: int | None = None,
    ) -> None:
        self._entries: Iterator[Decimal | str] = iter(entries)
        self._decisions: Iterator[str] = iter(decisions)
        self.default_decision = default_decision
        self.on_place = on_place
        self.on_read = on_read
        self.on_changeover = on_changeover
        self.cancel_after = cancel_after
        self.transcript: list[tuple[str, str]] = []
        self.shown: list[LiveResult] = []

    def _note(self, step: Step) -> None:
        self.transcript.append((step.kind, describe(step)[0]))

    def prompt(self, step: Prompt | ZeroScale) -> None:
        self._note(step)

    def decide(self, step: Decide) -> str:
        self._note(step)
        choice = next(self._decisions, self.default_decision)
        if choice is None:
            raise ScriptExhaustedError(f"the script has no decision left for {step.key!r}")
        return choice

    def confirm_placed(self, step: PlaceLoad | AddLoad | RemoveLoad | Substitute) -> None:
        self._note(step)
        if self.on_place is not None:
            self.on_place(step)

    def manual_entry(self, step: ReadStable | FindChangeover) -> Decimal | str:
        self._note(step)
        if isinstance(step, ReadStable) and self.on_read is not None:
            return self.on_read(step)
        if isinstance(step, FindChangeover) and self.on_changeover is not None:
            return self.on_changeover(step)
        try:
            return next(self._entries)
        except StopIteration:
            raise ScriptExhaustedError(f"the script has no entry left for a {step.kind} step") from None

    def cancelled(self) -> bool:
        return self.cancel_after is not None and len(self.transcript) >= self.cancel_after

    def show(self, result: LiveResult) -> None:
        self.shown.append(result)


class StreamChannel:
    """An operator at a terminal: instructions written to ``output``, answers read line by line from ``input``.

    Masses are typed with or without a unit (a bare number counts ``unit``).  A line that cannot be read is
    answered with the reason and asked again; ``cancel`` (or ``取消``) asks the run to stop; the end
    of the input raises :class:`OperatorGoneError` (the run stays resumable).  ``language`` is ``"en"``,
    ``"zh"`` or ``"both"``.
    """

    def __init__(self, input: TextIO, output: TextIO, *, unit: str = "kg", language: str = "both") -> None:
        self.input = input
        self.output = output
        self.unit = canonical_unit(unit)
        if language not in ("en", "zh", "both"):
            raise InputError("language", f"expected en, zh or both, got {language!r}")
        self.language = language
        self._cancel = False
        self.count = 0

    def _say(self, text: str) -> None:
        self.output.write(text + "\n")
        self.output.flush()

    def _text(self, step: Step) -> str:
        english, chinese = describe(step)
        if self.language == "en" or english == chinese:
            return english
        if self.language == "zh":
            return chinese
        return f"{english}\n    {chinese}"

    def _ask(self, question: str) -> str:
        self.output.write(question)
        self.output.flush()
        line = self.input.readline()
        if not line:
            self._say("")
            raise OperatorGoneError("end of input: the run is saved and can be resumed")
        answer = line.strip()
        if answer.lower() in CANCEL_WORDS:
            self._cancel = True
            raise CancelRequested
        return answer

    def _step(self, step: Step) -> None:
        self.count += 1
        self._say(f"[{self.count}] {self._text(step)}")

    def prompt(self, step: Prompt | ZeroScale) -> None:
        self._step(step)
        self._ask("    press Enter when done (or type cancel): ")

    def confirm_placed(self, step: PlaceLoad | AddLoad | RemoveLoad | Substitute) -> None:
        self._step(step)
        self._ask("    press Enter when done (or type cancel): ")

    def decide(self, step: Decide) -> str:
        self._step(step)
        while True:
            answer = self._ask(f"    choose {' / '.join(step.options)}: ")
            if answer in step.options:
                return answer
            self._say(f"    please type one of: {', '.join(step.options)}")

    def manual_entry(self, step: ReadStable | FindChangeover) -> Decimal:
        self._step(step)
        while True:
            answer = self._ask(f"    value (in {self.unit} unless a unit is typed): ")
            try:
                value = parse_mass(answer, path="value", default_unit=self.unit, allow_negative=True)
                checked = check_answer(step, value, path="value")
            except InputError as err:
                self._say(f"    {err.reason}; try again")
                continue
            return as_mass(checked)

    def cancelled(self) -> bool:
        return self._cancel

    def show(self, result: LiveResult) -> None:
        verdict = "" if result.passed is None else (" PASS" if result.passed else " FAIL")
        self._say(f"    -> {result.test} {result.label} at {format_mass(result.load_kg)}: {result.message}{verdict}")
