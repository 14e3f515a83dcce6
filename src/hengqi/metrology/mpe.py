"""Maximum permissible errors of non-automatic weighing instruments, exact.

The bands and stage multipliers come from a rule set (:mod:`hengqi.metrology.rulesets`): ``oiml-r76`` (OIML
R 76-1:2006, 3.5.1, Table 6; in service 2 x initial, 3.5.2; CONFIRMED) or ``jjg539`` (China JJG 539-1997 via a
secondary transcription; JJG 539-2016 NOT FOUND). Everything is :class:`~decimal.Decimal`: a load exactly on a
band edge takes the lower band (R 76-1 Table 6 as printed).

- Multi-interval instruments: the MPE is taken with e(i) of the partial range holding the load. Plausible but
  NOT confirmed: the text of R 76-1 3.3 and its example were not found (shared reference 1.3).
- Multiple-range instruments: the range in use; unless one is named, the smallest range whose Max covers the
  load (Directive Annex I, 3.2: each range is classified on its own).
- Loads above Max + 9 e raise :class:`~hengqi.errors.NotCoveredError`, negative loads
  :class:`~hengqi.errors.InputError`.

>>> from hengqi.metrology.classes import InstrumentSpecification
>>> spec = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
>>> mpe(Decimal("2.5"), spec), mpe(Decimal("2.505"), spec), mpe(Decimal("2.505"), spec, stage="in-service")
(Decimal('0.0025'), Decimal('0.005'), Decimal('0.01'))
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, getcontext

from hengqi.errors import InputError, NotCoveredError, SpecificationError
from hengqi.metrology.classes import (
    RULE_FORM,
    AccuracyClass,
    InstrumentSpecification,
    is_one_two_five,
    parse_accuracy_class,
)
from hengqi.metrology.quantities import format_mass, parse_mass
from hengqi.metrology.rulesets import DEFAULT_RULE_SET, RuleSet, Stage, parse_stage, resolve_rule_set

__all__ = ["MpeDetermination", "Stage", "determine_mpe", "mpe", "mpe_for_interval", "mpe_in_e"]


@dataclass(frozen=True, slots=True)
class MpeDetermination:
    """An MPE with how it was found: the e used, the load in e, the band MPE and the rule cited.

    ``range_index`` is the (0-based) partial or weighing range used; ``spec_checked`` says whether an instrument
    specification was checked against its class (false when only class and e were given).
    """

    load_kg: Decimal
    e_kg: Decimal
    load_in_e: Decimal
    mpe_e: Decimal
    mpe_kg: Decimal
    accuracy_class: AccuracyClass
    stage: Stage
    rules: str
    rule: str
    range_index: int
    spec_checked: bool


def _plain(value: Decimal) -> Decimal:
    # quantize() cannot write an integer longer than the context precision: such a value stays in E notation
    integral = value == value.to_integral_value() and value.adjusted() < getcontext().prec
    return value.quantize(Decimal(1)) if integral else value.normalize()


def mpe_in_e(
    m: Decimal | int | str,
    accuracy_class: AccuracyClass | str,
    stage: Stage | str = Stage.INITIAL,
    rules: str | RuleSet = DEFAULT_RULE_SET,
) -> Decimal:
    """MPE in e for a load of ``m`` verification scale intervals (OIML R 76-1:2006, 3.5.1, Table 6; 3.5.2).

    A load on a band edge takes the lower band (``edge="lower"`` rule sets). Beyond the top printed edge a load
    is covered for ``overrange_e`` (9) more e: Table 3 caps n at that edge and Max + 9 e may be indicated.

    >>> mpe_in_e(500, "III"), mpe_in_e(501, "III"), mpe_in_e(501, "III", "in-service")
    (Decimal('0.5'), Decimal('1.0'), Decimal('2.0'))
    >>> mpe_in_e(2001, "III", "in-service", "jjg539")
    Decimal('3.0')
    """
    rule_set = resolve_rule_set(rules)
    if isinstance(m, bool) or not isinstance(m, Decimal | int | str):
        raise InputError("load_in_e", f"expected a number, got {m!r}")
    try:
        value = m if isinstance(m, Decimal) else Decimal(str(m).strip())
    except ArithmeticError:
        raise InputError("load_in_e", f"not a number: {m!r}") from None
    if not value.is_finite():
        raise InputError("load_in_e", f"must be finite, got {m!r}")
    if value < 0:
        raise InputError("load_in_e", f"must not be negative, got {m}")
    return _band_mpe(rule_set, accuracy_class, stage, value, Decimal(1))


def _band_mpe(
    rule_set: RuleSet, accuracy_class: AccuracyClass | str, stage: Stage | str, load: Decimal, e: Decimal
) -> Decimal:
    """MPE in e of the band holding ``load`` (in any unit) for interval ``e`` (same unit).

    Edges are compared as ``load <= edge x e`` (a product of a few digits, exact) rather than through the quotient
    load/e, which is rounded to the context precision when it does not terminate (an e outside 1, 2, 5 x 10^k).
    """
    bands = rule_set.bands_for(accuracy_class)
    factor = rule_set.multiplier(stage)
    for band in bands:
        if band.upper_e is None:
            return band.mpe_e * factor
        edge = band.upper_e * e
        inside = load <= edge if rule_set.edge == "lower" else load < edge
        if inside:
            return band.mpe_e * factor
    top = bands[-1]
    top_edge = top.upper_e or Decimal(0)  # not None here: an open-ended top band returned in the loop
    if load <= (top_edge + rule_set.overrange_e) * e:
        return top.mpe_e * factor
    raise NotCoveredError(
        "load",
        f"{_plain(load / e)} e is beyond the {rule_set.id} bands of class {parse_accuracy_class(accuracy_class)} "
        f"(up to {_plain(top_edge)} e, plus {_plain(rule_set.overrange_e)} e over Max)",
    )


def _load(load_kg: Decimal | str) -> Decimal:
    if isinstance(load_kg, Decimal):
        if not load_kg.is_finite():
            raise InputError("load", f"must be a finite number, got {load_kg}")
        if load_kg < 0:
            raise InputError("load", f"must not be negative, got {format_mass(load_kg)}")
        return load_kg
    return parse_mass(load_kg, path="load", default_unit="kg")


def determine_mpe(
    load_kg: Decimal | str,
    spec: InstrumentSpecification,
    *,
    stage: Stage | str = Stage.INITIAL,
    rules: str | RuleSet = DEFAULT_RULE_SET,
    range_index: int | None = None,
) -> MpeDetermination:
    """The MPE at a load on a specified instrument, with the e, band and rule used.

    The e is that of the partial range (multi-interval; NOT confirmed, see the module note) or of the range in
    use (multiple-range; ``range_index`` 0-based, default the smallest range covering the load).
    """
    rule_set = resolve_rule_set(rules)
    stage_value = parse_stage(stage)
    load = _load(load_kg)
    index, part = spec.range_at(load, range_index)
    return _determination(
        load, part.e_kg, spec.accuracy_class, stage=stage_value, rule_set=rule_set, index=index, spec_checked=True
    )


def mpe_for_interval(
    load_kg: Decimal | str,
    accuracy_class: AccuracyClass | str,
    e_kg: Decimal | str,
    *,
    stage: Stage | str = Stage.INITIAL,
    rules: str | RuleSet = DEFAULT_RULE_SET,
) -> MpeDetermination:
    """The MPE from class, e and load alone (the band table); no instrument specification (Max, n, Min) is
    checked, but ``e`` must still have the form 1, 2 or 5 x 10^k (:data:`~hengqi.metrology.classes.RULE_FORM`).

    >>> mpe_for_interval("2.5 kg", "III", "5 g").mpe_kg
    Decimal('0.0025')
    >>> mpe_for_interval("1 kg", "III", "3 g")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hengqi.errors.SpecificationError: e: e = 3 g is not 1, 2 or 5 x 10^k (OIML R 76-1:2006; ... 2.2.1: ...)
    """
    rule_set = resolve_rule_set(rules)
    cls = parse_accuracy_class(accuracy_class)
    e_value = e_kg if isinstance(e_kg, Decimal) else parse_mass(e_kg, path="e", default_unit="kg")
    if not e_value.is_finite() or e_value <= 0:
        raise InputError("e", "must be greater than zero")
    if not is_one_two_five(e_value):
        raise SpecificationError("e", f"e = {format_mass(e_value)} is not 1, 2 or 5 x 10^k", rule=RULE_FORM)
    return _determination(
        _load(load_kg), e_value, cls, stage=parse_stage(stage), rule_set=rule_set, index=0, spec_checked=False
    )


def _determination(
    load: Decimal,
    e_kg: Decimal,
    cls: AccuracyClass,
    *,
    stage: Stage,
    rule_set: RuleSet,
    index: int,
    spec_checked: bool,
) -> MpeDetermination:
    m = load / e_kg  # for people; the band is found without dividing
    mpe_e = _band_mpe(rule_set, cls, stage, load, e_kg)
    return MpeDetermination(
        load_kg=load,
        e_kg=e_kg,
        load_in_e=_plain(m),
        mpe_e=mpe_e,
        mpe_kg=_plain(mpe_e * e_kg),
        accuracy_class=cls,
        stage=stage,
        rules=rule_set.id,
        rule=rule_set.rule_for(stage),
        range_index=index,
        spec_checked=spec_checked,
    )


def mpe(
    load_kg: Decimal | str,
    spec: InstrumentSpecification,
    *,
    stage: Stage | str = Stage.INITIAL,
    rules: str | RuleSet = DEFAULT_RULE_SET,
    range_index: int | None = None,
) -> Decimal:
    """MPE (positive magnitude, kg, exact) at a load: OIML R 76-1:2006, 3.5.1, Table 6 and 3.5.2 by default.

    >>> from hengqi.metrology.classes import InstrumentSpecification
    >>> spec = InstrumentSpecification.create(accuracy_class="II", max="6200 g", e="0.1 g")
    >>> mpe(Decimal("0.5"), spec), mpe(Decimal("0.5001"), spec)
    (Decimal('0.00005'), Decimal('0.0001'))
    """
    return determine_mpe(load_kg, spec, stage=stage, rules=rules, range_index=range_index).mpe_kg
