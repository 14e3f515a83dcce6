"""The steps a guided procedure yields: frozen records a runner executes (bluesky-style messages).

A procedure is a generator: it yields a step, and the runner sends back the step's *answer*:

==================  ==========================================  =====================================
step                what happens                                answer sent back
==================  ==========================================  =====================================
:class:`Prompt`     the operator reads an instruction           ``None``
:class:`Decide`     the operator chooses one of ``options``     the option chosen (``str``)
:class:`PlaceLoad`  the receptor is loaded with ``load_kg``     ``None`` (confirmed)
:class:`AddLoad`    ``extra_kg`` is added to what lies there    ``None`` (confirmed)
:class:`RemoveLoad` every load is removed                       ``None`` (confirmed)
:class:`Substitute` the standard weights are replaced by        ``None`` (confirmed)
                    substitute material (same indication)
:class:`ZeroScale`  the instrument is set to zero               ``None``
:class:`ReadStable` a stable indication is read (or typed in)   the indication in kg (``Decimal``)
:class:`FindChangeover`  small weights added until the          ``dL``, the total added, kg
                    indication steps up (R 76-1 A.4.4.3)
:class:`ReadConditions`  temperature, pressure and humidity      ``"20.1 °C; 1013.2 hPa; 45 %"``, or
                    are read and typed in                       ``None``: not measured
==================  ==========================================  =====================================

:class:`Record` carries an intermediate result (an error against its MPE or U) for whoever shows the run live;
it needs no answer and is not an operator step.

What a step asks is a catalogue message, translated where it is shown, and its JSON form and digest (part of
the step id) are taken in :mod:`hengqi.procedures.instructions`.

>>> check_answer(ReadStable("indication", Decimal("5")), "5.005 kg")
Decimal('5.005')
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, TypeAlias

from hengqi.errors import N_, FieldError, InputError
from hengqi.locale import Message
from hengqi.metrology.quantities import format_mass, parse_mass

#: What a runner sends back into a procedure for a step.
Answer: TypeAlias = Decimal | str | None


@dataclass(frozen=True, slots=True)
class Prompt:
    """An instruction for the operator, acknowledged with ``None``: a catalogue message (English msgid and
    parameters, :func:`hengqi.locale.N_`), or plain text shown as it is in every language."""

    kind: ClassVar[str] = "prompt"
    text: str | Message


@dataclass(frozen=True, slots=True)
class Decide:
    """A choice for the operator among ``options`` (answered with the option chosen)."""

    kind: ClassVar[str] = "decide"
    key: str
    text: str | Message
    options: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PlaceLoad:
    """Load the receptor with ``load_kg`` in total (any small change-point weights removed) at ``position``.

    ``weights`` lists the nominal values to use where the plan knows them (as text, e.g. ``"2 kg"``).
    """

    kind: ClassVar[str] = "place"
    load_kg: Decimal
    position: str = "centre"
    weights: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AddLoad:
    """Add ``extra_kg`` to what lies on the receptor, leaving it in place (the discrimination test's 1.4 d)."""

    kind: ClassVar[str] = "add"
    extra_kg: Decimal
    position: str = "centre"


@dataclass(frozen=True, slots=True)
class RemoveLoad:
    """Remove every load from the receptor."""

    kind: ClassVar[str] = "remove"


@dataclass(frozen=True, slots=True)
class Substitute:
    """Replace the standard weights on the receptor by substitute material (ballast) until the indication is about
    what it was with them, leaving the substitute there (the nominal load ``load_kg`` on the receptor stays the
    same; small change-point weights come off too).

    A substitution step of a test load built up by substitution (see
    :func:`hengqi.metrology.calibration.reference.substitution_contributions`); ``weights`` names the standard
    weights to take off, ``step`` counts the substitution steps of the load (1, 2, ...).
    """

    kind: ClassVar[str] = "substitute"
    load_kg: Decimal
    weights: tuple[str, ...] = ()
    step: int = 1


@dataclass(frozen=True, slots=True)
class ZeroScale:
    """Set the instrument to zero (the zero key or the zero command)."""

    kind: ClassVar[str] = "zero"


@dataclass(frozen=True, slots=True)
class ReadStable:
    """Read a stable indication; ``purpose`` says which (``"indication"``, ``"no-load"``, ``"before"``...).

    ``load_kg`` is the load on the receptor (for the operator typing the value in, and for logs);
    ``range_in_use`` the range the instrument indicates in (1 = first) on an instrument with several ranges,
    ``None`` otherwise (then left out of the step's JSON form, so that steps of single-range runs stay as they were).
    """

    kind: ClassVar[str] = "read"
    purpose: str
    load_kg: Decimal
    range_in_use: int | None = None


@dataclass(frozen=True, slots=True)
class FindChangeover:
    """Add weights of ``step_kg`` one by one until the indication steps up by one interval ``interval_kg``.

    The answer is ``dL``, the total added (OIML R 76-1:2006, A.4.4.3 changeover-point method; SECONDARY, clause
    text not read).  With ``remove_one`` the operator then takes one small weight off again (the discrimination
    test, A.4.8: the indication then sits just below the change point).
    """

    kind: ClassVar[str] = "changeover"
    load_kg: Decimal
    step_kg: Decimal
    interval_kg: Decimal
    remove_one: bool = False


@dataclass(frozen=True, slots=True)
class ReadConditions:
    """Read the environmental conditions (air temperature, barometric pressure, relative humidity) at the
    ``moment`` (``"start"`` or ``"end"``) of a run and type them in; answered with :func:`conditions_text` or
    ``None`` where they are not measured."""

    kind: ClassVar[str] = "conditions"
    moment: str


#: Plausibility ranges of typed-in conditions (a value outside is taken as a typing error, e.g. a pressure in kPa).
TEMPERATURE_RANGE_C = (Decimal(-10), Decimal(50))
PRESSURE_RANGE_HPA = (Decimal(500), Decimal(1200))
HUMIDITY_RANGE_PERCENT = (Decimal(0), Decimal(100))


def conditions_text(temperature_c: Decimal, pressure_hpa: Decimal, humidity_percent: Decimal) -> str:
    """The canonical answer to a :class:`ReadConditions` step.

    >>> conditions_text(Decimal("20.1"), Decimal("1013.2"), Decimal("45"))
    '20.1 °C; 1013.2 hPa; 45 %'
    """
    return f"{temperature_c} °C; {pressure_hpa} hPa; {humidity_percent} %"


def parse_conditions(answer: object, *, path: str = "answer") -> tuple[Decimal, Decimal, Decimal] | None:
    """Temperature (°C), pressure (hPa) and relative humidity (%) from an answer, or ``None`` (not measured).

    Accepts the canonical text (units optional, ``;`` between the three values, a decimal comma allowed) or a
    mapping with ``temperature``, ``pressure`` and ``humidity``.

    >>> parse_conditions("20,5; 1002 hPa; 41")
    (Decimal('20.5'), Decimal('1002'), Decimal('41'))
    >>> parse_conditions("20.5; 10.02; 41")
    Traceback (most recent call last):
    ...
    hengqi.errors.InputError: pressure: 10.02 hPa is outside 500 ... 1200 hPa
    """
    if answer is None:
        return None
    if isinstance(answer, dict):
        parts = [answer.get("temperature"), answer.get("pressure"), answer.get("humidity")]
        if all(part in (None, "") for part in parts):
            return None
        texts = ["" if part is None else str(part) for part in parts]
    elif isinstance(answer, str):
        if not answer.strip() or answer.strip().lower() in ("ok", "none", "-"):
            return None
        texts = answer.split(";")
    else:
        raise InputError(path, f"expected temperature; pressure; humidity, got {type(answer).__name__}")
    if len(texts) != 3:
        raise InputError(path, "expected three values: temperature °C; pressure hPa; relative humidity %")
    names = ("temperature", "pressure", "humidity")
    units = ("°C", "hPa", "%")
    ranges = (TEMPERATURE_RANGE_C, PRESSURE_RANGE_HPA, HUMIDITY_RANGE_PERCENT)
    values: list[Decimal] = []
    for name, unit, (low, high), text in zip(names, units, ranges, texts, strict=True):
        cleaned = text.strip().removesuffix(unit).strip().replace(",", ".")
        if not cleaned or len(cleaned) > 20:
            raise InputError(name, f"expected a number in {unit}, got {text.strip()!r}")
        try:
            value = Decimal(cleaned)
        except ArithmeticError:
            raise InputError(name, f"expected a number in {unit}, got {text.strip()!r}") from None
        if not value.is_finite() or not low <= value <= high:
            raise InputError(name, f"{cleaned} {unit} is outside {low} ... {high} {unit}")
        values.append(value.normalize() if value == value.to_integral() else value)
    return values[0], values[1], values[2]


@dataclass(frozen=True, slots=True)
class LiveResult:
    """An intermediate result as it comes, for a live view.

    ``quantity`` names what was found (``"Ec"``, ``"E"``, ``"spread"``, ``"change"``), ``value_kg`` its value,
    ``limit_kg`` what it is compared with and ``limit_name`` what that is (``"MPE"``, ``"U"``, ``"d"``);
    ``passed`` is ``None`` where no verdict applies (a calibration states E and U, it does not judge).
    """

    test: str
    label: str
    load_kg: Decimal
    quantity: str
    value_kg: Decimal
    limit_name: str
    limit_kg: Decimal | None
    passed: bool | None
    message: str

    def as_json(self) -> dict[str, Any]:
        """Plain JSON form (masses as exact decimal strings in kg)."""
        return {
            "test": self.test,
            "label": self.label,
            "load_kg": str(self.load_kg),
            "quantity": self.quantity,
            "value_kg": str(self.value_kg),
            "limit_name": self.limit_name,
            "limit_kg": None if self.limit_kg is None else str(self.limit_kg),
            "passed": self.passed,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Record:
    """An intermediate result (``value``) under ``key``; not an operator step, answered with ``None``."""

    kind: ClassVar[str] = "record"
    key: str
    value: LiveResult


#: Steps an operator (or an instrument) answers.
OperatorStep: TypeAlias = (
    Prompt
    | Decide
    | PlaceLoad
    | AddLoad
    | RemoveLoad
    | Substitute
    | ZeroScale
    | ReadStable
    | FindChangeover
    | ReadConditions
)
#: Everything a procedure yields.
Step: TypeAlias = OperatorStep | Record

STEP_TYPES: tuple[type[OperatorStep], ...] = (
    Prompt,
    Decide,
    PlaceLoad,
    AddLoad,
    RemoveLoad,
    Substitute,
    ZeroScale,
    ReadStable,
    FindChangeover,
    ReadConditions,
)


def _needs_mass(step: ReadStable | FindChangeover, answer: object, path: str) -> Decimal:
    if isinstance(answer, bool) or answer is None:
        template = N_("expected a mass such as '1.005 kg', got {value}")
        raise FieldError(path, template=template, params={"value": repr(answer)})
    if isinstance(answer, Decimal):
        if not answer.is_finite():
            raise FieldError(path, template=N_("must be a finite number, got {value}"), params={"value": str(answer)})
        value = answer
    elif isinstance(answer, int | float | str):
        value = parse_mass(answer, path=path, default_unit="kg", allow_negative=isinstance(step, ReadStable))
    else:
        raise FieldError(path, template=N_("expected a mass, got {value}"), params={"value": type(answer).__name__})
    if isinstance(step, FindChangeover) and not Decimal(0) < value <= step.interval_kg:
        raise FieldError(
            path,
            template=N_(
                "the load added to reach the change point must be more than 0 and at most one interval "
                "({interval}), got {value}"
            ),
            params={"interval": format_mass(step.interval_kg), "value": format_mass(value)},
        )
    return value


def check_answer(step: OperatorStep, answer: object, *, path: str = "answer") -> Answer:
    """Check and normalise an answer to a step; :class:`~hengqi.errors.InputError` names what is wrong.

    Masses may be given as ``Decimal`` kilograms or as text with a unit (``"1.005 kg"``, ``"1005 g"``; a bare
    number counts kilograms).  Acknowledgements take ``None`` (``""`` and ``"ok"`` are accepted too).

    >>> check_answer(Decide("go", "Go on?", ("continue", "stop")), "stop")
    'stop'
    >>> check_answer(Decide("go", "Go on?", ("continue", "stop")), "maybe")
    Traceback (most recent call last):
    ...
    hengqi.errors.InputError: answer: expected one of continue, stop, got 'maybe'
    """
    if isinstance(step, ReadStable | FindChangeover):
        return _needs_mass(step, answer, path)
    if isinstance(step, ReadConditions):
        conditions = parse_conditions(answer, path=path)
        return None if conditions is None else conditions_text(*conditions)
    if isinstance(step, Decide):
        if not isinstance(answer, str) or answer.strip() not in step.options:
            raise InputError(path, f"expected one of {', '.join(step.options)}, got {answer!r}")
        return answer.strip()
    if answer is None or (isinstance(answer, str) and answer.strip().lower() in ("", "ok")):
        return None
    raise InputError(path, f"a {step.kind} step is acknowledged without a value, got {answer!r}")


def as_mass(answer: Answer, *, path: str = "answer") -> Decimal:
    """The mass a reading or change-point step was answered with (for plans; checked answers always are).

    >>> as_mass(Decimal("1.5"))
    Decimal('1.5')
    """
    if not isinstance(answer, Decimal):
        raise InputError(path, f"expected a mass, got {answer!r}")
    return answer


def answer_as_json(answer: Answer) -> str | None:
    """The JSON form of an answer (masses as exact decimal strings)."""
    return None if answer is None else str(answer)


def answer_from_json(step: OperatorStep, value: object, *, path: str = "answer") -> Answer:
    """Read an answer back from its JSON form, checking it against its step."""
    if isinstance(step, ReadStable | FindChangeover) and isinstance(value, str):
        try:
            number = Decimal(value)
        except ArithmeticError:
            raise InputError(path, f"not an exact decimal mass in kg: {value!r}") from None
        return check_answer(step, number, path=path)
    return check_answer(step, value, path=path)
