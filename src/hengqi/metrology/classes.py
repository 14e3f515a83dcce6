"""Accuracy classes and instrument specifications of non-automatic weighing instruments.

Sources (OIML R 76-1:2006 itself could not be read; its classification tables are known through the legal texts
that transpose them word for word, read in full, CONFIRMED in the shared reference, section 1.1 and 1.3):

- OIML R 76-1:2006, Table 3 = Directive 90/384/EEC and 2014/31/EU, Annex I, 2.1, Table 1 (accuracy classes);
- Directive Annex I, 2.2.1 to 2.2.3 (form of e and d, auxiliary indicating devices), 3.1 (single range),
  3.2 (multiple ranges), 3.3 and Table 2 (multi-interval instruments; R 76-1:2006, 3.3);
- Directive Annex I, 9: no indication above Max + 9 e.

A specification is checked when it is made; a rule broken is refused with a
:class:`~hengqi.errors.SpecificationError` naming the field and the rule.

>>> spec = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
>>> spec.n, spec.min_kg, spec.max_indication_kg
(Decimal('3000'), Decimal('0.100'), Decimal('15.045'))
>>> InstrumentSpecification.create(accuracy_class="III", max="100 kg", e="5 g")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
hengqi.errors.SpecificationError: max: n = Max/e = 20000 exceeds 10000 for class III with e = 5 g (OIML R 76-1...)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Final

from hengqi.errors import N_, InputError, NotCoveredError, SpecificationError
from hengqi.metrology.quantities import format_mass, parse_mass

#: A mass as accepted by :meth:`InstrumentSpecification.create`: exact kilograms or text with a unit ("15 kg").
MassInput = Decimal | int | str

RULE_TABLE_3: Final = "OIML R 76-1:2006, Table 3; Directive 2014/31/EU Annex I, 2.1, Table 1"
RULE_FORM: Final = "OIML R 76-1:2006; Directive 2014/31/EU Annex I, 2.2.1: e and d are 1, 2 or 5 x 10^k"
RULE_D_EQUALS_E: Final = "OIML R 76-1:2006; Directive 2014/31/EU Annex I, 2.2.2: d = e without an auxiliary device"
RULE_AUXILIARY: Final = "OIML R 76-1:2006; Directive 2014/31/EU Annex I, 2.2.3: e = 10^k g, d < e <= 10 d"
RULE_AUXILIARY_CLASS: Final = (
    "OIML R 76-1:2006; Directive 2014/31/EU Annex I, 3.1: auxiliary device only in class I or II"
)
RULE_MIN: Final = "OIML R 76-1:2006, Table 3; Directive 2014/31/EU Annex I, 2.1, Table 1 and 3.1: Min lower limit"
RULE_MULTI_INTERVAL: Final = "OIML R 76-1:2006, 3.3; Directive 2014/31/EU Annex I, 3.3"
RULE_TABLE_2: Final = "OIML R 76-1:2006, 3.3; Directive 2014/31/EU Annex I, 3.3, Table 2"
RULE_MULTIPLE_RANGE: Final = "OIML R 76-1:2006; Directive 2014/31/EU Annex I, 3.2: each range classified on its own"
RULE_MAX_INDICATION: Final = "OIML R 76-1:2006; Directive 2014/31/EU Annex I, 9: no indication above Max + 9 e"

_GRAM: Final = Decimal("0.001")
#: Overrange: no indication above Max + 9 e.
OVERRANGE_E: Final = Decimal(9)


class AccuracyClass(StrEnum):
    """Accuracy classes of non-automatic weighing instruments (OIML R 76-1:2006, 3.1; Directive Annex I, 2.1).

    I special, II high, III medium, IIII ordinary.
    """

    I = "I"  # noqa: E741 - the standard's name
    II = "II"
    III = "III"
    IIII = "IIII"


class InstrumentKind(StrEnum):
    """Single-interval, multi-interval (Directive Annex I, 3.3) or multiple-range (3.2) instrument."""

    SINGLE_INTERVAL = "single-interval"
    MULTI_INTERVAL = "multi-interval"
    MULTIPLE_RANGE = "multiple-range"


@dataclass(frozen=True, slots=True)
class PartialRange:
    """One partial weighing range (multi-interval) or one weighing range (multiple-range): its Max and e."""

    max_kg: Decimal
    e_kg: Decimal


@dataclass(frozen=True, slots=True)
class ClassRow:
    """One row of OIML R 76-1:2006 Table 3 (or of Directive Table 2 for partial ranges); bounds inclusive.

    ``min_factor`` is the Min lower limit in e (in d with an auxiliary device); ``None`` for ``e_max_kg`` or
    ``n_max`` means "no limit".
    """

    accuracy_class: AccuracyClass
    e_min_kg: Decimal
    e_max_kg: Decimal | None
    n_min: Decimal
    n_max: Decimal | None
    min_factor: Decimal

    def covers(self, e_kg: Decimal) -> bool:
        """Whether this row's e range holds ``e_kg`` (bounds inclusive)."""
        return self.e_min_kg <= e_kg and (self.e_max_kg is None or e_kg <= self.e_max_kg)

    def describe_e(self) -> str:
        """The row's e range as printed, e.g. ``"0.1 g <= e <= 2 g"``."""
        low = format_mass(self.e_min_kg, "g")
        if self.e_max_kg is None:
            return f"{low} <= e"
        return f"{low} <= e <= {format_mass(self.e_max_kg, 'g')}"


def _row(cls: AccuracyClass, e_g: tuple[str, str | None], n: tuple[int, int | None], min_factor: int) -> ClassRow:
    """A table row from the printed numbers: e range in grams, n range, Min lower limit in e."""
    return ClassRow(
        cls,
        Decimal(e_g[0]) * _GRAM,
        None if e_g[1] is None else Decimal(e_g[1]) * _GRAM,
        Decimal(n[0]),
        None if n[1] is None else Decimal(n[1]),
        Decimal(min_factor),
    )


_C = AccuracyClass
#: OIML R 76-1:2006 Table 3 = Directive Annex I Table 1 (CONFIRMED, shared reference 1.1).
TABLE_3: Final[tuple[ClassRow, ...]] = (
    _row(_C.I, ("0.001", None), (50_000, None), 100),
    _row(_C.II, ("0.001", "0.05"), (100, 100_000), 20),
    _row(_C.II, ("0.1", None), (5_000, 100_000), 50),
    _row(_C.III, ("0.1", "2"), (100, 10_000), 20),
    _row(_C.III, ("5", None), (500, 10_000), 20),
    _row(_C.IIII, ("5", None), (100, 1_000), 10),
)
#: Directive Annex I Table 2, multi-interval instruments (CONFIRMED with OCR defects, shared reference 1.3):
#: ``n_min`` is for n = Max(i)/e(i+1), ``n_max`` for n = Max(i)/e(i), ``min_factor`` in e1.
TABLE_2: Final[tuple[ClassRow, ...]] = (
    _row(_C.I, ("0.001", None), (50_000, None), 100),
    _row(_C.II, ("0.001", "0.05"), (5_000, 100_000), 20),
    _row(_C.II, ("0.1", None), (5_000, 100_000), 50),
    _row(_C.III, ("0.1", None), (500, 10_000), 20),
    _row(_C.IIII, ("5", None), (50, 1_000), 10),
)


def is_one_two_five(value_kg: Decimal) -> bool:
    """Whether a positive value has the form 1, 2 or 5 x 10^k (Directive Annex I, 2.2.1).

    >>> is_one_two_five(Decimal("0.005")), is_one_two_five(Decimal("0.0025")), is_one_two_five(Decimal("20"))
    (True, False, True)
    """
    if not value_kg.is_finite() or value_kg <= 0:
        return False
    return value_kg.normalize().as_tuple().digits in ((1,), (2,), (5,))


def _is_power_of_ten(value_kg: Decimal) -> bool:
    return value_kg > 0 and value_kg.normalize().as_tuple().digits == (1,)


def class_row(accuracy_class: AccuracyClass, e_kg: Decimal, table: Sequence[ClassRow] = TABLE_3) -> ClassRow | None:
    """The row of ``table`` (Table 3 by default) for a class and e, or ``None`` if e is outside the class."""
    for row in table:
        if row.accuracy_class == accuracy_class and row.covers(e_kg):
            return row
    return None


def _g(kg: Decimal) -> str:
    return format_mass(kg, "g")


def _plain(value: Decimal) -> Decimal:
    """An integral Decimal without exponent (``3E+3`` -> ``3000``); other values normalised."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def _n_text(n: Decimal) -> str:
    return format(n.normalize(), "f")


def _row_for(cls: AccuracyClass, e_kg: Decimal, path: str, table: Sequence[ClassRow], rule: str) -> ClassRow:
    row = class_row(cls, e_kg, table)
    if row is None:
        allowed = " or ".join(r.describe_e() for r in table if r.accuracy_class == cls)
        params = {"e": _g(e_kg), "cls": f"{cls}", "allowed": allowed}
        template = N_("e = {e} is outside class {cls} ({allowed})")
        raise SpecificationError(path, template.format(**params), rule=rule, template=template, params=params)
    return row


def _check_form(value_kg: Decimal, path: str, name: str) -> None:
    if not is_one_two_five(value_kg):
        params = {"name": name, "value": _g(value_kg)}
        template = N_("{name} = {value} is not 1, 2 or 5 x 10^k")
        raise SpecificationError(path, template.format(**params), rule=RULE_FORM, template=template, params=params)


def _check_n(cls: AccuracyClass, max_kg: Decimal, e_kg: Decimal, row: ClassRow, *, path: str, rule: str) -> None:
    n = max_kg / e_kg
    if max_kg < row.n_min * e_kg:
        params = {"n": _n_text(n), "limit": _n_text(row.n_min), "cls": f"{cls}", "e": _g(e_kg)}
        template = N_("n = Max/e = {n} is below {limit} for class {cls} with e = {e}")
        raise SpecificationError(path, template.format(**params), rule=rule, template=template, params=params)
    if row.n_max is not None and max_kg > row.n_max * e_kg:
        params = {"n": _n_text(n), "limit": _n_text(row.n_max), "cls": f"{cls}", "e": _g(e_kg)}
        template = N_("n = Max/e = {n} exceeds {limit} for class {cls} with e = {e}")
        raise SpecificationError(path, template.format(**params), rule=rule, template=template, params=params)


@dataclass(frozen=True, slots=True)
class InstrumentSpecification:
    """Metrological data of a non-automatic weighing instrument, checked against its class on construction.

    ``e_kg`` is the verification scale interval (e1, the smallest, for multi-interval and multiple-range
    instruments), ``d_kg`` the actual scale interval (smaller than e only with an auxiliary indicating device),
    ``min_kg`` the declared Min (at least the class's lower limit), ``ranges`` the partial ranges (multi-interval)
    or weighing ranges (multiple-range) in increasing order; one element for a single-interval instrument.
    Use :meth:`create` to build one from text.

    >>> spec = InstrumentSpecification.create(
    ...     accuracy_class="III", kind="multi-interval", ranges=[("6 kg", "2 g"), ("15 kg", "5 g"), ("30 kg", "10 g")]
    ... )
    >>> spec.e_at(Decimal("6")), spec.e_at(Decimal("6.005")), spec.min_kg
    (Decimal('0.002'), Decimal('0.005'), Decimal('0.040'))
    """

    accuracy_class: AccuracyClass
    max_kg: Decimal
    e_kg: Decimal
    d_kg: Decimal
    min_kg: Decimal
    kind: InstrumentKind = InstrumentKind.SINGLE_INTERVAL
    ranges: tuple[PartialRange, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.ranges:
            object.__setattr__(self, "ranges", (PartialRange(self.max_kg, self.e_kg),))
        validate_specification(self)

    # -- construction ---------------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        *,
        accuracy_class: AccuracyClass | str,
        max: MassInput | None = None,
        e: MassInput | None = None,
        d: MassInput | None = None,
        min: MassInput | None = None,
        ranges: Sequence[PartialRange | tuple[MassInput, MassInput] | Mapping[str, MassInput]] | None = None,
        kind: InstrumentKind | str | None = None,
    ) -> InstrumentSpecification:
        """Build and check a specification from exact kilograms or mass text (``"15 kg"``).

        ``min`` defaults to the class's lower limit. For multi-interval and multiple-range instruments give
        ``ranges`` as ``(Max(i), e(i))`` pairs (or mappings with ``max`` and ``e``) in increasing order; ``max``
        and ``e``, if also given, must equal Max(r) and e1.

        >>> InstrumentSpecification.create(accuracy_class="II", max="220 g", e="0.01 g", d="0.001 g").min_kg
        Decimal('0.000020')
        """
        klass = parse_accuracy_class(accuracy_class)
        kind_value = _parse_kind(kind, ranges)
        min_kg = None if min is None else _mass(min, "min")
        if kind_value is InstrumentKind.SINGLE_INTERVAL:
            if ranges is not None and len(ranges) != 1:
                raise InputError("ranges", "a single-interval instrument has exactly one range; give kind")
            if ranges is not None:
                only = _partial_range(ranges[0], "ranges[0]")
                max_kg, e_kg = only.max_kg, only.e_kg
                if max is not None and _mass(max, "max") != max_kg:
                    raise InputError("max", "differs from the Max of ranges[0]")
                if e is not None and _mass(e, "e") != e_kg:
                    raise InputError("e", "differs from the e of ranges[0]")
            else:
                if max is None:
                    raise InputError("max", "Max is required")
                if e is None:
                    raise InputError("e", "e is required")
                max_kg, e_kg = _mass(max, "max"), _mass(e, "e")
            d_kg = e_kg if d is None else _mass(d, "d")
            parts: tuple[PartialRange, ...] = (PartialRange(max_kg, e_kg),)
        else:
            if not ranges or len(ranges) < 2:
                raise InputError("ranges", f"a {kind_value} instrument needs at least two ranges")
            parts = tuple(_partial_range(item, f"ranges[{i}]") for i, item in enumerate(ranges))
            max_kg, e_kg = parts[-1].max_kg, parts[0].e_kg
            if max is not None and _mass(max, "max") != max_kg:
                raise InputError("max", f"must equal the Max of the last range ({format_mass(max_kg)})")
            if e is not None and _mass(e, "e") != e_kg:
                raise InputError("e", f"must equal e1, the e of the first range ({format_mass(e_kg)})")
            d_kg = e_kg if d is None else _mass(d, "d")
        if min_kg is None:
            _validate_kind(klass, kind_value, parts, d_kg)  # refuse e, d, n first: the default Min needs a valid e
            min_kg = min_lower_limit(klass, parts, d_kg, kind_value)
        return cls(klass, max_kg, e_kg, d_kg, min_kg, kind_value, parts)

    # -- derived values -------------------------------------------------------------------------------------
    @property
    def has_auxiliary_device(self) -> bool:
        """Whether d < e: an auxiliary indicating device (Directive Annex I, 2.2.3)."""
        return self.d_kg < self.e_kg

    @property
    def n(self) -> Decimal:
        """n = Max/e (for multi-interval and multiple-range instruments: Max(r)/e(r), the last range)."""
        last = self.ranges[-1]
        return _plain(last.max_kg / last.e_kg)

    @property
    def max_indication_kg(self) -> Decimal:
        """Max + 9 e (e of the last range): nothing may be indicated above (Directive Annex I, 9)."""
        return self.max_kg + OVERRANGE_E * self.ranges[-1].e_kg

    def range_at(self, load_kg: Decimal, range_index: int | None = None) -> tuple[int, PartialRange]:
        """The (index, range) that applies at a load.

        Multi-interval: the partial range holding the load (Min(i) = Max(i-1) < load <= Max(i); a load exactly
        at Max(i) belongs to range i). Multiple-range: ``range_index`` if given, else the smallest range whose
        Max covers the load. Loads up to Max + 9 e belong to the last range; beyond, :class:`NotCoveredError`.
        """
        load = _load(load_kg)
        if load > self.max_indication_kg:
            raise NotCoveredError(
                "load",
                f"{format_mass(load)} is above Max + 9 e = {format_mass(self.max_indication_kg)} "
                f"({RULE_MAX_INDICATION})",
            )
        if range_index is not None:
            if self.kind is not InstrumentKind.MULTIPLE_RANGE:
                raise InputError("range", f"a range can be named only on a multiple-range instrument ({self.kind})")
            if not 0 <= range_index < len(self.ranges):
                raise InputError("range", f"no range {range_index + 1}: the instrument has {len(self.ranges)}")
            chosen = self.ranges[range_index]
            limit = chosen.max_kg + OVERRANGE_E * chosen.e_kg
            if load > limit:
                raise NotCoveredError("load", f"{format_mass(load)} is above Max + 9 e of range {range_index + 1}")
            return range_index, chosen
        for index, part in enumerate(self.ranges):
            if load <= part.max_kg:
                return index, part
        return len(self.ranges) - 1, self.ranges[-1]

    def e_at(self, load_kg: Decimal) -> Decimal:
        """The verification scale interval that applies at a load (e(i) of its range; see :meth:`range_at`)."""
        return self.range_at(load_kg)[1].e_kg

    def d_at(self, load_kg: Decimal) -> Decimal:
        """The actual scale interval at a load: d on a single-interval instrument, else e(i) (d = e there)."""
        if self.kind is InstrumentKind.SINGLE_INTERVAL:
            self.range_at(load_kg)
            return self.d_kg
        return self.e_at(load_kg)


def parse_accuracy_class(value: AccuracyClass | str, *, path: str = "accuracy_class") -> AccuracyClass:
    """Read an accuracy class as written (``"III"``, ``"iii"``, ``"3"``); :class:`InputError` if unknown.

    >>> parse_accuracy_class("3")
    <AccuracyClass.III: 'III'>
    """
    if isinstance(value, AccuracyClass):
        return value
    text = str(value).strip().upper()
    text = {"1": "I", "2": "II", "3": "III", "4": "IIII"}.get(text, text)
    try:
        return AccuracyClass(text)
    except ValueError:
        known = ", ".join(c.value for c in AccuracyClass)
        raise InputError(path, f"unknown accuracy class {value!r} (known: {known})") from None


def _parse_kind(kind: InstrumentKind | str | None, ranges: Sequence[object] | None) -> InstrumentKind:
    if kind is None:
        if ranges is not None and len(ranges) > 1:
            raise InputError("kind", "several ranges given: say multi-interval or multiple-range")
        return InstrumentKind.SINGLE_INTERVAL
    try:
        return InstrumentKind(str(kind).strip().lower())
    except ValueError:
        known = ", ".join(k.value for k in InstrumentKind)
        raise InputError("kind", f"unknown instrument kind {kind!r} (known: {known})") from None


def _mass(value: object, path: str) -> Decimal:
    kg = parse_mass(value, path=path, default_unit="kg")
    if kg <= 0:
        raise InputError(path, "must be greater than zero")
    return kg


def _load(value: object) -> Decimal:
    if not isinstance(value, Decimal):
        return parse_mass(value, path="load", default_unit="kg")
    if not value.is_finite():
        raise InputError("load", f"must be a finite number, got {value}")
    if value < 0:
        raise InputError("load", f"must not be negative, got {format_mass(value)}")
    return value


def _partial_range(item: object, path: str) -> PartialRange:
    if isinstance(item, PartialRange):
        return PartialRange(_mass(item.max_kg, f"{path}.max"), _mass(item.e_kg, f"{path}.e"))
    if isinstance(item, Mapping):
        if "max" not in item or "e" not in item:
            raise InputError(path, "a range needs 'max' and 'e'")
        return PartialRange(_mass(item["max"], f"{path}.max"), _mass(item["e"], f"{path}.e"))
    if isinstance(item, tuple | list) and len(item) == 2:
        return PartialRange(_mass(item[0], f"{path}.max"), _mass(item[1], f"{path}.e"))
    raise InputError(path, "a range is (Max, e), e.g. ('6 kg', '2 g')")


def min_lower_limit(
    accuracy_class: AccuracyClass, ranges: Sequence[PartialRange], d_kg: Decimal, kind: InstrumentKind
) -> Decimal:
    """The lower limit of Min: Table 3 in e (in d with an auxiliary device), Table 2 in e1 for multi-interval.

    OIML R 76-1:2006, Table 3; Directive Annex I, 2.1 Table 1, 3.1 (with an auxiliary device column 3 is read
    with d for e; the row is still chosen by e) and 3.3 Table 2 (in e1; the French text prints e(i), the Romanian
    e1, and e1 is kept because Min(1) = Min). Multiple-range: the first range's row. ``min`` of a spec outside
    its class raises :class:`SpecificationError`.

    >>> min_lower_limit(AccuracyClass.III, [PartialRange(Decimal("15"), Decimal("0.005"))], Decimal("0.005"),
    ...                 InstrumentKind.SINGLE_INTERVAL)
    Decimal('0.100')
    """
    first = ranges[0]
    table = TABLE_2 if kind is InstrumentKind.MULTI_INTERVAL else TABLE_3
    rule = RULE_TABLE_2 if kind is InstrumentKind.MULTI_INTERVAL else RULE_MIN
    row = _row_for(accuracy_class, first.e_kg, "e", table, rule)
    unit = d_kg if (kind is InstrumentKind.SINGLE_INTERVAL and d_kg < first.e_kg) else first.e_kg
    return row.min_factor * unit


def validate_specification(spec: InstrumentSpecification) -> None:
    """Check a specification against the rules of its class; the first rule broken raises SpecificationError.

    Rules (each error names its clause): OIML R 76-1:2006 Table 3 / Directive Annex I 2.1 Table 1 (e range, n
    limits, Min lower limit; bounds inclusive), 2.2.1 (1, 2, 5 x 10^k), 2.2.2 and 2.2.3 (d = e, or e = 10^k g
    and d < e <= 10 d; class I with d < 10^-4 g has e = 10^-3 g and may have Max below 50 000 e), 3.1 (auxiliary
    device only in classes I and II), 3.2 (multiple ranges: each range classified on its own), 3.3 and Table 2
    (multi-interval: e(i+1) > e(i), Max(i)/e(i+1) >= n min, Max(i)/e(i) <= n max, Table 1 for i = r with e(r),
    no auxiliary device).
    """
    cls = parse_accuracy_class(spec.accuracy_class)
    for name in ("max_kg", "e_kg", "d_kg", "min_kg"):
        value = getattr(spec, name)
        if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
            raise InputError(name.removesuffix("_kg"), f"must be a positive exact Decimal in kg, got {value!r}")
    if not spec.ranges:
        raise InputError("ranges", "at least one range is needed")
    first, last = spec.ranges[0], spec.ranges[-1]
    if last.max_kg != spec.max_kg:
        raise InputError("max", "must equal the Max of the last range")
    if first.e_kg != spec.e_kg:
        raise InputError("e", "must equal the e of the first range")
    _validate_kind(cls, spec.kind, spec.ranges, spec.d_kg)
    lower = min_lower_limit(cls, spec.ranges, spec.d_kg, spec.kind)
    if spec.min_kg < lower:
        rule = RULE_TABLE_2 if spec.kind is InstrumentKind.MULTI_INTERVAL else RULE_MIN
        params = {"min": _g(spec.min_kg), "lower": _g(lower), "cls": f"{cls}"}
        template = N_("Min = {min} is below the lower limit {lower} for class {cls}")
        raise SpecificationError("min", template.format(**params), rule=rule, template=template, params=params)
    if spec.min_kg >= first.max_kg:
        raise InputError("min", f"Min = {format_mass(spec.min_kg)} must be below Max = {format_mass(first.max_kg)}")


def _validate_kind(cls: AccuracyClass, kind: InstrumentKind, ranges: Sequence[PartialRange], d_kg: Decimal) -> None:
    if kind is InstrumentKind.SINGLE_INTERVAL:
        if len(ranges) != 1:
            raise InputError("ranges", "a single-interval instrument has exactly one range")
        _validate_single(cls, ranges[0].max_kg, ranges[0].e_kg, d_kg)
    elif kind is InstrumentKind.MULTI_INTERVAL:
        _validate_multi_interval(cls, ranges, d_kg)
    else:
        _validate_multiple_range(cls, ranges, d_kg)


def _validate_single(cls: AccuracyClass, max_kg: Decimal, e_kg: Decimal, d_kg: Decimal) -> None:
    _check_form(e_kg, "e", "e")
    _check_form(d_kg, "d", "d")
    if d_kg > e_kg:
        raise SpecificationError("d", f"d = {_g(d_kg)} is larger than e = {_g(e_kg)}", rule=RULE_D_EQUALS_E)
    class_i_fine = False
    if d_kg < e_kg:
        if cls not in (AccuracyClass.I, AccuracyClass.II):
            raise SpecificationError(
                "d", f"d < e (an auxiliary indicating device) is not allowed in class {cls}", rule=RULE_AUXILIARY_CLASS
            )
        class_i_fine = cls is AccuracyClass.I and d_kg < Decimal("1E-4") * _GRAM
        if class_i_fine:
            if e_kg != _GRAM * _GRAM:
                raise SpecificationError("e", "class I with d < 0.0001 g must have e = 0.001 g", rule=RULE_AUXILIARY)
        else:
            if not _is_power_of_ten(e_kg / _GRAM):
                raise SpecificationError(
                    "e", f"with an auxiliary device e must be 1 x 10^k g, got {_g(e_kg)}", rule=RULE_AUXILIARY
                )
            if e_kg > 10 * d_kg:
                raise SpecificationError(
                    "d", f"e = {_g(e_kg)} exceeds 10 d = {_g(10 * d_kg)}; need d < e <= 10 d", rule=RULE_AUXILIARY
                )
    row = _row_for(cls, e_kg, "e", TABLE_3, RULE_TABLE_3)
    if class_i_fine:  # Directive Annex I, 3.1: with d < 10^-4 g, Max of class I may be below 50 000 e
        row = ClassRow(row.accuracy_class, row.e_min_kg, row.e_max_kg, Decimal(0), row.n_max, row.min_factor)
    _check_n(cls, max_kg, e_kg, row, path="max", rule=RULE_TABLE_3)


def _validate_multi_interval(cls: AccuracyClass, ranges: Sequence[PartialRange], d_kg: Decimal) -> None:
    if len(ranges) < 2:
        raise InputError("ranges", "a multi-interval instrument has at least two partial ranges")
    if d_kg != ranges[0].e_kg:
        raise SpecificationError(
            "d", "a multi-interval instrument may not have an auxiliary indicating device (d = e)",
            rule=RULE_MULTI_INTERVAL,
        )  # fmt: skip
    r = len(ranges)
    for i, part in enumerate(ranges):
        _check_form(part.e_kg, f"ranges[{i}].e", f"e{i + 1}")
        _row_for(cls, part.e_kg, f"ranges[{i}].e", TABLE_2, RULE_TABLE_2)
        if i > 0:
            before = ranges[i - 1]
            if part.e_kg <= before.e_kg:
                raise SpecificationError(
                    f"ranges[{i}].e", f"e{i + 1} = {_g(part.e_kg)} must be larger than e{i} = {_g(before.e_kg)}",
                    rule=RULE_MULTI_INTERVAL,
                )  # fmt: skip
            if part.max_kg <= before.max_kg:
                raise SpecificationError(
                    f"ranges[{i}].max", f"Max{i + 1} must be larger than Max{i}", rule=RULE_MULTI_INTERVAL
                )
    for i, part in enumerate(ranges[:-1]):
        row = _row_for(cls, part.e_kg, f"ranges[{i}].e", TABLE_2, RULE_TABLE_2)
        following = ranges[i + 1].e_kg
        label = f"Max{i + 1}/e{i + 2}"
        if part.max_kg < row.n_min * following:
            raise SpecificationError(
                f"ranges[{i}].max",
                f"n = {label} = {_n_text(part.max_kg / following)} is below {_n_text(row.n_min)} for class {cls}",
                rule=RULE_TABLE_2,
            )
        if row.n_max is not None and part.max_kg > row.n_max * part.e_kg:
            raise SpecificationError(
                f"ranges[{i}].max",
                f"n = Max{i + 1}/e{i + 1} = {_n_text(part.max_kg / part.e_kg)} exceeds {_n_text(row.n_max)} "
                f"for class {cls}",
                rule=RULE_TABLE_2,
            )
    last = ranges[-1]
    row = _row_for(cls, last.e_kg, f"ranges[{r - 1}].e", TABLE_3, RULE_TABLE_2 + " note (1): Table 1 with e(r)")
    _check_n(
        cls,
        last.max_kg,
        last.e_kg,
        row,
        path=f"ranges[{r - 1}].max",
        rule=RULE_TABLE_2 + " note (1): Table 1 with e(r)",
    )


def _validate_multiple_range(cls: AccuracyClass, ranges: Sequence[PartialRange], d_kg: Decimal) -> None:
    if len(ranges) < 2:
        raise InputError("ranges", "a multiple-range instrument has at least two weighing ranges")
    if d_kg != ranges[0].e_kg:
        raise InputError("d", "auxiliary indicating devices on multiple-range instruments are not supported by hengqi")
    for i, part in enumerate(ranges):
        _check_form(part.e_kg, f"ranges[{i}].e", f"e{i + 1}")
        if i > 0:
            before = ranges[i - 1]
            if part.max_kg <= before.max_kg or part.e_kg < before.e_kg:
                raise InputError(f"ranges[{i}]", "ranges must be listed in order of increasing Max (and e)")
        row = _row_for(cls, part.e_kg, f"ranges[{i}].e", TABLE_3, RULE_MULTIPLE_RANGE + "; " + RULE_TABLE_3)
        _check_n(
            cls, part.max_kg, part.e_kg, row, path=f"ranges[{i}].max", rule=RULE_MULTIPLE_RANGE + "; " + RULE_TABLE_3
        )
