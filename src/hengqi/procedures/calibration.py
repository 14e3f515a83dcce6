"""The guided calibration of a non-automatic weighing instrument (EURAMET cg-18 v4.0, 11/2015).

The body of cg-18 was not available (``standards.md`` section 3); the test plan follows what is known from
secondary sources, each item labelled:

- **repeatability** first (cg-18 5.1 as quoted on a forum, SECONDARY): one series at a load with
  0.5 Max <= L <= Max being common (default: the weights' nearest make-up of 0.5 Max from below), at least
  5 loadings, or at least 3 where the load is 100 kg or more; the indication set to zero before the series.
- **eccentricity** (cg-18 5.3; its load rule was NOT FOUND): the centre first, then the four quarter segments;
  the default load is Max/3, the load OIML R 76-1 A.4.7 asks for up to 4 supports (CONFIRMED in national texts),
  made up from the weights from below.  An option leaves the test out.
- **test loads** (cg-18 5.2, SECONDARY: spread over the range incl. zero and Max): by default 5 loads at
  Max/5 ... Max made up from the weights from below, or the loads given (5 to 10 is usual); before each load
  the no-load indication is read, so every point carries its own zero (E = I_L - I_0 - m_ref).  With the
  option ``decreasing`` the loads are instead applied continuously increasing and then decreasing, as in the
  weighing test of OIML R 76-1 (A.4.4; cg-18's text on loading sequences was not read), with one no-load
  indication read before the first load (hengqi construction).
- **substitution** (new runs; cg-18 v4.0 allows test loads built up by substitution, its clauses were NOT
  available, see :func:`~hengqi.metrology.calibration.reference.substitution_contributions`): a test load above
  what the weights add up to is built as ``N + 1`` applications of standard weights ``m_s`` with ``N``
  substitutions: place the standard weights, read ``I_s``; take them off and put substitute material on until
  the indication is about the same, read ``I_sub``; place the standard weights again on top; and so on until the
  test load is reached, where the indication at load is read.  The order follows the UK Weighing Federation's
  Code of Practice for NAWI calibration, section 6 "Substitute Materials" (SECONDARY,
  http://www.ukwf.org.uk/CoP_NAWI/SubstituteMaterials.html: as much of the load as practicable in calibrated
  weights, then weights replaced by substitute material "to the same weight", the weights used again to reach
  the next point, repeated up to Max).  ``m_s`` is the largest part the set makes up exactly
  (``N + 1 = ceil(L / total)`` upwards); at most :data:`MAX_SUBSTITUTIONS` substitutions per load (hengqi limit).
- **ranges** (instruments with several ranges): each reading records the range in use, and each step shows it.
  Multiple-range: a load placed from zero is in the smallest range whose Max covers it; the range goes up with
  the load and stays up on decreasing loads until the load returns to zero (OIML R 76-1:2006 3.2 / 4.10 as
  cited, clause text not read), so a point read on the way down names the higher range and is evaluated with
  its d (:mod:`hengqi.metrology.calibration.ranges`).  Multi-interval: the partial range follows the load.

- **conditions**: air temperature, barometric pressure and relative humidity are typed in at the start and at
  the end of the run (a :class:`~hengqi.procedures.steps.ReadConditions` step each; left empty where not
  measured).  The record then carries them with the standard uncertainties of the instruments (from the header's
  ``environment``, else :data:`DEFAULT_CONDITION_UNCERTAINTIES`), and ``buoyancy: auto`` (unless the header says
  otherwise): the air density is computed with CIPM-2007 and the buoyancy case follows from it
  (:mod:`hengqi.metrology.calibration.reference`).  Reading a connected climate sensor is not supported.

The product is a calibration record (format ``hengqi.calibration-record``, version 1) evaluated by
:func:`hengqi.records.calibration.calibrate`; after each test load the partial record is evaluated again and
the point's error and expanded uncertainty are yielded as a live result.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from hengqi.errors import HengqiError, InputError, RecordError
from hengqi.locale import N_
from hengqi.metrology.calibration import CalibrationResult
from hengqi.metrology.calibration.ranges import range_after
from hengqi.metrology.calibration.result import RangeKind
from hengqi.metrology.reporting import decimal_text, mass_units, reported_error, round_up_2sig
from hengqi.procedures.common import json_safe, mass_text, parse_load, unevaluated
from hengqi.procedures.session import PlanDefinition, PlanProduct
from hengqi.procedures.steps import (
    Answer,
    LiveResult,
    PlaceLoad,
    Prompt,
    ReadConditions,
    ReadStable,
    Record,
    RemoveLoad,
    Step,
    Substitute,
    ZeroScale,
    as_mass,
    parse_conditions,
)
from hengqi.records.calibration import calibrate, instrument_summary, parse_calibration_record

KIND = "calibration"
#: Positions of the eccentricity test: the centre first, then the four quarter segments.
POSITIONS = ("centre", "front-left", "front-right", "back-right", "back-left")
#: The most substitution steps guided for one test load (a hengqi limit: every step adds two readings to the
#: uncertainty of m_ref, and no published limit was read).
MAX_SUBSTITUTIONS = 10
#: Default number of test loads (Max/5 ... Max).
DEFAULT_POINTS = 5
#: From this load on, 3 repeatability loadings suffice (cg-18 5.1, SECONDARY), else 5.
HEAVY_LOAD_KG = Decimal(100)
#: Standard uncertainties of the climate instruments where the header does not give them (hengqi defaults, an
#: assumption of a calibrated thermo-hygrometer and barometer; a laboratory states its own from their
#: certificates): temperature in K, pressure in hPa, relative humidity in %.
DEFAULT_CONDITION_UNCERTAINTIES: dict[str, float] = {
    "u_temperature": 0.2,
    "u_pressure": 0.5,
    "u_relative_humidity": 2.0,
}

Plan = Generator[Step, Answer, PlanProduct]
Part = Generator[Step, Answer, None]


@dataclass(frozen=True, slots=True)
class CalibrationOptions:
    """The test loads (``None``: ``points`` loads spread up to Max), the repeatability load and number of
    loadings, the eccentricity test (``None`` load: Max/3; ``eccentricity=False`` leaves it out) and whether the
    conditions are asked at the start and end (``conditions``: true for every new run, see :func:`normalise`;
    a stored run from before this option has none and replays without the conditions steps)."""

    loads: tuple[Decimal, ...] | None = None
    points: int = DEFAULT_POINTS
    repeatability_load: Decimal | None = None
    repeatability_count: int | None = None
    eccentricity: bool = True
    eccentricity_load: Decimal | None = None
    conditions: bool = False
    substitution: bool = False
    decreasing: bool = False

    @classmethod
    def from_json(cls, data: object) -> CalibrationOptions:
        """Read options; :class:`InputError` names the field."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise InputError("options", "expected a mapping")
        known = {
            "loads",
            "points",
            "repeatability_load",
            "repeatability_count",
            "eccentricity",
            "eccentricity_load",
            "conditions",
            "substitution",
            "decreasing",
        }
        for key in data:
            if key not in known:
                raise InputError(f"options.{key}", f"unknown option (known: {', '.join(sorted(known))})")
        loads = data.get("loads")
        parsed: tuple[Decimal, ...] | None = None
        if loads is not None:
            if not isinstance(loads, list | tuple) or not loads:
                raise InputError("options.loads", "expected a non-empty list of loads such as '100 g'")
            parsed = tuple(sorted(parse_load(item, f"options.loads[{i}]") for i, item in enumerate(loads)))
        points = data.get("points", DEFAULT_POINTS)
        if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= 50:
            raise InputError("options.points", f"expected a whole number from 1 to 50, got {points!r}")
        count = data.get("repeatability_count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 2):
            raise InputError("options.repeatability_count", f"expected a whole number of at least 2, got {count!r}")
        eccentricity = data.get("eccentricity", True)
        if not isinstance(eccentricity, bool):
            raise InputError("options.eccentricity", "expected true or false")
        conditions = data.get("conditions", False)
        if not isinstance(conditions, bool):
            raise InputError("options.conditions", "expected true or false")
        substitution = data.get("substitution", False)
        if not isinstance(substitution, bool):
            raise InputError("options.substitution", "expected true or false")
        decreasing = data.get("decreasing", False)
        if not isinstance(decreasing, bool):
            raise InputError("options.decreasing", "expected true or false")
        rep_load = data.get("repeatability_load")
        ecc_load = data.get("eccentricity_load")
        return cls(
            parsed,
            points,
            None if rep_load is None else parse_load(rep_load, "options.repeatability_load"),
            count,
            eccentricity,
            None if ecc_load is None else parse_load(ecc_load, "options.eccentricity_load"),
            conditions,
            substitution,
            decreasing,
        )

    def as_json(self) -> dict[str, Any]:
        """Plain JSON form (``decreasing`` only where set: the options of runs stored before it stay as they were)."""
        extra = {"decreasing": True} if self.decreasing else {}
        return extra | {
            "loads": None if self.loads is None else [mass_text(load) for load in self.loads],
            "points": self.points,
            "repeatability_load": None if self.repeatability_load is None else mass_text(self.repeatability_load),
            "repeatability_count": self.repeatability_count,
            "eccentricity": self.eccentricity,
            "eccentricity_load": None if self.eccentricity_load is None else mass_text(self.eccentricity_load),
            "conditions": self.conditions,
            "substitution": self.substitution,
        }


@dataclass(frozen=True, slots=True)
class WeightPiece:
    """One physical reference weight: the id of its record entry and its nominal value."""

    ident: str
    nominal_kg: Decimal


def weight_pieces(weights: Sequence[Mapping[str, Any]]) -> list[WeightPiece]:
    """Every physical weight of the record's ``weights`` (an entry with ``quantity`` n gives n pieces)."""
    pieces = []
    for index, item in enumerate(weights):
        nominal = parse_load(item.get("nominal"), f"record.weights[{index}].nominal")
        quantity = item.get("quantity", 1)
        pieces += [WeightPiece(str(item.get("id")), nominal)] * int(quantity)
    return pieces


def make_up(target_kg: Decimal, pieces: Sequence[WeightPiece]) -> tuple[Decimal, list[str | dict[str, Any]]]:
    """The load the weights make up from below (largest first) and its ``weights`` list in record form.

    >>> pieces = [WeightPiece("W100", Decimal("0.1")), WeightPiece("W50", Decimal("0.05"))] + [
    ...     WeightPiece("W20", Decimal("0.02"))] * 2
    >>> make_up(Decimal("0.18"), pieces)
    (Decimal('0.17'), ['W100', 'W50', 'W20'])
    >>> make_up(Decimal("0.04"), pieces)
    (Decimal('0.04'), [{'id': 'W20', 'count': 2}])
    """
    total = Decimal(0)
    counts: dict[str, int] = {}
    for piece in sorted(pieces, key=lambda p: p.nominal_kg, reverse=True):
        if total + piece.nominal_kg <= target_kg:
            total += piece.nominal_kg
            counts[piece.ident] = counts.get(piece.ident, 0) + 1
    uses: list[str | dict[str, Any]] = [ident if n == 1 else {"id": ident, "count": n} for ident, n in counts.items()]
    return total, uses


@dataclass(frozen=True, slots=True)
class PlannedLoad:
    """A test load and how it is made: the standard weights ``uses`` (record form) making up ``standard_kg``,
    applied ``times`` times (``times - 1`` substitution steps; 1: no substitution)."""

    load_kg: Decimal
    uses: tuple[str | dict[str, Any], ...]
    standard_kg: Decimal
    times: int = 1


def substitution_plan(
    target_kg: Decimal, pieces: Sequence[WeightPiece], *, exact: bool, limit: int = MAX_SUBSTITUTIONS
) -> PlannedLoad | None:
    """How ``target_kg``, more than the weights add up to, is built by substitution.

    ``exact``: the fewest applications ``times`` (from ``ceil(target / total)`` up, at most ``limit + 1``) whose
    part ``target / times`` the weights make up exactly; otherwise the part made up from below at
    ``ceil(target / total)`` applications.  ``None``: not possible within ``limit`` substitutions (or not
    exactly, where ``exact``).

    >>> tonnes = [WeightPiece("T1", Decimal(1000))] * 20
    >>> planned = substitution_plan(Decimal(50000), tonnes, exact=True)
    >>> planned.times, planned.standard_kg, planned.load_kg
    (5, Decimal('10000'), Decimal('50000'))
    >>> planned = substitution_plan(Decimal(50000), tonnes, exact=False)
    >>> planned.times, planned.standard_kg, planned.load_kg
    (3, Decimal('16000'), Decimal('48000'))
    """
    total = sum((p.nominal_kg for p in pieces), Decimal(0))
    if total <= 0:
        return None
    first = max(2, int((target_kg / total).to_integral_value(rounding=ROUND_CEILING)))
    if first > limit + 1:
        return None
    if not exact:
        part, uses = make_up(target_kg / first, pieces)
        return None if part <= 0 else PlannedLoad(part * first, tuple(uses), part, first)
    for times in range(first, limit + 2):
        part, uses = make_up(target_kg / times, pieces)
        if part > 0 and part * times == target_kg:
            return PlannedLoad(target_kg, tuple(uses), part, times)
    return None


def _placeholder(header: Mapping[str, Any]) -> dict[str, Any]:
    weights = header.get("weights")
    first = weights[0] if isinstance(weights, list) and weights and isinstance(weights[0], Mapping) else {}
    ident, nominal = str(first.get("id", "W")), first.get("nominal", "1 g")
    return {
        **header,
        "repeatability": [{"load": nominal, "readings": ["0 g", "0 g"]}],
        "points": [{"load": nominal, "weights": [ident], "indication": nominal}],
    }


def _header(parameters: Mapping[str, Any]) -> dict[str, Any]:
    header = parameters.get("record")
    if not isinstance(header, Mapping):
        raise InputError("record", "expected the record header (date, instrument, weights, ...)")
    for key in ("repeatability", "eccentricity", "points"):
        if key in header:
            raise InputError(f"record.{key}", "this is what the run records; leave it out of the header")
    data = {"format": "hengqi.calibration-record", "version": 1, **json_safe(header)}
    data.setdefault("buoyancy", {"method": "auto"})
    try:
        parse_calibration_record(_placeholder(data))
    except RecordError as err:
        raise err.at("record") from None
    return data


class _Calibration:
    """The state of one guided calibration while it runs."""

    def __init__(self, parameters: Mapping[str, Any]) -> None:
        self.header = _header(parameters)
        self.options = CalibrationOptions.from_json(parameters.get("options"))
        model = parse_calibration_record(_placeholder(self.header))
        self.max_kg = model.instrument.max
        self.d_kg = model.instrument.d
        self.instrument = instrument_summary(model.instrument)
        self.instrument_id = model.instrument.id
        self.pieces = weight_pieces(self.header["weights"])
        self.total_kg = sum((p.nominal_kg for p in self.pieces), Decimal(0))
        self.repeatability: list[dict[str, Any]] = []
        self.eccentricity: dict[str, Any] | None = None
        self.points: list[dict[str, Any]] = []

    def conditions(self, moment: str) -> Part:
        """Ask for the conditions and put them into the record's ``environment`` (start: the values; end: the
        ``*_end`` values, or the values where none were given at the start)."""
        answer = yield ReadConditions(moment)
        values = parse_conditions(answer)
        if values is None:
            return
        t, p, h = (float(v) for v in values)
        environment = dict(self.header.get("environment") or {})
        if moment == "start" or environment.get("pressure") is None:
            environment.update(temperature_start=t, pressure=p, relative_humidity=h)
        else:
            environment.update(temperature_end=t, pressure_end=p, relative_humidity_end=h)
        for name, default in DEFAULT_CONDITION_UNCERTAINTIES.items():
            environment.setdefault(name, default)
        self.header["environment"] = environment

    def load(self, target: Decimal, path: str) -> tuple[Decimal, list[str | dict[str, Any]]]:
        load, uses = make_up(target, self.pieces)
        if load <= 0:
            raise InputError(path, f"the weights cannot make up any load up to {mass_text(target)}")
        if load > self.max_kg:
            raise InputError(path, f"{mass_text(load)} is above Max = {mass_text(self.max_kg)}")
        return load, uses

    def planned(self, target: Decimal, path: str, *, exact: bool) -> PlannedLoad:
        """A test load: from the weights (from below, or exactly where ``exact``), or built by substitution where
        the option allows it and the weights add up to less than ``target``."""
        if self.options.substitution and target > self.total_kg:
            if target > self.max_kg:
                raise InputError(path, f"{mass_text(target)} is above Max = {mass_text(self.max_kg)}")
            planned = substitution_plan(target, self.pieces, exact=exact)
            if planned is None:
                how = "exactly " if exact else ""
                raise InputError(
                    path,
                    f"the weights ({mass_text(self.total_kg)} in all) cannot make up {how}{mass_text(target)}, "
                    f"even with up to {MAX_SUBSTITUTIONS} substitution steps; choose a set with more or larger "
                    "weights",
                )
            if planned.load_kg > self.total_kg:  # else the weights alone make up at least as much
                return planned
        load, uses = self.load(target, path)
        if exact and load != target:
            raise InputError(path, f"the weights make up {mass_text(load)}, not {mass_text(target)}")
        return PlannedLoad(load, tuple(uses), load)

    def test_loads(self) -> list[PlannedLoad]:
        if self.options.loads is not None:
            return [
                self.planned(target, f"options.loads[{index}]", exact=True)
                for index, target in enumerate(self.options.loads)
            ]
        count = self.options.points
        targets = [self.max_kg * k / count for k in range(1, count + 1)]
        made: dict[Decimal, PlannedLoad] = {}
        for index, target in enumerate(targets):
            planned = self.planned(target, f"options.points (load {index + 1})", exact=False)
            made.setdefault(planned.load_kg, planned)
        return [made[load] for load in sorted(made)]

    def in_use(self, load: Decimal, current: int | None) -> int | None:
        """The 0-based range in use once ``load`` is on the receptor, given the range in use before (``None``: the
        load is placed from zero); ``None`` on a single-interval instrument."""
        return range_after(self.instrument, load, current)

    def named(self, in_use: int | None) -> dict[str, int]:
        """The record's ``range`` field: only a multiple-range instrument names its range in use."""
        if in_use is None or self.instrument.kind is not RangeKind.MULTIPLE_RANGE:
            return {}
        return {"range": in_use + 1}

    def record_data(self, *, live: bool = False) -> dict[str, Any]:
        data = dict(self.header)
        data["repeatability"] = self.repeatability
        if self.eccentricity is not None and len(self.eccentricity["positions"]) >= 2:
            data["eccentricity"] = self.eccentricity
        data["points"] = self.points
        if live:  # a partial record: no error curve (it may need more points than measured yet)
            data["in_use"] = {**dict(data.get("in_use") or {}), "error_curve": "none"}
            data["minimum_weight"] = {}
        return data

    def evaluate(self) -> CalibrationResult:
        return _calibrate_text(json.dumps(self.record_data(live=True), sort_keys=True))

    def substitution(self, planned: PlannedLoad) -> Generator[Step, Answer, list[dict[str, str]]]:
        """The substitution steps of a load built by substitution (see the module docstring), ending with the
        standard weights placed on the last substitute: the record's ``substitution`` entries (none where the
        load is made of the weights alone)."""
        steps: list[dict[str, str]] = []
        names = _names(planned.uses)
        part = planned.standard_kg
        if planned.times < 2:
            return steps
        yield PlaceLoad(part, "centre", names)
        for number in range(1, planned.times):
            on_receptor = part * number
            standard = as_mass((yield ReadStable(f"substitution {number}: standard weights", on_receptor)))
            yield Substitute(on_receptor, names, number)
            substitute = as_mass((yield ReadStable(f"substitution {number}: substitute", on_receptor)))
            steps.append({"standard": mass_text(standard), "substitute": mass_text(substitute)})
            yield PlaceLoad(
                on_receptor + part, "centre", (f"substitute {mass_text(on_receptor)} (left in place)", *names)
            )
        return steps

    # -- the tests -------------------------------------------------------------------------------------------
    def repeatability_series(self) -> Part:
        target = self.options.repeatability_load or self.max_kg / 2
        load, uses = self.load(target, "options.repeatability_load")
        count = self.options.repeatability_count or (3 if load >= HEAVY_LOAD_KG else 5)
        readings: list[str] = []
        in_use = self.in_use(load, None)  # every loading starts from zero
        shown = None if in_use is None else in_use + 1
        yield ZeroScale()
        for number in range(1, count + 1):
            yield PlaceLoad(load, "centre", _names(uses))
            value = as_mass((yield ReadStable(f"repeatability #{number}", load, shown)))
            readings.append(mass_text(value))
            yield RemoveLoad()
        self.repeatability.append({"load": mass_text(load), "readings": readings, **self.named(in_use)})

    def eccentricity_test(self) -> Part:
        target = self.options.eccentricity_load or self.max_kg / 3
        load, uses = self.load(target, "options.eccentricity_load")
        in_use = self.in_use(load, None)  # the load is placed from zero (and moved, never removed to zero)
        shown = None if in_use is None else in_use + 1
        self.eccentricity = {"load": mass_text(load), "positions": [], **self.named(in_use)}
        yield ZeroScale()
        for position in POSITIONS:
            yield PlaceLoad(load, position, _names(uses))
            value = as_mass((yield ReadStable(f"eccentricity {position}", load, shown)))
            self.eccentricity["positions"].append({"position": position, "indication": mass_text(value)})
        yield RemoveLoad()

    def weighing(self) -> Part:
        yield ZeroScale()
        planned_loads = self.test_loads()
        if self.options.decreasing:
            yield from self.continuous(planned_loads)
            return
        for planned in planned_loads:
            load, uses = planned.load_kg, list(planned.uses)
            zero_range = self.in_use(Decimal(0), None)
            no_load = as_mass((yield ReadStable("no load", Decimal(0), _shown(zero_range))))
            substitution = yield from self.substitution(planned)
            if not substitution:
                yield PlaceLoad(load, "centre", _names(uses))
            in_use = self.in_use(load, None)  # placed from zero
            indication = as_mass((yield ReadStable("at load", load, _shown(in_use))))
            yield RemoveLoad()
            entry: dict[str, Any] = {
                "load": mass_text(load),
                "weights": uses,
                "indication": mass_text(indication),
                "no_load": mass_text(no_load),
                **self.named(in_use),
            }
            if substitution:
                entry["substitution"] = substitution
            self.points.append(entry)
            yield from self.live(load)

    def continuous(self, planned_loads: Sequence[PlannedLoad]) -> Part:
        """The loads increasing, then decreasing without returning to zero (option ``decreasing``): the range in
        use is carried from one load to the next, so on a multiple-range instrument the decreasing loads are read
        in the highest range reached.  Loads built by substitution cannot be taken off in steps: refused."""
        for planned in planned_loads:
            if planned.times > 1:
                raise InputError(
                    "options.decreasing",
                    f"the test load {mass_text(planned.load_kg)} is built by substitution; "
                    "continuous increasing and decreasing loads need the weights alone",
                )
        loads = [(planned.load_kg, list(planned.uses)) for planned in planned_loads]
        in_use = self.in_use(Decimal(0), None)
        no_load = as_mass((yield ReadStable("no load", Decimal(0), _shown(in_use))))
        sequence = [(load, uses, "increasing") for load, uses in loads]
        sequence += [(load, uses, "decreasing") for load, uses in reversed(loads[:-1])]
        in_use = None  # the load starts from zero
        for load, uses, direction in sequence:
            yield PlaceLoad(load, "centre", _names(uses))
            in_use = self.in_use(load, in_use)
            indication = as_mass((yield ReadStable(f"at load, {direction}", load, _shown(in_use))))
            self.points.append(
                {
                    "load": mass_text(load),
                    "weights": uses,
                    "indication": mass_text(indication),
                    "no_load": mass_text(no_load),
                    **self.named(in_use),
                }
            )
            yield from self.live(load)
        yield RemoveLoad()

    def live(self, load: Decimal) -> Part:
        """Evaluate the partial record and yield the point just recorded as a live result."""
        try:
            result = self.evaluate()
        except HengqiError as err:  # never leave a run stuck: say so, and let the final evaluation tell
            yield Record("evaluation", unevaluated(KIND, str(err)))
            return
        # the points are sorted by load, in record order where loads are equal: the last is the one just read
        point = [p for p in result.points if p.load_kg == load][-1]
        u = _significant(point.U_kg)
        shown = reported_error(point.error_kg, point.U_kg, point.k)
        _load_unit, unit = mass_units(result.instrument.max_kg, result.instrument.d_kg)
        yield Record(
            f"calibration[{len(self.points) - 1}]",
            LiveResult(
                test="calibration",
                label=mass_text(load),
                load_kg=load,
                quantity="E",
                value_kg=point.error_kg,
                limit_name="U",
                limit_kg=u,
                passed=None,
                message=f"E = {decimal_text(shown.error_kg, unit)} {unit}, "
                f"U = {decimal_text(shown.U_kg, unit)} {unit} (k = {shown.k})",
            ),
        )


@functools.lru_cache(maxsize=512)
def _calibrate_text(text: str) -> CalibrationResult:
    """Evaluate a (partial) record given as JSON text; cached for replays (results are immutable values)."""
    return calibrate(parse_calibration_record(json.loads(text)))


def _shown(in_use: int | None) -> int | None:
    """The range a step shows (1 = first), ``None`` on a single-interval instrument."""
    return None if in_use is None else in_use + 1


def _names(uses: Sequence[str | Mapping[str, Any]]) -> tuple[str, ...]:
    names: list[str] = []
    for use in uses:
        if isinstance(use, str):
            names.append(use)
        else:
            names.append(f"{use['count']} x {use['id']}")
    return tuple(names)


def _significant(value: float) -> Decimal:
    """An expanded uncertainty as certified: rounded up to two significant digits (JCGM 100:2008, 7.2.6), by the
    one rule of :func:`hengqi.metrology.reporting.round_up_2sig` that the results page, PDF and DCC use."""
    return round_up_2sig(value)


def normalise(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Check the parameters of a calibration run: ``{"record": header, "options": {...}}``."""
    unknown = set(parameters) - {"record", "options"}
    if unknown:
        raise InputError(sorted(unknown)[0], "unknown parameter (known: record, options)")
    options = parameters.get("options")
    if options is None or isinstance(options, Mapping):  # a new run asks for the conditions and builds loads
        # above the weights' total by substitution unless told not to (a stored run replays with its own options)
        parameters = {**parameters, "options": {"conditions": True, "substitution": True, **(options or {})}}
    run = _Calibration(parameters)
    run.test_loads()
    run.load(run.options.repeatability_load or run.max_kg / 2, "options.repeatability_load")
    if run.options.eccentricity:
        run.load(run.options.eccentricity_load or run.max_kg / 3, "options.eccentricity_load")
    header = dict(run.header)
    header.pop("format")
    header.pop("version")
    return {"record": header, "options": run.options.as_json()}


def calibration_plan(parameters: Mapping[str, Any]) -> Plan:
    """The guided calibration: startup, repeatability, eccentricity, test loads, the record evaluated."""
    run = _Calibration(parameters)
    yield Prompt(
        N_(
            "Calibration of {instrument} (Max {max}, d {d}) to EURAMET cg-18. Check that the instrument is level, "
            "warmed up and clean, that the reference weights are acclimatised; the environmental conditions are "
            "asked for next."
        ).format(instrument=run.instrument_id, max=mass_text(run.max_kg), d=mass_text(run.d_kg))
    )
    if run.options.conditions:
        yield from run.conditions("start")
    yield RemoveLoad()
    yield from run.repeatability_series()
    if run.options.eccentricity:
        yield from run.eccentricity_test()
    yield from run.weighing()
    if run.options.conditions:
        yield from run.conditions("end")
    data = run.record_data()
    try:
        result = calibrate(parse_calibration_record(data))
    except HengqiError as err:
        return PlanProduct(KIND, data, None, (f"the record could not be evaluated: {err}",), str(err))
    _load_unit, unit = mass_units(result.instrument.max_kg, result.instrument.d_kg)
    reported = [(p.load_kg, reported_error(p.error_kg, p.U_kg, p.k)) for p in result.points]
    summary = tuple(
        f"{mass_text(load)}: E = {'+' if r.error_kg > 0 else ''}{decimal_text(r.error_kg, unit)} {unit}, "
        f"U = {decimal_text(r.U_kg, unit)} {unit} (k = {r.k})"
        for load, r in reported
    )
    return PlanProduct(KIND, data, None, summary)


DEFINITION = PlanDefinition(KIND, calibration_plan, normalise=normalise)
