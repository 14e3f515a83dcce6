"""The range in use at a calibration reading, and its scale interval, on an instrument with several ranges.

A calibration to EURAMET cg-18 v4.0 evaluates the rounding of each indication with the scale interval of that
indication (cg-18 7.1.1, SECONDARY: ``u = d0/(2 sqrt 3)`` at no load, ``dL/(2 sqrt 3)`` at load).  Where the
instrument has several scale intervals, that interval depends on the range the reading was made in:

* **multi-interval** (one weighing range divided into partial ranges, OIML R 76-1:2006 T.3.2.5 / 3.3 as cited;
  Directive 2014/31/EU Annex I, 3.3): the partial range holding the load, ``Max(i-1) < L <= Max(i)`` (a load
  at ``Max(i)`` belongs to range ``i``), the rule of
  :meth:`hengqi.metrology.classes.InstrumentSpecification.range_at`; a range cannot be chosen;
* **multiple-range** (several weighing ranges, R 76-1:2006 T.3.2.4 / 3.2 and 4.10 as cited; clause text not
  read): the range goes up when the load passes ``Max(i)`` and returns to a lower range only when the load
  returns to zero, so a reading names its range; a load placed from zero is in the smallest range whose Max
  covers it.  A named range must be able to indicate the load: ``L <= Max(i) + 9 e(i)`` (Directive Annex I, 9,
  the limit the verification records use; ``d(i)`` where the range has no ``e``).

>>> from decimal import Decimal as D
>>> from hengqi.metrology.calibration.result import InstrumentSummary, RangeKind, WeighingRange
>>> two = InstrumentSummary(max_kg=D(15), d_kg=D("0.002"), kind=RangeKind.MULTIPLE_RANGE,
...     ranges=(WeighingRange(D(6), D("0.002")), WeighingRange(D(15), D("0.005"))))
>>> range_index(two, D(3)), range_index(two, D(3), 2), interval_at(two, D(3), 2)
(0, 1, Decimal('0.005'))
>>> range_after(two, D(3), 1)   # decreasing from 10 kg: still in range 2
1
"""

from __future__ import annotations

from decimal import Decimal

from hengqi.errors import InputError
from hengqi.metrology.calibration.result import InstrumentSummary, RangeKind
from hengqi.metrology.quantities import format_mass

#: Indications above Max + 9 e are blanked (Directive 2014/31/EU Annex I, 9; as :mod:`hengqi.metrology.classes`).
OVERRANGE_E = Decimal(9)


def range_index(instrument: InstrumentSummary, load_kg: Decimal, number: int | None = None) -> int | None:
    """The 0-based range in use at ``load_kg``; ``number`` is a range named by a reading (1 = first).

    ``None`` on a single-interval instrument (no range named).  :class:`InputError` (path ``range``) where a
    range is named on an instrument that does not let one be chosen, where it does not exist, or where it
    cannot indicate the load.
    """
    if not instrument.ranges:
        if number is not None:
            raise InputError("range", "a range can be named only on an instrument with several ranges")
        return None
    if number is not None:
        if instrument.kind is not RangeKind.MULTIPLE_RANGE:
            raise InputError("range", f"a range can be named only on a multiple-range instrument ({instrument.kind})")
        count = len(instrument.ranges)
        if not 1 <= number <= count:
            raise InputError("range", f"no range {number}: the instrument has {count} ranges")
        chosen = instrument.ranges[number - 1]
        limit = chosen.max_kg + OVERRANGE_E * (chosen.e_kg or chosen.d_kg)
        if load_kg > limit:
            raise InputError(
                "range",
                f"range {number} cannot indicate {format_mass(load_kg)} (above its Max + 9 e, {format_mass(limit)})",
            )
        return number - 1
    for index, part in enumerate(instrument.ranges):
        if load_kg <= part.max_kg:
            return index
    return len(instrument.ranges) - 1


def interval_at(instrument: InstrumentSummary, load_kg: Decimal, number: int | None = None) -> Decimal:
    """The scale interval of a reading at ``load_kg`` in the range it was made in (see :func:`range_index`)."""
    index = range_index(instrument, load_kg, number)
    return instrument.d_kg if index is None else instrument.ranges[index].d_kg


def range_after(instrument: InstrumentSummary, load_kg: Decimal, current: int | None) -> int | None:
    """The 0-based range in use once ``load_kg`` is on the receptor, given the range in use before (``None``: the
    load was placed from zero): on a multiple-range instrument the higher of the two, since the range returns
    down only at zero (R 76-1:2006 3.2 / 4.10 as cited); on a multi-interval one the partial range of the load;
    ``None`` on a single-interval instrument."""
    needed = range_index(instrument, load_kg)
    if needed is None or current is None or instrument.kind is not RangeKind.MULTIPLE_RANGE:
        return needed
    return max(current, needed)
