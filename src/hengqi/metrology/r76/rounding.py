"""Errors of indication, with the rounding error eliminated by change-point weights.

OIML R 76-1:2006, A.4.4.3 (changeover-point method).  The clause text was not read: the formula is SECONDARY,
confirmed by two independent secondary sources (a third-party document quoting R 76-1 and a Chinese article on
JJG 539-1997, which gives the same formula ``E = I + 0.5 e - dm - m``).  See ``standards.md`` 1.4.

At a load ``L`` the indication ``I`` is noted; small weights (steps of 0.1 e) are added until the indication
steps up by one interval; ``dL`` is the total added.  The indication before rounding was

    P = I + 1/2 e - dL,        the error    E = P - L = I + 1/2 e - dL - L,

and the error corrected for the error at zero is ``Ec = E - E0``, where ``E0`` is the error at or near zero
(for example at 10 e) determined in the same way.  ``Ec`` is compared with the MPE.

R 76 writes ``e`` in the formula because the method is used where ``d = e``.  The indication actually steps by
the actual scale interval ``d``, so the functions here take the *interval the indication steps by* as an
argument; callers pass ``d`` at the load, which equals ``e`` on every
instrument that needs the method (rounding elimination is required when d > 0.2 e: R 76-1 3.5.3.2, SECONDARY).

Worked example said to be the one printed in R 76-1 A.4.4.3 (SECONDARY): e = 5 g, L = 1 000 g, I = 1 000 g,
dL = 1.5 g gives P = 1 001 g and E = +1 g; with E0 = +0.5 g, Ec = +0.5 g.

>>> from decimal import Decimal as D
>>> indication_before_rounding(D("1000"), D("5"), D("1.5"))
Decimal('1001.0')
>>> changeover_error(D("1000"), D("1000"), D("5"), D("1.5"))
Decimal('1.0')
>>> corrected_error(D("1.0"), D("0.5"))
Decimal('0.5')
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hengqi.errors import InputError

#: Citation of the changeover-point method.
ROUNDING_RULE = "OIML R 76-1:2006, A.4.4.3 (changeover-point method; SECONDARY: clause text not read)"

_HALF = Decimal("0.5")


def indication_before_rounding(indication: Decimal, interval: Decimal, change_point_load: Decimal) -> Decimal:
    """``P = I + 1/2 e - dL``: the indication before rounding (R 76-1 A.4.4.3, SECONDARY).

    ``interval`` is the step of the indication (``d``, which equals ``e`` where the method is used) and
    ``change_point_load`` is ``dL``, the small weights added until the indication stepped up by one interval.

    >>> from decimal import Decimal as D
    >>> indication_before_rounding(D("5005"), D("5"), D("0.5"))
    Decimal('5007.0')
    """
    return indication + _HALF * interval - change_point_load


def changeover_error(load: Decimal, indication: Decimal, interval: Decimal, change_point_load: Decimal) -> Decimal:
    """``E = I + 1/2 e - dL - L``: the error with the rounding error eliminated (R 76-1 A.4.4.3, SECONDARY).

    >>> from decimal import Decimal as D
    >>> changeover_error(D("1000"), D("1005"), D("5"), D("5"))
    Decimal('2.5')
    """
    return indication_before_rounding(indication, interval, change_point_load) - load


def corrected_error(error: Decimal, zero_error: Decimal) -> Decimal:
    """``Ec = E - E0``: the error corrected for the error at or near zero (R 76-1 A.4.4.3, SECONDARY)."""
    return error - zero_error


def check_change_point_load(change_point_load: Decimal, interval: Decimal, *, path: str = "change_point") -> None:
    """Refuse a change-point addition ``dL`` outside ``0 < dL <= interval``.

    The indication steps up by one interval at the latest when one whole interval has been added, so a larger
    ``dL`` (or none at all) means the reading was mis-recorded.

    >>> from decimal import Decimal as D
    >>> check_change_point_load(D("6"), D("5"))
    Traceback (most recent call last):
    ...
    hengqi.errors.InputError: change_point: the load added to reach the change point (6) must be more than 0 \
and at most one scale interval (5)
    """
    if not Decimal(0) < change_point_load <= interval:
        raise InputError(
            path,
            f"the load added to reach the change point ({change_point_load}) must be more than 0 and at most "
            f"one scale interval ({interval})",
        )


@dataclass(frozen=True, slots=True)
class Reading:
    """One reading of a test: the load applied, the indication and, optionally, the change-point addition ``dL``.

    ``change_point_kg`` is ``None`` when the rounding error was not eliminated at this point.
    ``correction_kg`` is the conventional-mass correction of the weights making up the load, where they are
    used with their calibration certificates: the reference value is then ``L + correction`` while the MPE is
    still taken at the nominal load ``L`` (so that a correction of a few mg never moves a load across an MPE
    band edge).
    ``range_index`` (0-based) is the range in use on a multiple-range instrument where it is not the smallest
    range covering the load (after a change to a higher range the instrument stays there until the load returns
    to zero: OIML R 76-1:2006 3.2 / 4.10 as cited, clause text not read); ``None``: the range follows the load.
    """

    load_kg: Decimal
    indication_kg: Decimal
    change_point_kg: Decimal | None = None
    label: str = ""
    correction_kg: Decimal = Decimal(0)
    range_index: int | None = None


@dataclass(frozen=True, slots=True)
class ReadingError:
    """The error of one reading: ``E``, and ``Ec = E - E0`` where it could be formed."""

    error_kg: Decimal
    corrected_error_kg: Decimal | None
    rounding_eliminated: bool

    @property
    def assessed_kg(self) -> Decimal:
        """The error compared with the MPE (``Ec`` where formed, else ``E``)."""
        return self.corrected_error_kg if self.corrected_error_kg is not None else self.error_kg


def reading_error(reading: Reading, interval: Decimal, zero_error: Decimal | None = None) -> ReadingError:
    """The error of a reading.

    With change-point data: ``E = I + 1/2 e - dL - L`` and, when ``zero_error`` (``E0``, determined the same way)
    is given, ``Ec = E - E0`` (R 76-1 A.4.4.3, SECONDARY).  Without change-point data the rounding error is not
    eliminated: ``E = I - L`` and no zero correction is applied (``E0`` is only meaningful for errors
    determined the same way).  ``L`` includes the reading's conventional-mass correction.

    >>> from decimal import Decimal as D
    >>> reading_error(Reading(D("1000"), D("1000"), D("1.5")), D("5"), D("0.5"))
    ReadingError(error_kg=Decimal('1.0'), corrected_error_kg=Decimal('0.5'), rounding_eliminated=True)
    >>> reading_error(Reading(D("1000"), D("1005")), D("5"), D("0.5"))
    ReadingError(error_kg=Decimal('5'), corrected_error_kg=None, rounding_eliminated=False)
    """
    reference = reading.load_kg + reading.correction_kg
    if reading.change_point_kg is None:
        return ReadingError(reading.indication_kg - reference, None, rounding_eliminated=False)
    error = changeover_error(reference, reading.indication_kg, interval, reading.change_point_kg)
    corrected = corrected_error(error, zero_error) if zero_error is not None else None
    return ReadingError(error, corrected, rounding_eliminated=True)
