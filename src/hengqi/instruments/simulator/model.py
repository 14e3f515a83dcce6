"""The physical model of a simulated non-automatic weighing instrument.

An instrument is specified like a real one (:class:`hengqi.metrology.classes.InstrumentSpecification`: class, Max,
e, d, partial ranges) and given imperfections (:class:`Imperfections`): span error, an error curve (linearity),
hysteresis, repeatability, eccentricity by position, zero drift, temperature effect, creep and a settling time
during which readings are dynamic.  The operator's actions are inputs (:meth:`WeighingModel.place`,
:meth:`~WeighingModel.remove`, zero, tare); time comes from an injectable :class:`Clock`; random effects come from a
seeded :class:`numpy.random.Generator`, so a run is reproducible from its seed.

Legal facts used: nothing is indicated above Max + 9 e (OIML R 76-1:2006 via Directive 2014/31/EU Annex I, 9,
see :attr:`InstrumentSpecification.max_indication_kg`).  The zero-setting range of +/-2 % of Max around the
power-up zero follows OIML R 76-1:2006, 4.5.1 ("not more than 4 % of Max" in all) as SECONDARY (the clause was
not read here).  The underload limit (20 e below zero) is a simulator convention, not a rule.

>>> clock = ManualClock()
>>> spec = InstrumentSpecification.create(accuracy_class="I", max="220 g", e="1 mg", d="0.1 mg")
>>> model = WeighingModel(spec, unit="g", clock=clock, seed=1)
>>> model.place("100 g")
>>> model.indication().stable
False
>>> clock.advance(5)
>>> ind = model.indication()
>>> ind.stable, ind.text, ind.unit
(True, '100.0000', 'g')
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Protocol

import numpy as np

from hengqi.errors import InputError
from hengqi.metrology.classes import InstrumentSpecification
from hengqi.metrology.quantities import MASS_UNITS, canonical_unit, parse_mass

#: Named load positions on the load receptor, as (x, y) offsets from the centre in units of the half-width
#: (the eccentricity test of OIML R 76-1:2006, A.4.7 loads the centre and the four quarters: SECONDARY, the
#: clause was not read here; the offsets are a simulator convention).
POSITIONS: Final[dict[str, tuple[float, float]]] = {
    "center": (0.0, 0.0),
    "centre": (0.0, 0.0),
    "front": (0.0, -0.5),
    "back": (0.0, 0.5),
    "left": (-0.5, 0.0),
    "right": (0.5, 0.0),
    "front-left": (-0.5, -0.5),
    "front-right": (0.5, -0.5),
    "back-left": (-0.5, 0.5),
    "back-right": (0.5, 0.5),
}
ZERO_RANGE_FRACTION: Final = Decimal("0.02")
UNDERLOAD_E: Final = Decimal(20)


class Clock(Protocol):
    """A time source: ``now()`` in seconds, ``sleep(seconds)``."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real monotonic time."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ManualClock:
    """Time that moves only when told (``sleep`` advances it at once): deterministic tests."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        if seconds < 0:
            raise ValueError("time does not run backwards")
        with self._lock:
            self._now += seconds


@dataclass(frozen=True, slots=True)
class Imperfections:
    """How the simulated instrument departs from a perfect one (masses in kg, floats: these are model inputs).

    * ``span_error``: relative error of the slope; ``linearity_kg``: error-curve bulge at Max/2 (parabola);
    * ``hysteresis_kg``: extra error at Max/2 on decreasing loads; ``repeatability_kg``: standard deviation of
      the indication from one placement of a load to the next;
    * ``eccentricity``: relative error per unit offset of the load from the centre (x, y);
    * ``zero_drift_kg_per_h``; ``temperature_zero_kg_per_k`` and ``temperature_span_per_k`` from 20 degC;
    * ``creep``: relative change of the indication under a constant load, approached with ``creep_tau_s``;
    * ``settling_s``: time after a change until the indication is stable; ``stability_timeout_s``: how long
      the instrument waits for stability before answering "not executable".
    """

    span_error: float = 0.0
    linearity_kg: float = 0.0
    hysteresis_kg: float = 0.0
    repeatability_kg: float = 0.0
    eccentricity: tuple[float, float] = (0.0, 0.0)
    zero_drift_kg_per_h: float = 0.0
    temperature_zero_kg_per_k: float = 0.0
    temperature_span_per_k: float = 0.0
    creep: float = 0.0
    creep_tau_s: float = 60.0
    settling_s: float = 1.0
    stability_timeout_s: float = 3.0


def display_text(value: Decimal, quantum: Decimal) -> str:
    """``value`` rounded to the display's last digit; a zero is shown unsigned (an indicator never shows ``-0.0``).

    >>> display_text(Decimal("-0.00001"), Decimal("0.0001")), display_text(Decimal("1.23456"), Decimal("0.0001"))
    ('0.0000', '1.2346')
    """
    shown = value.quantize(quantum)
    return str(shown.copy_abs() if shown.is_zero() else shown)


@dataclass(frozen=True, slots=True)
class Indication:
    """What the instrument shows now (values in kg and as display text in ``unit``)."""

    gross_kg: Decimal
    net_kg: Decimal
    tare_kg: Decimal
    stable: bool
    overload: bool
    underload: bool
    unit: str
    text: str
    tare_text: str
    d_kg: Decimal

    @property
    def net(self) -> bool:
        """True while a tare is set (the indication is net)."""
        return self.tare_kg != 0

    @property
    def value(self) -> Decimal:
        """The indicated value in the display unit."""
        return Decimal(self.text)


@dataclass(slots=True)
class _State:
    load_kg: Decimal = Decimal(0)
    position: tuple[float, float] = (0.0, 0.0)
    changed_at: float = 0.0
    placed_at: float = 0.0
    previous_kg: float = 0.0
    noise_kg: float = 0.0
    peak_kg: Decimal = Decimal(0)
    zero_offset_kg: float = 0.0
    tare_kg: Decimal = Decimal(0)
    temperature_c: float = 20.0
    span_tamper: float = 1.0
    started_at: float = 0.0
    history: list[str] = field(default_factory=list)


class WeighingModel:
    """A simulated instrument: state plus physics.  Thread-safe (the servers call it from several threads)."""

    def __init__(
        self,
        spec: InstrumentSpecification,
        *,
        unit: str = "g",
        imperfections: Imperfections | None = None,
        clock: Clock | None = None,
        seed: int = 0,
        temperature_c: float = 20.0,
    ) -> None:
        self.spec = spec
        self.unit = canonical_unit(unit)
        self.imperfections = imperfections or Imperfections()
        self.clock: Clock = clock or SystemClock()
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._lock = threading.RLock()
        now = self.clock.now()
        self._state = _State(changed_at=now - 1e6, placed_at=now, temperature_c=temperature_c, started_at=now)
        smallest_d = min([spec.d_kg, *(r.e_kg for r in spec.ranges)])
        exponent = (smallest_d / MASS_UNITS[self.unit]).normalize().as_tuple().exponent
        self._places = max(0, -exponent) if isinstance(exponent, int) else 0

    # -- operator inputs -------------------------------------------------------------------------------------
    def place(self, load: Decimal | str, position: str | tuple[float, float] = "center") -> None:
        """Put ``load`` (the whole load on the receptor; text such as ``"100 g"`` or kg) at ``position``."""
        load_kg = load if isinstance(load, Decimal) else parse_mass(load, path="load")
        if load_kg < 0:
            raise InputError("load", "must not be negative")
        if isinstance(position, str):
            if position not in POSITIONS:
                raise InputError("position", f"unknown position {position!r} (known: {', '.join(POSITIONS)})")
            xy = POSITIONS[position]
        else:
            xy = (float(position[0]), float(position[1]))
        with self._lock:
            now = self.clock.now()
            state = self._state
            state.previous_kg = self._physical_kg(now)
            state.load_kg, state.position, state.changed_at, state.placed_at = load_kg, xy, now, now
            state.noise_kg = float(self._rng.normal(0.0, self.imperfections.repeatability_kg)) if load_kg else 0.0
            if load_kg == 0:
                state.peak_kg = Decimal(0)
            state.peak_kg = max(state.peak_kg, load_kg)

    def remove(self) -> None:
        """Take everything off the load receptor."""
        self.place(Decimal(0))

    def set_temperature(self, celsius: float) -> None:
        """Change the ambient temperature (temperature effect on zero and span)."""
        with self._lock:
            self._state.temperature_c = celsius

    def tamper_span(self, factor: float) -> None:
        """A tampered span: multiply the slope by ``factor`` (a fault to be found by verification)."""
        with self._lock:
            self._state.span_tamper = factor

    # -- instrument functions ---------------------------------------------------------------------------------
    def zero(self, *, require_stable: bool = True) -> str:
        """Zero-setting: ``"ok"``, ``"unstable"``, ``"+"`` or ``"-"`` (outside +/-2 % of Max around power-up zero)."""
        with self._lock:
            now = self.clock.now()
            if require_stable and not self._is_stable(now):
                return "unstable"
            value = self._physical_kg(now)
            limit = float(self.spec.max_kg * ZERO_RANGE_FRACTION)
            if value > limit:
                return "+"
            if value < -limit:
                return "-"
            self._state.zero_offset_kg = value
            self._state.tare_kg = Decimal(0)
            return "ok"

    def tare(self, *, require_stable: bool = True) -> str:
        """Tare the present load: ``"ok"``, ``"unstable"``, ``"+"`` (overload) or ``"-"`` (at or below zero)."""
        with self._lock:
            indication = self.indication(tare_applied=False)
            if indication.overload:
                return "+"
            if require_stable and not indication.stable:
                return "unstable"
            if indication.gross_kg < 0:
                return "-"
            self._state.tare_kg = indication.gross_kg
            return "ok"

    def set_tare(self, tare_kg: Decimal) -> bool:
        """A preset tare (MT-SICS ``TA value unit``); False if it is negative or above Max."""
        if tare_kg < 0 or tare_kg > self.spec.max_kg:
            return False
        with self._lock:
            self._state.tare_kg = self._round(tare_kg, self.spec.d_at(tare_kg))
        return True

    def clear_tare(self) -> None:
        """Clear the tare."""
        with self._lock:
            self._state.tare_kg = Decimal(0)

    # -- physics ----------------------------------------------------------------------------------------------
    def _target_kg(self, now: float) -> float:
        imp, state = self.imperfections, self._state
        load = float(state.load_kg)
        max_kg = float(self.spec.max_kg)
        fraction = load / max_kg
        hours = (now - state.started_at) / 3600.0
        delta_t = state.temperature_c - 20.0
        span = (1.0 + imp.span_error + imp.temperature_span_per_k * delta_t) * state.span_tamper
        value = load * span + imp.linearity_kg * 4.0 * fraction * (1.0 - fraction)
        if state.load_kg < state.peak_kg:
            value += imp.hysteresis_kg * 4.0 * fraction * (1.0 - fraction)
        value += load * (imp.eccentricity[0] * state.position[0] + imp.eccentricity[1] * state.position[1])
        value += load * imp.creep * (1.0 - math.exp(-(now - state.placed_at) / max(imp.creep_tau_s, 1e-9)))
        value += imp.zero_drift_kg_per_h * hours + imp.temperature_zero_kg_per_k * delta_t
        return value + state.noise_kg

    def _physical_kg(self, now: float) -> float:
        """The analogue value before rounding: settling towards the target after a change."""
        state, settling = self._state, self.imperfections.settling_s
        target = self._target_kg(now)
        elapsed = now - state.changed_at
        if settling <= 0 or elapsed >= settling:
            return target
        tau = settling / 5.0
        swing = (state.previous_kg - target) * math.exp(-elapsed / tau) * math.cos(2 * math.pi * elapsed / settling)
        return target + swing

    def _is_stable(self, now: float) -> bool:
        return now - self._state.changed_at >= self.imperfections.settling_s

    def time_until_stable(self) -> float:
        """Seconds until the indication is stable (0 if it is)."""
        with self._lock:
            return max(0.0, self._state.changed_at + self.imperfections.settling_s - self.clock.now())

    def _round(self, kg: Decimal, d_kg: Decimal) -> Decimal:
        return (kg / d_kg).quantize(Decimal(1), rounding=ROUND_HALF_UP) * d_kg

    def indication(self, *, tare_applied: bool = True) -> Indication:
        """What the instrument indicates now."""
        with self._lock:
            now = self.clock.now()
            state = self._state
            gross_raw = Decimal(repr(self._physical_kg(now) - state.zero_offset_kg))
            overload = gross_raw > self.spec.max_indication_kg
            underload = gross_raw < -UNDERLOAD_E * self.spec.e_kg
            tare = state.tare_kg if tare_applied else Decimal(0)
            magnitude = min(abs(gross_raw - tare), self.spec.max_kg)
            d_kg = self.spec.d_at(magnitude)
            net = self._round(gross_raw - tare, d_kg)
            gross = self._round(gross_raw, d_kg)
            size = MASS_UNITS[self.unit]
            quantum = Decimal(1).scaleb(-self._places)
            return Indication(
                gross_kg=gross,
                net_kg=net,
                tare_kg=tare,
                stable=self._is_stable(now),
                overload=overload,
                underload=underload,
                unit=self.unit,
                text=display_text(net / size, quantum),
                tare_text=display_text(tare / size, quantum),
                d_kg=d_kg,
            )

    def tare_reading(self) -> tuple[str, str]:
        """The stored tare as display text and unit."""
        with self._lock:
            size = MASS_UNITS[self.unit]
            return display_text(self._state.tare_kg / size, Decimal(1).scaleb(-self._places)), self.unit

    @property
    def decimals(self) -> int:
        """Digits shown after the decimal point."""
        return self._places
