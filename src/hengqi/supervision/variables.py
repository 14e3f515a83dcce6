"""Sampling plans by variables, standard deviation method (the "s-method", variability unknown), single
sampling, for one quality characteristic that follows a normal distribution: the plans of ANSI/ASQ Z1.9
(converted from MIL-STD-414), the American counterpart of ISO 3951-1.  Pure functions, no I/O.

SECONDARY SOURCE.  Neither ISO 3951-1, ANSI/ASQ Z1.9 nor MIL-STD-414 could be read here.  The numbers are those
of the CRAN package AQLSchemes 1.7-2 (John Lawson, 2023; file ``R/AAZ19.R``, mirrored at github.com/cran/AQLSchemes,
commit c60f3b34948dec4c8894791a87dacb254a0ef837), which prints "ANSI/ASQ Z1.9 converted from MIL-STD-414 using
Gascoigne Method" and tabulates, for the standard deviation method:

* the sample size code letters by lot size and inspection level (Z1.9 Table A-2; here general level II);
* per code letter and AQL the sample size ``n`` and the **maximum allowable percent nonconforming** ``M``
  (the "Form 2" acceptance criterion), for normal and tightened inspection (one table, the tightened AQLs one
  column to the left of the normal ones) and for reduced inspection, with the arrows already followed.

These are ANSI/ASQ Z1.9 numbers, not ISO 3951-1's.  The acceptability constant ``k`` of "Form 1" (accept when
``(U - x̄)/s >= k`` for an upper limit ``U``, ``(x̄ - L)/s >= k`` for a lower limit ``L``) is **derived** here from
``M`` by the relation between the two forms that AQLSchemes uses (``AAZ19``, ``MPn``; AQLSchemes cites
"Acceptance Sampling and SPC", pp. 45-48, for the estimator): the percent nonconforming estimated from a quality
index ``Q`` is ``p̂ = I_x((n - 2)/2, (n - 2)/2)``, the regularized incomplete beta function at
``x = max(0, 1/2 - Q √n / (2 (n - 1)))``, and ``k`` is the ``Q`` at which ``p̂ = M``:
``k = (1 - 2 x_M) (n - 1)/√n``, ``x_M = I⁻¹_M((n - 2)/2, (n - 2)/2)``.  A transcription said to be checked against a
scan of MIL-STD-414 Table B-1 (found unattributed in a code search index; not used as a source) prints ``k`` for
code letters B to J, normal inspection; for B to I, where its sample sizes are those of Z1.9, every ``k`` derived
here lies within 0.01 of its value (largest difference 0.0085; 45 of 52 within 0.005), as expected of Z1.9
plans converted from MIL-STD-414 (``tests/supervision/test_variables.py``).  hengqi rounds the derived ``k`` to
4 decimals (the tables print 3 significant digits), so that the comparison with the quality index is exact.

For a **double** specification limit with one AQL for both sides, Form 2 applies: accept when
``p̂_L + p̂_U <= M`` (Z1.9's "M method"; AQLSchemes ``EPn`` with ``sided="two"``).

Lot sizes 401 to 500: AQLSchemes gives code letter I at level II; the unattributed transcription above gives H.
The lookup by lot size refuses those lots; pass ``code_letter`` to choose.

>>> p = variables_plan(1000, "1.0")
>>> (p.code_letter, p.n, str(p.m_percent), str(p.k))
('J', 35, '2.660', '1.8940')
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

from scipy.stats import beta

from hengqi.errors import InputError

__all__ = [
    "AQLS",
    "INSPECTIONS",
    "LOT_RANGES",
    "VariablesPlan",
    "VariablesVerdict",
    "estimated_percent_nonconforming",
    "judge_lot",
    "variables_plan",
]

#: AQL columns of Z1.9 (percent nonconforming), as printed by AQLSchemes.
AQLS: Final = ("0.10", "0.15", "0.25", "0.40", "0.65", "1.0", "1.5", "2.5", "4.0", "6.5", "10")
INSPECTIONS: Final = ("normal", "tightened", "reduced")

#: Z1.9 Table A-2, general inspection level II (AQLSchemes ``SSCodeLetters``, column "II"): (smallest lot, largest
#: lot or None, code letter).  ``None`` as letter: the sources disagree (see the module's docstring).
LOT_RANGES: Final = (
    (2, 8, "B"),
    (9, 15, "B"),
    (16, 25, "C"),
    (26, 50, "D"),
    (51, 90, "E"),
    (91, 150, "F"),
    (151, 280, "G"),
    (281, 400, "H"),
    (401, 500, None),
    (501, 1200, "J"),
    (1201, 3200, "K"),
    (3201, 10000, "L"),
    (10001, 35000, "M"),
    (35001, 150000, "N"),
    (150001, 500000, "P"),
    (500001, None, "P"),
)

#: Normal and tightened inspection, standard deviation unknown: per code letter 12 cells ``n/M`` (M in percent),
#: AQLSchemes ``ss`` and ``ANSIASQZ19M``.  Normal inspection at ``AQLS[i]`` reads cell ``i + 1``, tightened cell
#: ``i`` (AQLSchemes: ``dAQL + 1`` and ``dAQL``).
_NORMAL_TIGHTENED: Final = {
    "B": "10/0.077 7/0.005 7/0.087 7/0.421 5/0.041 5/1.340 4/1.490 4/5.460 3/7.590 3/18.86 3/26.94 3/33.69",
    "C": "10/0.077 7/0.005 7/0.087 7/0.421 5/0.041 5/1.340 4/1.490 4/5.460 4/10.88 4/16.41 4/22.84 4/29.43",
    "D": "10/0.077 7/0.005 7/0.087 7/0.421 5/0.041 5/1.340 5/3.330 5/5.820 5/9.800 5/14.37 5/20.19 5/26.55",
    "E": "10/0.077 7/0.005 7/0.087 7/0.421 7/1.050 7/2.130 7/3.540 7/5.340 7/8.400 7/12.19 7/17.34 7/23.30",
    "F": "10/0.077 10/0.179 10/0.349 10/0.714 10/1.270 10/2.140 10/3.270 10/4.720 10/7.260 10/10.53 10/15.17 10/20.73",
    "G": "15/0.186 15/0.311 15/0.491 15/0.839 15/1.330 15/2.090 15/3.060 15/4.320 15/6.550 15/9.480 15/13.74 15/18.97",
    "H": "20/0.228 20/0.356 20/0.531 20/0.864 20/1.330 20/2.030 20/2.930 20/4.100 20/6.180 20/8.950 20/13.01 20/18.07",
    "I": "25/0.250 25/0.378 25/0.551 25/0.874 25/1.320 25/2.000 25/2.860 25/3.970 25/5.980 25/8.650 25/12.60 25/17.55",
    "J": "35/0.253 35/0.373 35/0.534 35/0.833 35/1.240 35/1.870 35/2.660 35/3.700 35/5.580 35/8.110 35/11.89 35/16.67",
    "K": "50/0.243 50/0.355 50/0.503 50/0.778 50/1.160 50/1.730 50/2.470 50/3.440 50/5.210 50/7.610 50/11.23 50/15.87",
    "L": "75/0.225 75/0.326 75/0.461 75/0.711 75/1.060 75/1.590 75/2.270 75/3.170 75/4.830 75/7.100 75/10.58 75/15.07",
    "M": (
        "100/0.218 100/0.315 100/0.444 100/0.684 100/1.020 100/1.520 100/2.180 100/3.060 100/4.670 100/6.880 "
        "100/10.29 100/14.71"
    ),
    "N": (
        "150/0.202 150/0.292 150/0.412 150/0.636 150/0.946 150/1.420 150/2.050 150/2.880 150/4.420 150/6.560 "
        "150/9.860 150/14.18"
    ),
    "P": (
        "200/0.204 200/0.294 200/0.414 200/0.637 200/0.945 200/1.420 200/2.040 200/2.860 200/4.390 200/6.520 "
        "200/9.800 200/14.11"
    ),
}

#: Reduced inspection, standard deviation unknown: per code letter 11 cells ``n/M``, one per AQL (AQLSchemes
#: ``ssR`` and ``ANSIASQZ19RM``).
_REDUCED: Final = {
    "B": "7/0.087 7/0.421 5/0.041 5/1.340 4/1.490 4/5.460 3/7.590 3/18.86 3/26.94 3/33.69 3/40.47",
    "C": "7/0.087 7/0.421 5/0.041 5/1.340 4/1.490 4/5.460 3/7.590 3/18.86 3/26.94 3/33.69 3/40.47",
    "D": "7/0.087 7/0.421 5/0.041 5/1.340 4/1.490 4/5.460 3/7.590 3/18.86 3/26.94 3/33.69 3/40.47",
    "E": "7/0.087 7/0.421 5/0.041 5/1.340 4/1.490 4/5.460 3/7.590 3/18.86 3/26.94 3/33.69 3/40.47",
    "F": "7/0.087 7/0.421 5/0.041 5/1.340 4/1.490 4/5.460 4/10.88 4/16.41 4/22.84 4/29.43 4/36.79",
    "G": "7/0.087 7/0.421 5/0.041 5/1.340 5/3.330 5/5.820 5/9.800 5/14.37 5/20.19 5/26.55 5/33.94",
    "H": "7/0.087 7/0.421 7/1.060 7/2.130 7/3.540 7/5.340 7/8.400 7/12.19 7/17.34 7/23.30 7/30.50",
    "I": "10/0.349 10/0.714 10/1.270 10/2.140 10/3.270 10/4.720 10/7.260 10/10.53 10/15.17 10/20.73 10/27.65",
    "J": "15/0.491 15/0.839 15/1.330 15/2.090 15/3.060 15/4.320 15/6.550 15/9.480 15/13.74 15/18.97 15/25.63",
    "K": "20/0.531 20/0.864 20/1.330 20/2.030 20/2.930 20/4.100 20/6.180 20/8.950 20/13.01 20/18.07 20/24.58",
    "L": "25/0.551 25/0.874 25/1.320 25/2.000 25/2.860 25/3.970 25/5.980 25/8.650 25/12.60 25/17.55 25/23.97",
    "M": "30/0.567 30/0.885 30/1.320 30/1.980 30/2.820 30/3.910 30/5.870 30/8.480 30/12.37 30/17.25 30/23.61",
    "N": "50/0.503 50/0.778 50/1.160 50/1.730 50/2.470 50/3.440 50/5.210 50/7.610 50/11.23 50/15.87 50/21.99",
    "P": "75/0.461 75/0.711 75/1.060 75/1.590 75/2.270 75/3.170 75/4.830 75/7.100 75/10.58 75/15.07 75/21.05",
}
_CODE_LETTERS: Final = tuple(_NORMAL_TIGHTENED)


@dataclass(frozen=True, slots=True)
class VariablesPlan:
    """A variables plan, standard deviation method: measure ``n`` items; ``m_percent`` is the maximum allowable
    percent nonconforming as tabulated (Form 2), ``k`` the acceptability constant derived from it (Form 1, see
    the module's docstring).  ``lot_size`` is ``None`` when the code letter was given directly."""

    lot_size: int | None
    aql: str
    inspection: str
    code_letter: str
    n: int
    m_percent: Decimal
    k: Decimal


@dataclass(frozen=True, slots=True)
class VariablesVerdict:
    """The decision on one lot: the sample's mean and standard deviation, the quality indices ``(x̄ - L)/s`` and
    ``(U - x̄)/s`` (``None`` without that limit), the estimated percent nonconforming below / above, the form
    used (``"k"`` for one limit, ``"M"`` for two) and whether the lot is accepted."""

    plan: VariablesPlan
    n: int
    mean: Decimal
    sd: Decimal
    q_lower: Decimal | None
    q_upper: Decimal | None
    p_lower_percent: float
    p_upper_percent: float
    form: str
    accepted: bool
    reason: str


def _k_from_m(n: int, m_percent: Decimal) -> Decimal:
    a = (n - 2) / 2
    x = float(beta.ppf(float(m_percent) / 100, a, a))
    return Decimal((1 - 2 * x) * (n - 1) / math.sqrt(n)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


def variables_plan(
    lot_size: int | None, aql: str, *, inspection: str = "normal", code_letter: str | None = None
) -> VariablesPlan:
    """The s-method plan for ``lot_size`` items (general inspection level II) or for ``code_letter`` (Z1.9's
    letters B C D E F G H I J K L M N P), ``aql`` one of :data:`AQLS` and
    ``inspection`` one of :data:`INSPECTIONS` (ANSI/ASQ Z1.9 as tabulated in AQLSchemes 1.7-2, SECONDARY)."""
    if aql not in AQLS:
        raise InputError("aql", f"use one of {', '.join(AQLS)} (percent nonconforming), got {aql!r}")
    if inspection not in INSPECTIONS:
        raise InputError("inspection", f"use one of {', '.join(INSPECTIONS)}, got {inspection!r}")
    if code_letter is None:
        if lot_size is None:
            raise InputError("lot_size", "give a lot size or a code letter")
        if lot_size < 2:
            raise InputError("lot_size", f"the table starts at lots of 2, got {lot_size}")
        lo, hi, letter = next(r for r in LOT_RANGES if r[0] <= lot_size and (r[1] is None or lot_size <= r[1]))
        if letter is None:
            raise InputError(
                "lot_size",
                f"for lots of {lo} to {hi} the transcriptions read disagree on the code letter (H or I); "
                "give the code letter",
            )
    else:
        letter = code_letter.strip().upper()
        if letter not in _CODE_LETTERS:
            raise InputError("code_letter", f"use one of {' '.join(_CODE_LETTERS)}, got {code_letter!r}")
    i = AQLS.index(aql)
    if inspection == "reduced":
        cell = _REDUCED[letter].split()[i]
    else:
        cell = _NORMAL_TIGHTENED[letter].split()[i + 1 if inspection == "normal" else i]
    n_text, m_text = cell.split("/")
    n, m = int(n_text), Decimal(m_text)
    return VariablesPlan(lot_size if code_letter is None else None, aql, inspection, letter, n, m, _k_from_m(n, m))


def estimated_percent_nonconforming(q: Decimal | float, n: int) -> float:
    """Percent of the lot estimated beyond one limit from the quality index ``q`` and the sample size ``n``
    (``n >= 3``): ``100 I_x((n-2)/2, (n-2)/2)``, ``x = max(0, 1/2 - q √n / (2 (n - 1)))`` (the Form 2
    estimator of Z1.9 / MIL-STD-414 as implemented in AQLSchemes ``EPn``, SECONDARY; ``x`` is capped at 1, where
    the whole lot lies beyond the limit)."""
    if n < 3:
        raise InputError("n", f"the estimator needs at least 3 items, got {n}")
    x = min(1.0, max(0.0, 0.5 - 0.5 * float(q) * math.sqrt(n) / (n - 1)))
    a = (n - 2) / 2
    return 100 * float(beta.cdf(x, a, a))


#: Magnitudes accepted for measured values, limits and standard deviations (zero aside): far beyond any
#: measurement, and small enough that no quotient leaves the decimal context's range.
_LARGEST = Decimal("1e12")
_SMALLEST = Decimal("1e-12")


def _decimal(name: str, value: Decimal | float | int | str) -> Decimal:
    try:
        d = Decimal(str(value))
    except ArithmeticError:
        raise InputError(name, f"expected a number, got {value!r}") from None
    if not d.is_finite():
        raise InputError(name, f"expected a finite number, got {value!r}")
    if d and not _SMALLEST <= abs(d) <= _LARGEST:
        raise InputError(name, f"magnitude out of range ({_SMALLEST} to {_LARGEST}), got {value!r}")
    return d


def judge_lot(
    plan: VariablesPlan,
    *,
    values: Sequence[Decimal | float | int | str] | None = None,
    mean: Decimal | float | str | None = None,
    sd: Decimal | float | str | None = None,
    lower: Decimal | float | str | None = None,
    upper: Decimal | float | str | None = None,
) -> VariablesVerdict:
    """Accept or reject a lot from the ``plan.n`` measured ``values`` (or their ``mean`` and ``sd``, the sample
    standard deviation with divisor ``n - 1``) against a ``lower`` and/or ``upper`` specification limit.

    One limit: Form 1, accept when the quality index ``(U - x̄)/s`` or ``(x̄ - L)/s`` is at least ``plan.k``
    (a quality index equal to ``k`` accepts).  Two limits: Form 2, accept when the estimated percentages beyond
    both limits add up to at most ``plan.m_percent``.
    """
    if lower is None and upper is None:
        raise InputError("limits", "give a lower limit, an upper limit or both")
    if values is not None:
        if mean is not None or sd is not None:
            raise InputError("values", "give the values or their mean and standard deviation, not both")
        xs = [_decimal(f"values[{i}]", v) for i, v in enumerate(values)]
        if len(xs) != plan.n:
            raise InputError("values", f"the plan measures {plan.n} items, got {len(xs)}")
        x_bar, s = statistics.mean(xs), statistics.stdev(xs)
    else:
        if mean is None or sd is None:
            raise InputError("mean", "give the values, or both their mean and standard deviation")
        x_bar, s = _decimal("mean", mean), _decimal("sd", sd)
    if s <= 0:
        raise InputError("sd", f"the standard deviation method needs a spread above zero, got {s}")
    lo = None if lower is None else _decimal("lower", lower)
    hi = None if upper is None else _decimal("upper", upper)
    if lo is not None and hi is not None and lo >= hi:
        raise InputError("lower", f"the lower limit {lo} must lie below the upper limit {hi}")
    q_l = None if lo is None else (x_bar - lo) / s
    q_u = None if hi is None else (hi - x_bar) / s
    p_l = 0.0 if q_l is None else estimated_percent_nonconforming(q_l, plan.n)
    p_u = 0.0 if q_u is None else estimated_percent_nonconforming(q_u, plan.n)
    if q_l is not None and q_u is not None:
        total = p_l + p_u
        accepted = total <= float(plan.m_percent)
        reason = f"estimated {total:.4g} % nonconforming {'<=' if accepted else '>'} M = {plan.m_percent} %"
        form = "M"
    else:
        side, q = ("lower", q_l) if q_l is not None else ("upper", q_u or Decimal(0))
        accepted = q >= plan.k
        reason = f"quality index ({side}) {q:.4f} {'>=' if accepted else '<'} k = {plan.k:.4f}"
        form = "k"
    return VariablesVerdict(plan, plan.n, x_bar, s, q_l, q_u, p_l, p_u, form, accepted, reason)
