"""The guided verification of a non-automatic weighing instrument (OIML R 76-1:2006 Annex A; JJG 539 MPEs).

A plan built from the record header (instrument, reference weights, operator, date, stage, rule set) and a few
options.  Its product is a verification record (format ``hengqi.verification-record``, version 1) evaluated by
:func:`hengqi.records.verification.evaluate`, the same code that evaluates a record file; after every reading
the partial record is evaluated again and the new or changed checks are yielded as live results.

Test plans (the R 76-1 Annex A clause texts were not read, ``standards.md`` 1.4; each item says its source):

- **weighing** (A.4.4): loads Min, the last load of each MPE band below Max (the "points at which the MPE
  changes", computed from the rule set's bands with e of each partial range, plus each Max(i) where e
  changes), 50 % Max, Max and any extra loads, increasing, then decreasing back (Max not repeated).  Which loads
  to take follows the brief of this project and the practice of national procedures; the minimum number of
  loads R 76 asks was NOT FOUND.
- **rounding-error elimination** (A.4.4.3, changeover-point method, SECONDARY): after each reading, weights of
  0.1 d are added until the indication steps up (``dL``); ``E0`` is determined the same way at 10 e at the start
  of each test.  Done where d > 0.2 e at the load (R 76-1 3.5.3.2, SECONDARY), or as the options say.
- **eccentricity** (A.4.7, CONFIRMED in national texts): (Max + T)/3 on the centre and the four quarter
  segments for up to 4 supports, (Max + T)/(n - 1) on each of n supports otherwise; a load that is not a whole
  multiple of e is rounded down to one where the class allows rounding down (NZ TS-007), else up.
- **repeatability** (A.4.10, SECONDARY): series at 50 % Max and at Max, 10 weighings when Max < 1 000 kg,
  otherwise 3.
- **discrimination** (A.4.8, CONFIRMED procedure; SECONDARY test points): at Min, 50 % Max and Max: bring the
  indication to a change point with 0.1 d weights, take one off, add 1.4 d.

- **zero-setting** (optional; SECONDARY, clause text not read): after zero setting, the deviation of zero by the
  changeover method at zero, within 0.25 e.

- **substitution of standard weights** (new runs; OIML R 76-1:2006 3.7.3 as cited, SECONDARY, see
  :mod:`hengqi.metrology.r76.substitution`): weighing-test loads above what the weights add up to are built on
  substitute material: the weights are put on and read, replaced by substitute material until the indication is
  the same and read again (each reading with rounding elimination where the test uses it); the weights then make
  up the rest of the load on top, and a next substitution follows where that is not enough (the order of the UK
  Weighing Federation Code of Practice for NAWI, section 6, SECONDARY).  The reference value of such a load is
  its nominal value plus ``sum(P_sub - P_s)`` of the substitutions under it.  Where the weights are less than
  1/2 Max, the repeatability error at the weights' load is measured first in the same run (3 loadings, the spread
  of the indications before rounding) and the run stops, naming the rule, where it is above the limit (0.3 e for
  1/3 Max, 0.2 e for 1/5 Max); below 1/5 Max the run is refused at the start.  Decreasing loads take the
  substitutes off again, whole, in reverse order.  The loads of the eccentricity, repeatability and
  discrimination tests above the weights' total are made the same way: the substitute material established in
  the run (in the weighing test, or by the same substitution steps where it is not yet established) is put
  on the receptor (at the position of the test) with the weights making up the rest on top; it is the same
  material each time, so its correction ``sum(P_sub - P_s)`` is that found when it was established (hengqi's
  reading of the procedure; the R 76-1 text on which tests may use substitution was not read).  Each such
  reading records its ``substitute`` and ``substitute_correction`` as the weighing points do.

The tare test is not guided: its procedure (tare loads, net loads) was NOT FOUND; its records can still be
written by hand (so no tare load is built by substitution).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from hengqi.errors import HengqiError, InputError, RecordError
from hengqi.locale import N_
from hengqi.metrology.classes import InstrumentKind, InstrumentSpecification
from hengqi.metrology.r76 import PointResult, VerificationResult
from hengqi.metrology.r76.discrimination import EXTRA_LOAD_D
from hengqi.metrology.r76.eccentricity import ROUND_DOWN_ALLOWANCE_E, eccentricity_test_load
from hengqi.metrology.r76.substitution import check_substitution, repeatability_error, standard_share_limit
from hengqi.metrology.rulesets import resolve_rule_set
from hengqi.procedures.common import (
    compose,
    json_safe,
    live_from_point,
    mass_text,
    multiple_of,
    parse_load,
    unevaluated,
    weight_table,
)
from hengqi.procedures.instructions import STAGES
from hengqi.procedures.session import PlanDefinition, PlanProduct
from hengqi.procedures.steps import (
    AddLoad,
    Answer,
    Decide,
    FindChangeover,
    PlaceLoad,
    Prompt,
    ReadStable,
    Record,
    RemoveLoad,
    Step,
    Substitute,
    ZeroScale,
    as_mass,
)
from hengqi.records.verification import (
    VerificationRecord,
    evaluate,
    instrument_specification,
    parse_verification_record,
)

KIND = "verification"
#: The tests a verification guides, in the order they are done.
TESTS = ("zero-setting", "weighing", "eccentricity", "repeatability", "discrimination")
#: The tests done unless the options say otherwise.
DEFAULT_TESTS = ("weighing", "eccentricity", "repeatability", "discrimination")
#: Positions of the eccentricity test with up to 4 supports: the centre and the four quarter segments.
QUARTER_POSITIONS = ("centre", "front-left", "front-right", "back-right", "back-left")
#: The load at or near zero where E0 is determined, in e (``standards.md`` 1.4: "e.g. at 10 e").
ZERO_LOAD_E = Decimal(10)
_HALF = Decimal("0.5")
_TENTH = Decimal("0.1")
_PLACEHOLDER_TESTS = {"weighing": {"points": [{"load": "0 kg", "indication": "0 kg"}]}}

Plan = Generator[Step, Answer, PlanProduct]
#: A part of the plan (a test, one reading) returning nothing.
Part = Generator[Step, Answer, None]


@dataclass(frozen=True, slots=True)
class _Found:
    """An indication and, where the rounding error was eliminated, the change-point load dL."""

    indication: Decimal
    change_point: Decimal | None

    def as_record(self) -> dict[str, str]:
        values = {"indication": mass_text(self.indication)}
        if self.change_point is not None:
            values["change_point"] = mass_text(self.change_point)
        return values


@dataclass(frozen=True, slots=True)
class VerificationOptions:
    """What to do: the tests, rounding elimination (``auto``/``yes``/``no``), extra loads, weighings per
    repeatability series (``None``: the R 76 number), and whether to ask to stop at the first failure."""

    tests: tuple[str, ...] = DEFAULT_TESTS
    rounding_elimination: str = "auto"
    extra_loads: tuple[Decimal, ...] = ()
    weighings: int | None = None
    ask_on_failure: bool = True
    substitution: bool = False
    zero_load: Decimal | None = None

    @classmethod
    def from_json(cls, data: object) -> VerificationOptions:
        """Read options; :class:`InputError` names the field."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise InputError("options", "expected a mapping")
        known = {
            "tests",
            "rounding_elimination",
            "extra_loads",
            "weighings",
            "ask_on_failure",
            "substitution",
            "zero_load",
        }
        for key in data:
            if key not in known:
                raise InputError(f"options.{key}", f"unknown option (known: {', '.join(sorted(known))})")
        tests = data.get("tests", list(DEFAULT_TESTS))
        if not isinstance(tests, list | tuple) or not tests:
            raise InputError("options.tests", f"expected a non-empty list of {', '.join(TESTS)}")
        for index, name in enumerate(tests):
            if name not in TESTS:
                raise InputError(f"options.tests[{index}]", f"unknown test {name!r} (guided: {', '.join(TESTS)})")
        rounding = data.get("rounding_elimination", "auto")
        if rounding not in ("auto", "yes", "no"):
            raise InputError("options.rounding_elimination", f"expected auto, yes or no, got {rounding!r}")
        extra = data.get("extra_loads", [])
        if not isinstance(extra, list | tuple):
            raise InputError("options.extra_loads", "expected a list of loads such as '2 kg'")
        loads = tuple(parse_load(item, f"options.extra_loads[{i}]") for i, item in enumerate(extra))
        weighings = data.get("weighings")
        if weighings is not None and (isinstance(weighings, bool) or not isinstance(weighings, int) or weighings < 2):
            raise InputError("options.weighings", f"expected a whole number of at least 2, got {weighings!r}")
        ask = data.get("ask_on_failure", True)
        if not isinstance(ask, bool):
            raise InputError("options.ask_on_failure", "expected true or false")
        substitution = data.get("substitution", False)
        if not isinstance(substitution, bool):
            raise InputError("options.substitution", "expected true or false")
        zero_load = data.get("zero_load")
        near_zero = None if zero_load is None else parse_load(zero_load, "options.zero_load")
        ordered = tuple(name for name in TESTS if name in tests)
        return cls(ordered, str(rounding), loads, weighings, ask, substitution, near_zero)

    def as_json(self) -> dict[str, Any]:
        """Plain JSON form."""
        return {
            "tests": list(self.tests),
            "rounding_elimination": self.rounding_elimination,
            "extra_loads": [mass_text(load) for load in self.extra_loads],
            "weighings": self.weighings,
            "ask_on_failure": self.ask_on_failure,
            "substitution": self.substitution,
            "zero_load": None if self.zero_load is None else mass_text(self.zero_load),
        }


def _header(parameters: Mapping[str, Any]) -> dict[str, Any]:
    header = parameters.get("record")
    if not isinstance(header, Mapping):
        raise InputError("record", "expected the record header (instrument, operator, date, stage, rules, ...)")
    if "tests" in header:
        raise InputError("record.tests", "the tests are what the run records; leave them out of the header")
    data = {"format": "hengqi.verification-record", "version": 1, **json_safe(header)}
    try:
        parse_verification_record({**data, "tests": _PLACEHOLDER_TESTS})
    except RecordError as err:
        raise err.at("record") from None
    return data


def normalise(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Check the parameters of a verification run: ``{"record": header, "options": {...}}``."""
    header = _header(parameters)
    given = parameters.get("options")
    if given is None or isinstance(given, Mapping):  # a new run builds large loads by substitution unless told not
        given = {"substitution": True, **(given or {})}  # to (a stored run replays with its own options)
    options = VerificationOptions.from_json(given)
    unknown = set(parameters) - {"record", "options"}
    if unknown:
        raise InputError(sorted(unknown)[0], "unknown parameter (known: record, options)")
    record = parse_verification_record({**header, "tests": _PLACEHOLDER_TESTS})
    spec = instrument_specification(record.instrument.specification, path="record.instrument.specification")
    if "eccentricity" in options.tests and record.instrument.specification.supports is None:
        raise InputError(
            "record.instrument.specification.supports", "the eccentricity test needs the number of supports"
        )
    try:
        weighing_loads(spec, rules=record.rules)
        resolve_rule_set(record.rules).multiplier(record.stage)
    except InputError as err:
        raise InputError("record.rules", err.reason) from None
    for index, load in enumerate(options.extra_loads):
        if not spec.min_kg <= load <= spec.max_kg:
            raise InputError(f"options.extra_loads[{index}]", f"must lie between Min and Max, got {mass_text(load)}")
    if options.zero_load is None and "zero_load" not in given:
        options = replace(options, zero_load=zero_load(spec, record))
    check_weights(spec, record, options)
    header.pop("format")
    header.pop("version")
    return {"record": header, "options": options.as_json()}


def zero_load(spec: InstrumentSpecification, record: VerificationRecord) -> Decimal:
    """The load at or near zero where ``E0`` is found: 10 e ("e.g. at 10 e", ``standards.md`` 1.4), or, where the
    weights cannot make up 10 e exactly, their smallest weight if it is at most Min (still near zero: the lower
    limit of the weighing range; hengqi's choice, no source gives a rule) -- so that the plan never asks for a
    load the set cannot make up."""
    ten_e = ZERO_LOAD_E * spec.e_kg
    table = [(w.id, w.nominal) for w in record.reference_weights]
    if not table or compose(ten_e, table):
        return ten_e
    smallest = min(nominal for _id, nominal in table)
    return smallest if ten_e < smallest <= spec.min_kg else ten_e


def half_max(spec: InstrumentSpecification) -> Decimal:
    """About 50 % of Max, a multiple of e there (the repeatability and discrimination load)."""
    return multiple_of(spec.max_kg * _HALF, spec.e_at(spec.max_kg * _HALF))


def planned_loads(
    spec: InstrumentSpecification, record: VerificationRecord, options: VerificationOptions
) -> list[tuple[str, Decimal]]:
    """``(test, load)`` of every load the chosen tests place on the instrument (the weights the operator adds to
    find a change point or 1.4 d are small weights, not part of the set's loads)."""
    loads: list[tuple[str, Decimal]] = []
    for test in options.tests:
        if test == "weighing":
            loads += [(test, load) for load in weighing_loads(spec, rules=record.rules, extra=options.extra_loads)]
        elif test == "eccentricity":
            model = record.instrument.specification
            loads.append((test, eccentricity_load(spec, model.supports or 4, model.max_tare)))
        elif test == "repeatability":
            loads += [(test, half_max(spec)), (test, spec.max_kg)]
        elif test == "discrimination":
            loads += [(test, spec.min_kg), (test, half_max(spec)), (test, spec.max_kg)]
        if test in ("weighing", "eccentricity", "repeatability") and options.zero_load is not None:
            rounding = options.rounding_elimination
            auto = any(spec.d_at(load) > Decimal("0.2") * spec.e_at(load) for load in (spec.min_kg, spec.max_kg))
            if rounding == "yes" or (rounding == "auto" and auto):
                loads.append((f"{test} E0", options.zero_load))
    return loads


def substitution_levels(loads: Sequence[tuple[Decimal, str]], total_kg: Decimal) -> list[Decimal]:
    """The nominal substitute load under each ``(load, direction)`` of a weighing sequence, the weights making
    up ``total_kg`` in all: going up, a substitution of the whole set follows where the weights cannot make up
    the rest on top; going down, substitutes come off (whole, last first) where the load is below them.

    >>> sequence = [(Decimal(v), "increasing") for v in (10, 30, 40, 60)] + [(Decimal(40), "decreasing")]
    >>> [str(level) for level in substitution_levels(sequence, Decimal(20))]
    ['0', '20', '20', '40', '40']
    """
    levels: list[Decimal] = []
    level = Decimal(0)
    for load, direction in loads:
        if direction == "increasing":
            while load - level > total_kg:
                level += total_kg
        else:
            while level > 0 and load < level:
                level -= total_kg
        levels.append(level)
    return levels


def substitute_level(load: Decimal, total_kg: Decimal) -> Decimal:
    """The nominal substitute load under ``load`` placed from zero: the fewest whole-set substitutions after which
    the weights (``total_kg`` in all) can make up the rest on top, as in the weighing test going up.

    >>> str(substitute_level(Decimal(60000), Decimal(13000))), str(substitute_level(Decimal(13000), Decimal(13000)))
    ('52000', '0')
    """
    level = Decimal(0)
    while load - level > total_kg:
        level += total_kg
    return level


def _weighing_sequence(loads: Sequence[Decimal]) -> list[tuple[Decimal, str]]:
    return [(load, "increasing") for load in loads] + [(load, "decreasing") for load in reversed(loads[:-1])]


def check_weights(spec: InstrumentSpecification, record: VerificationRecord, options: VerificationOptions) -> None:
    """Refuse a run whose chosen weights cannot make up every load it will ask for, naming the loads and what is
    missing (the plan builds each load from the set's weights: :func:`hengqi.procedures.common.compose`; with
    substitution, weighing-test loads above the weights' total are built on substitute material, see the module,
    where the weights are at least 1/5 Max).  A header without weights is not checked (the record then names
    none)."""
    if not record.reference_weights:
        return
    table = [(w.id, w.nominal) for w in record.reference_weights]
    total = sum((nominal for _id, nominal in table), Decimal(0))
    smallest = min(nominal for _id, nominal in table)
    missing: dict[Decimal, list[str]] = {}
    substituted = False
    for test, load in planned_loads(spec, record, options):
        if options.substitution and load > total:
            substituted = True
            if test != "weighing":  # the weighing test is checked below with its sequence of substitutes
                level = substitute_level(load, total)
                if not compose(load - level, table):
                    missing.setdefault(load, []).append(test)
            continue
        if not compose(load, table):
            missing.setdefault(load, []).append(test)
    if substituted:
        loads = weighing_loads(spec, rules=record.rules, extra=options.extra_loads)
        sequence = _weighing_sequence(loads) if "weighing" in options.tests else []
        for (load, _direction), level in zip(sequence, substitution_levels(sequence, total), strict=True):
            if load != level and not compose(load - level, table):
                missing.setdefault(load, []).append("weighing")
        try:
            standard_share_limit(total, spec.max_kg, spec.e_at(total))
        except InputError as err:
            raise InputError("record.reference_weights", err.reason) from None
    if not missing:
        return
    parts = []
    for load, tests in sorted(missing.items()):
        if load > total:
            why = f"the weights add up to only {mass_text(total)}"
            if not options.substitution:
                why += " (substitution of standard weights is off)"
            else:
                why += f" and cannot make up the {mass_text(load - substitute_level(load, total))} on the substitute"
        elif load < smallest:
            why = f"the smallest weight is {mass_text(smallest)}"
        else:
            why = "no combination of the weights adds up to it exactly"
        parts.append(f"{mass_text(load)} ({', '.join(dict.fromkeys(tests))}: {why})")
    raise InputError(
        "record.reference_weights",
        f"the chosen weights cannot make up {'; '.join(parts)}; add weights of these values to the set or choose "
        "another set",
    )


def weighing_loads(
    spec: InstrumentSpecification, *, rules: str, extra: tuple[Decimal, ...] = ()
) -> tuple[Decimal, ...]:
    """The increasing loads of the weighing test: Min, MPE change points, 50 % Max, Max (and ``extra``).

    A change point is the last load of a band: ``upper_e x e(i)`` where a load on the edge takes the lower band
    (R 76-1 Table 6 as printed), one e less where the rule set puts it in the upper band; for several ranges
    also Max(i), where e changes.

    >>> spec = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
    >>> [str(load) for load in weighing_loads(spec, rules="oiml-r76")]
    ['0.100', '2.500', '7.5', '10.000', '15']
    """
    rule_set = resolve_rule_set(rules)
    loads = {spec.min_kg, spec.max_kg, *extra}
    half = spec.max_kg * _HALF
    loads.add(multiple_of(half, spec.e_at(half)))
    lower = spec.min_kg
    for index, part in enumerate(spec.ranges):
        for band in rule_set.bands_for(spec.accuracy_class):
            if band.upper_e is None:
                continue
            edge = band.upper_e * part.e_kg
            if rule_set.edge == "upper":
                edge -= part.e_kg
            if lower < edge < part.max_kg:
                loads.add(edge)
        if index < len(spec.ranges) - 1:
            loads.add(part.max_kg)
        lower = part.max_kg
    return tuple(sorted(loads))


def eccentricity_load(spec: InstrumentSpecification, supports: int, max_tare_kg: Decimal) -> Decimal:
    """The eccentricity test load: the rule's load as a whole multiple of e (down where allowed, else up).

    >>> spec = InstrumentSpecification.create(accuracy_class="III", max="30000 kg", e="10 kg")
    >>> eccentricity_load(spec, 8, Decimal(0))
    Decimal('4280')
    """
    asked = eccentricity_test_load(spec.max_kg, supports, max_tare_kg)
    e = spec.e_at(min(asked, spec.max_kg))
    if asked == multiple_of(asked, e):
        return asked
    allowance = ROUND_DOWN_ALLOWANCE_E.get(spec.accuracy_class.value, Decimal(0)) * e
    down = multiple_of(asked, e)
    return down if asked - down <= allowance else multiple_of(asked, e, up=True)


class _Verification:
    """The state of one guided verification while it runs."""

    def __init__(self, parameters: Mapping[str, Any]) -> None:
        self.header = _header(parameters)
        self.options = VerificationOptions.from_json(parameters.get("options"))
        record = parse_verification_record({**self.header, "tests": _PLACEHOLDER_TESTS})
        self.model = record
        self.spec = instrument_specification(record.instrument.specification)
        self.weights = weight_table(self.header.get("reference_weights") or [])
        self.tests: dict[str, dict[str, Any]] = {}
        self.shown: dict[str, str] = {}
        self.stopped = False
        self.asked = False
        self.total_kg = sum((nominal for _id, nominal in self.weights), Decimal(0))
        #: the substitutes on the receptor: (nominal load under and including it, sum(P_sub - P_s) so far)
        self.base: list[tuple[Decimal, Decimal]] = []
        #: every substitute established in the run, in the same form (the material stays the same between tests)
        self.material: list[tuple[Decimal, Decimal]] = []
        self.checked = False
        self.refused: str | None = None
        self.notes: list[str] = []

    # -- helpers ---------------------------------------------------------------------------------------------
    def changeover_at(self, load: Decimal) -> bool:
        """Whether the rounding error is eliminated at ``load``."""
        if self.options.rounding_elimination != "auto":
            return self.options.rounding_elimination == "yes"
        return self.spec.d_at(load) > Decimal("0.2") * self.spec.e_at(load)

    def place(self, load: Decimal, position: str = "centre") -> PlaceLoad:
        return PlaceLoad(load, position, tuple(self.weight_names(load)))

    def weight_names(self, load: Decimal) -> tuple[str, ...]:
        return compose(load, self.weights)

    def reading(self, load: Decimal, purpose: str, range_index: int | None = None) -> Generator[Step, Answer, _Found]:
        """Read at ``load`` (already placed) and find the change point where required: (I, dL or None).

        ``range_index``: the range in use on a multiple-range instrument (its e is then the step of the
        indication and so the change-point limit), else the range follows the load."""
        indication = as_mass((yield ReadStable(purpose, load)))
        change: Decimal | None = None
        if self.changeover_at(load):
            d = self.spec.d_at(load) if range_index is None else self.spec.ranges[range_index].e_kg
            change = as_mass((yield FindChangeover(load, d * _TENTH, d)))
        return _Found(indication, change)

    def range_in_use(self, load: Decimal, current: int | None) -> int | None:
        """The range in use at ``load`` on a multiple-range instrument, given the range in use before (``None``:
        the load came from zero): the smallest range covering the load, or the higher one in use, since the
        instrument returns to a lower range only when the load returns to zero (OIML R 76-1:2006 3.2 / 4.10 as
        cited; clause text not read).  ``None`` on other instruments."""
        if self.spec.kind is not InstrumentKind.MULTIPLE_RANGE:
            return None
        needed = self.spec.range_at(load)[0]
        return needed if current is None else max(current, needed)

    def zero_reading(self, test: str) -> Generator[Step, Answer, dict[str, str] | None]:
        """E0 at 10 e by the changeover-point method, where the test eliminates rounding errors."""
        yield ZeroScale()
        if not any(self.changeover_at(load) for load in (self.spec.min_kg, self.spec.max_kg)):
            return None
        load = self.options.zero_load or ZERO_LOAD_E * self.spec.e_kg
        yield self.place(load)
        indication = as_mass((yield ReadStable(f"{test}: near zero (E0)", load)))
        d = self.spec.d_at(load)
        change = as_mass((yield FindChangeover(load, d * _TENTH, d)))
        yield RemoveLoad()
        return {"load": mass_text(load), "indication": mass_text(indication), "change_point": mass_text(change)}

    # -- substitution of standard weights (see the module) ---------------------------------------------------
    def before_rounding(self, found: _Found, load: Decimal) -> Decimal:
        """The indication before rounding ``P = I + d/2 - dL`` where the change point was found, else ``I``."""
        if found.change_point is None:
            return found.indication
        return found.indication + self.spec.d_at(load) * _HALF - found.change_point

    def level(self) -> tuple[Decimal, Decimal]:
        return self.base[-1] if self.base else (Decimal(0), Decimal(0))

    def on_base(self, names: Sequence[str], *, taken_off: bool = False, put_on: bool = False) -> tuple[str, ...]:
        """The weights of a place step on the substitutes (named first)."""
        level = self.level()[0]
        if level <= 0:
            return (*names, "take the substitute material off") if taken_off else tuple(names)
        first = f"substitute {mass_text(level)} stays on the receptor"
        if put_on:
            first = f"substitute {mass_text(level)} (as established) on the receptor"
        if taken_off:
            first += " (take the substitute placed above it off)"
        return first, *names

    def substitution_check(self) -> Part:
        """Where the weights are less than 1/2 Max: the repeatability error at their load, 3 loadings, checked
        against R 76-1 3.7.3 as cited (:func:`~hengqi.metrology.r76.substitution.check_substitution`)."""
        total = self.total_kg
        if self.checked:
            return
        self.checked = True
        limit = standard_share_limit(total, self.spec.max_kg, self.spec.e_at(total))
        if limit is None:
            return
        values: list[Decimal] = []
        for number in range(1, 4):
            yield self.place(total)
            found = yield from self.reading(total, f"substitution check {mass_text(total)} #{number}")
            values.append(self.before_rounding(found, total))
            yield RemoveLoad()
        check = check_substitution(
            total, self.spec.max_kg, repeatability_error_kg=repeatability_error(values), e_kg=self.spec.e_at(total)
        )
        self.notes.append(
            f"Substitution of standard weights: the standard weights ({mass_text(total)}) placed 3 times indicated "
            + ", ".join(mass_text(v) for v in values)
            + f" (before rounding); {check.message}."
        )
        if not check.allowed:
            self.refused = check.message

    def substitute_up_to(self, load: Decimal) -> Part:
        """Substitutions of the whole set until the weights can make up the rest of ``load`` on top."""
        while load - self.level()[0] > self.total_kg:
            level, correction = self.level()
            names = self.weight_names(self.total_kg)
            on_receptor = level + self.total_kg
            number = len(self.base) + 1
            yield PlaceLoad(on_receptor, "centre", self.on_base(names))
            standard = yield from self.reading(on_receptor, f"substitution {number}: standard weights")
            yield Substitute(on_receptor, names, number)
            substitute = yield from self.reading(on_receptor, f"substitution {number}: substitute")
            difference = self.before_rounding(substitute, on_receptor) - self.before_rounding(standard, on_receptor)
            self.base.append((on_receptor, correction + difference))
            if len(self.base) > len(self.material):
                self.material = list(self.base)

    def substituting(self, load: Decimal) -> bool:
        """Whether ``load`` is built on substitute material (substitution on, the weights less than it)."""
        return self.options.substitution and bool(self.weights) and load > self.total_kg

    def substituted_load(self, load: Decimal, position: str = "centre") -> Generator[Step, Answer, PlaceLoad]:
        """The place step (from zero) of a load of another test above the weights: the substitute material
        established in the run back on the receptor, the weights on top; the substitutes not yet established are
        established first (the receptor is empty before and after)."""
        count = int(substitute_level(load, self.total_kg) / self.total_kg)
        if len(self.material) < count:
            self.base = list(self.material)
            if self.base:
                yield PlaceLoad(self.level()[0], "centre", self.on_base((), put_on=True))
            yield from self.substitute_up_to(load)
            yield RemoveLoad()
        self.base = self.material[:count]
        return PlaceLoad(load, position, self.on_base(self.weight_names(load - self.level()[0]), put_on=True))

    def load_step(self, load: Decimal, position: str = "centre") -> Generator[Step, Answer, PlaceLoad]:
        """The place step of a load placed from zero by the other tests, on substitutes where needed."""
        if self.substituting(load):
            return (yield from self.substituted_load(load, position))
        self.base = []
        return self.place(load, position)

    def substitute_fields(self, load: Decimal) -> dict[str, Any]:
        """``weights``, ``substitute`` and ``substitute_correction`` of a record item at ``load``."""
        level, correction = self.level() if self.substituting(load) else (Decimal(0), Decimal(0))
        fields: dict[str, Any] = {}
        names = self.weight_names(load - level)
        if names:
            fields["weights"] = list(names)
        if level > 0:
            fields["substitute"] = mass_text(level)
            fields["substitute_correction"] = mass_text(correction)
        return fields

    def check_before(self, loads: Sequence[Decimal]) -> Generator[Step, Answer, bool]:
        """The share rule's check before the first load built on substitutes; False where refused."""
        if any(self.substituting(load) for load in loads):
            yield from self.substitution_check()
        return self.refused is None

    def substituted_place(self, load: Decimal, direction: str) -> Generator[Step, Answer, PlaceLoad]:
        """The place step of a weighing load on substitutes (built up or taken off first)."""
        taken_off = False
        if direction == "increasing":
            yield from self.substitute_up_to(load)
        while self.base and load < self.base[-1][0]:
            self.base.pop()
            taken_off = True
        rest = load - self.level()[0]
        return PlaceLoad(load, "centre", self.on_base(self.weight_names(rest), taken_off=taken_off))

    def record_data(self, *, final: bool = False) -> dict[str, Any]:
        tests: dict[str, Any] = {}
        for name, data in self.tests.items():
            if name == "repeatability":
                series = [item for item in data["series"] if len(item["points"]) >= 2]
                if series:
                    tests[name] = {**data, "series": series}
            elif data.get("points"):
                tests[name] = data
        record = {**self.header, "tests": tests}
        for note in self.notes:
            record["notes"] = f"{record['notes']}\n{note}" if record.get("notes") else note
        if final and self.stopped:
            note = "Stopped by the operator after a failing result; tests not performed are missing."
            record["notes"] = f"{record['notes']}\n{note}" if record.get("notes") else note
        return record

    def evaluate(self) -> VerificationResult | None:
        data = self.record_data()
        if not data["tests"]:
            return None
        return _evaluate_text(json.dumps(data, sort_keys=True))

    def live(self) -> Part:
        """Evaluate the partial record; yield new or changed checks; ask once whether to go on after a failure."""
        try:
            result = self.evaluate()
        except HengqiError as err:  # never leave a run stuck: say so, and let the final evaluation tell
            yield Record("evaluation", unevaluated(KIND, str(err)))
            return
        if result is None:
            return
        failed = False
        for test in result.tests:
            for index, point in enumerate(test.points):
                key = f"{test.name}[{index}]"
                if self.shown.get(key) == point.message:
                    continue
                self.shown[key] = point.message
                yield Record(key, live_from_point(test.name, point))
                failed = failed or _fails(point)
        if failed and self.options.ask_on_failure and not self.asked:
            self.asked = True
            choice = yield Decide(
                "on-failure",
                N_("A result exceeds its limit: the instrument fails. Continue the remaining tests, or stop here?"),
                ("continue", "stop"),
            )
            self.stopped = choice == "stop"

    # -- the tests -------------------------------------------------------------------------------------------
    def weighing(self) -> Part:
        data: dict[str, Any] = {"points": []}
        self.tests["weighing"] = data
        zero = yield from self.zero_reading("weighing")
        if zero is not None:
            data["zero"] = zero
        loads = weighing_loads(self.spec, rules=self.model.rules, extra=self.options.extra_loads)
        sequence = _weighing_sequence(loads)
        substituting = self.substituting(loads[-1])
        if not (yield from self.check_before(loads)):
            return
        in_use: int | None = None  # the load starts from zero; it returns there only after the last load
        for load, direction in sequence:
            if substituting:
                step = yield from self.substituted_place(load, direction)
            else:
                step = self.place(load)
            yield step
            in_use = self.range_in_use(load, in_use)
            found = yield from self.reading(load, f"weighing {direction}", in_use)
            point: dict[str, Any] = {"load": mass_text(load), "direction": direction}
            if in_use is not None:
                point["range"] = in_use + 1
            point.update(found.as_record())
            level, correction = self.level()
            names = self.weight_names(load - level) if substituting else step.weights
            if level > 0:
                point["substitute"] = mass_text(level)
                point["substitute_correction"] = mass_text(correction)
            if names:
                point["weights"] = list(names)
            data["points"].append(point)
            yield from self.live()
            if self.stopped:
                break
        yield RemoveLoad()
        self.base = []

    def eccentricity(self) -> Part:
        spec_model = self.model.instrument.specification
        supports = spec_model.supports or 4
        load = eccentricity_load(self.spec, supports, spec_model.max_tare)
        positions = QUARTER_POSITIONS if supports <= 4 else tuple(f"support {i}" for i in range(1, supports + 1))
        data: dict[str, Any] = {"load": mass_text(load), "points": []}
        if not (yield from self.check_before([load])):
            return
        in_use = self.range_in_use(load, None)  # the load is placed from zero
        if in_use is not None:
            data["range"] = in_use + 1
        self.tests["eccentricity"] = data
        zero = yield from self.zero_reading("eccentricity")
        if zero is not None:
            data["zero"] = zero
        for position in positions:
            yield (yield from self.load_step(load, position))
            data.update(self.substitute_fields(load))
            found = yield from self.reading(load, f"eccentricity {position}", in_use)
            data["points"].append({"position": position, **found.as_record()})
            yield from self.live()
            if self.stopped:
                break
        yield RemoveLoad()

    def repeatability(self) -> Part:
        max_kg = self.spec.max_kg
        count = self.options.weighings or (10 if max_kg < 1000 else 3)
        half = half_max(self.spec)
        data: dict[str, Any] = {"series": []}
        if not (yield from self.check_before([half, max_kg])):
            return
        self.tests["repeatability"] = data
        zero = yield from self.zero_reading("repeatability")
        if zero is not None:
            data["zero"] = zero
        for load in (half, max_kg):
            series: dict[str, Any] = {"load": mass_text(load), "points": []}
            in_use = self.range_in_use(load, None)  # each weighing starts from zero
            if in_use is not None:
                series["range"] = in_use + 1
            data["series"].append(series)
            for number in range(1, count + 1):
                yield (yield from self.load_step(load))
                series.update(self.substitute_fields(load))
                found = yield from self.reading(load, f"repeatability {mass_text(load)} #{number}", in_use)
                series["points"].append(found.as_record())
                yield RemoveLoad()
                yield from self.live()
                if self.stopped:
                    return

    def zero_setting(self) -> Part:
        """Zero-setting accuracy: after zero setting, the deviation of zero by the changeover method at zero
        (``|E0| <= 0.25 e``; SECONDARY, see :mod:`hengqi.metrology.r76.zero_tare`)."""
        data: dict[str, Any] = {"points": []}
        self.tests["zero_setting"] = data
        yield RemoveLoad()
        yield ZeroScale()
        zero = Decimal(0)
        d = self.spec.d_at(zero)
        indication = as_mass((yield ReadStable("zero setting: at zero", zero)))
        change = as_mass((yield FindChangeover(zero, d * _TENTH, d)))
        yield RemoveLoad()
        data["points"].append(
            {"load": mass_text(zero), "indication": mass_text(indication), "change_point": mass_text(change)}
        )
        yield from self.live()

    def discrimination(self) -> Part:
        data: dict[str, Any] = {"points": []}
        half = half_max(self.spec)
        if not (yield from self.check_before([self.spec.min_kg, half, self.spec.max_kg])):
            return
        self.tests["discrimination"] = data
        yield ZeroScale()
        for load in (self.spec.min_kg, half, self.spec.max_kg):
            in_use = self.range_in_use(load, None)  # each load is placed from zero
            d = self.spec.d_at(load) if in_use is None else self.spec.ranges[in_use].e_kg
            extra = EXTRA_LOAD_D * d
            yield (yield from self.load_step(load))
            yield FindChangeover(load, d * _TENTH, d, remove_one=True)
            before = as_mass((yield ReadStable("discrimination: at the change point", load)))
            yield AddLoad(extra)
            after = as_mass((yield ReadStable("discrimination: after adding 1.4 d", load + extra)))
            yield RemoveLoad()
            point: dict[str, Any] = {
                "load": mass_text(load),
                "indication": mass_text(before),
                "indication_after": mass_text(after),
                "extra_load": mass_text(extra),
            }
            fields = self.substitute_fields(load)
            fields.pop("weights", None)  # the discrimination record names no weights
            point.update(fields)
            if in_use is not None:
                point["range"] = in_use + 1
            data["points"].append(point)
            yield from self.live()
            if self.stopped:
                return


@functools.lru_cache(maxsize=2048)
def _evaluate_text(text: str) -> VerificationResult:
    """Evaluate a (partial) record given as JSON text; cached, so that replaying a run does not evaluate the same
    partial records again (results are immutable values)."""
    return evaluate(parse_verification_record(json.loads(text)))


def _fails(point: PointResult) -> bool:
    return not point.passed


def verification_plan(parameters: Mapping[str, Any]) -> Plan:
    """The guided verification: startup, the chosen tests in order, the record evaluated (see the module)."""
    run = _Verification(parameters)
    spec, model = run.spec, run.model
    instrument = model.instrument
    stage = f"{model.stage}"
    yield Prompt(
        N_(
            "Verification of {instrument} (class {accuracy_class}, Max {max}, e {e}), {stage} under {rules}. Check "
            "that the instrument is level, warmed up and clean, and that the reference weights are at hand."
        ).format(
            instrument=instrument.id,
            accuracy_class=f"{spec.accuracy_class}",
            max=mass_text(spec.max_kg),
            e=mass_text(spec.e_kg),
            stage=STAGES.get(stage, f"{stage} verification"),
            rules=f"{model.rules}",
        )
    )
    yield RemoveLoad()
    for name in run.options.tests:
        yield from getattr(run, name.replace("-", "_"))()
        if run.stopped or run.refused is not None:
            break
    data = run.record_data(final=True)
    if run.refused is not None:
        return PlanProduct(KIND, data, None, (f"substitution refused: {run.refused}",), run.refused)
    try:
        result = evaluate(parse_verification_record(data))
    except HengqiError as err:
        return PlanProduct(KIND, data, None, (f"the record could not be evaluated: {err}",), str(err))
    summary = [f"verdict: {result.verdict.value}"]
    summary += [f"{failing.test}: {failing.point.message}" for failing in result.failing_points]
    return PlanProduct(KIND, data, result.verdict.value == "pass", tuple(summary))


DEFINITION = PlanDefinition(KIND, verification_plan, normalise=normalise)
