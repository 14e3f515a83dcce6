"""Decision rules for statements of conformity and the risks they carry.

Rules (ILAC-G8:09/2019 "Guidelines on Decision Rules and Statements of Conformity"; SECONDARY: the clause
numbers and the statements below were read through summaries, the text itself was not read):

* **simple acceptance** (4.2.1, also called *shared risk*): accept when the measured value lies inside the
  tolerance interval; guard band ``w = 0``.  The probability of false acceptance (PFA) of a result at a
  tolerance limit is 50 %.
* **guarded acceptance** (4.2.2): the acceptance limits lie inside the tolerance limits by ``w = r U``;
  with ``w = U`` (``k = 2``, normal PDF) the PFA of any accepted result is below 2.5 %.
* **guarded rejection**: ``r < 0``, the acceptance limits lie outside the tolerance limits.
* **non-binary statement** (4.2.3): ``pass``, ``conditionalPass``, ``conditionalFail``, ``fail`` around the
  tolerance limits with a zone ``U`` either side (the tokens are those of DCC 3.3.0
  ``stringConformityStatementStatusType``).

Risks (JCGM 106:2012 "Evaluation of measurement data -- The role of measurement uncertainty in conformity
assessment"; SECONDARY: the clause numbers were taken from summaries):

* conformance probability ``p_c = Phi((T_U - y)/u) - Phi((T_L - y)/u)`` for a normal PDF of the measurand
  given the measured value ``y`` (clause 7); with a Monte Carlo sample, the fraction of the sample inside
  ``[T_L, T_U]``;
* **specific** consumer's risk of an accepted item ``1 - p_c``; specific producer's risk of a rejected item
  ``p_c`` (clause 9);
* **global** consumer's risk ``R_C = int_{eta not in C} g_0(eta) P(y in A | eta) d eta`` and producer's risk
  ``R_P = int_{eta in C} g_0(eta) P(y not in A | eta) d eta`` for a normal prior ``g_0`` of the process
  (the fleet) and a normal measuring system ``h(y | eta) = N(eta, u_m^2)`` (clause 9.5).

Verdicts are taken on exact ``Decimal`` boundaries; the probabilities are binary floats.

>>> rule = guarded_acceptance(Decimal(1))
>>> decide(Decimal("9.5"), Decimal("0.4"), lower=Decimal(0), upper=Decimal(10), rule=rule).accepted
True
>>> decide(Decimal("9.7"), Decimal("0.4"), lower=Decimal(0), upper=Decimal(10), rule=rule).status
'conditionalPass'
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from scipy import integrate
from scipy.stats import norm

from hengqi.errors import InputError

__all__ = [
    "SIMPLE_ACCEPTANCE",
    "Decision",
    "DecisionRule",
    "GlobalRisk",
    "NormalPrior",
    "SpecificRisk",
    "conformance_probability",
    "decide",
    "global_risk_monte_carlo",
    "global_risk_normal",
    "guard_band",
    "guarded_acceptance",
    "nonbinary_status",
    "prior_from_measurements",
    "specific_risk_normal",
    "specific_risk_samples",
]

_ILAC_G8 = "ILAC-G8:09/2019"


@dataclass(frozen=True, slots=True)
class DecisionRule:
    """A binary decision rule with guard band ``w = r U`` (ILAC-G8:09/2019, 4.2.1 and 4.2.2).

    Attributes:
        name: the rule's name in ILAC-G8's vocabulary.
        r: guard band factor; 0 simple acceptance, > 0 guarded acceptance, < 0 guarded rejection.
        source: document and clause.
    """

    name: str
    r: Decimal
    source: str

    def acceptance_limits(
        self,
        U: Decimal,  # noqa: N803 - the standards' symbol
        *,
        lower: Decimal | None,
        upper: Decimal | None,
    ) -> tuple[Decimal | None, Decimal | None]:
        """Acceptance limits ``A_L = T_L + w``, ``A_U = T_U - w`` (``None`` where the tolerance is one-sided)."""
        w = guard_band(U, self.r)
        return (None if lower is None else lower + w, None if upper is None else upper - w)

    def __str__(self) -> str:
        return f"{self.name} ({self.source})"


def guard_band(U: Decimal, r: Decimal) -> Decimal:  # noqa: N803 - the standards' symbol
    """The guard band ``w = r U`` (ILAC-G8:09/2019, 4.2.2).

    >>> guard_band(Decimal("0.2"), Decimal("1.5"))
    Decimal('0.30')
    """
    if U < 0:
        raise InputError("U", f"the expanded uncertainty may not be negative, got {U}")
    return r * U


SIMPLE_ACCEPTANCE = DecisionRule("simple acceptance (shared risk), w = 0", Decimal(0), f"{_ILAC_G8}, 4.2.1")


def guarded_acceptance(r: Decimal = Decimal(1)) -> DecisionRule:
    """Guarded acceptance ``w = r U`` (``r > 0``) or guarded rejection (``r < 0``); ``r = 0`` is simple acceptance."""
    if r == 0:
        return SIMPLE_ACCEPTANCE
    kind = "guarded acceptance" if r > 0 else "guarded rejection"
    return DecisionRule(f"{kind}, w = {format(abs(r).normalize(), 'f')} U", r, f"{_ILAC_G8}, 4.2.2")


@dataclass(frozen=True, slots=True)
class SpecificRisk:
    """Conformance probability of one measured item and the specific risk of the decision taken on it
    (JCGM 106:2012, clauses 7 and 9).

    Attributes:
        p_conform: probability that the measurand lies in the tolerance interval, given the measurement.
        method: ``"normal"`` (closed form) or ``"monte carlo"`` (fraction of the sample).
        samples: number of Monte Carlo draws (0 for the closed form).
    """

    p_conform: float
    method: str
    samples: int = 0

    @property
    def pfa(self) -> float:
        """Specific consumer's risk if the item is accepted: ``1 - p_c``."""
        return 1.0 - self.p_conform

    @property
    def pfr(self) -> float:
        """Specific producer's risk if the item is rejected: ``p_c``."""
        return self.p_conform


@dataclass(frozen=True, slots=True)
class Decision:
    """A verdict taken on exact limits, naming its rule, with its specific risk where ``u`` was given.

    Attributes:
        value: the measured value ``y``.
        U: expanded uncertainty.
        lower, upper: tolerance limits ``T_L``, ``T_U`` (``None``: one-sided).
        acceptance_lower, acceptance_upper: ``A_L``, ``A_U`` of the rule.
        rule: the binary rule that took the verdict.
        accepted: the binary verdict.
        status: the non-binary statement (ILAC-G8 4.2.3) of the same result.
        risk: specific risk (``None`` where no standard uncertainty was given).
    """

    value: Decimal
    U: Decimal
    lower: Decimal | None
    upper: Decimal | None
    acceptance_lower: Decimal | None
    acceptance_upper: Decimal | None
    rule: DecisionRule
    accepted: bool
    status: str
    risk: SpecificRisk | None

    @property
    def risk_of_decision(self) -> float | None:
        """PFA of an accepted item, PFR of a rejected one (``None`` without a risk)."""
        if self.risk is None:
            return None
        return self.risk.pfa if self.accepted else self.risk.pfr


def _check_limits(lower: Decimal | float | None, upper: Decimal | float | None) -> None:
    if lower is None and upper is None:
        raise InputError("limits", "at least one tolerance limit is needed")
    if lower is not None and upper is not None and lower > upper:
        raise InputError("limits", f"the lower limit {lower} may not be above the upper limit {upper}")


def nonbinary_status(
    value: Decimal,
    U: Decimal,  # noqa: N803 - the standards' symbol
    *,
    lower: Decimal | None,
    upper: Decimal | None,
) -> str:
    """The non-binary statement of ILAC-G8:09/2019, 4.2.3, with zones of width ``U`` about each limit.

    ``pass`` inside the limits by at least ``U``; ``conditionalPass`` inside by less; ``conditionalFail``
    outside by at most ``U``; ``fail`` outside by more.  Exact (``Decimal``); a value on a zone boundary is
    given the more favourable status.

    >>> nonbinary_status(Decimal("0.0006"), Decimal("0.0002"), lower=Decimal("-0.0005"), upper=Decimal("0.0005"))
    'conditionalFail'
    """
    _check_limits(lower, upper)
    if U < 0:
        raise InputError("U", f"the expanded uncertainty may not be negative, got {U}")
    # signed distance inside the tolerance interval (negative outside)
    margins = [value - lower] if lower is not None else []
    if upper is not None:
        margins.append(upper - value)
    inside = min(margins)
    if inside >= U:
        return "pass"
    if inside >= 0:
        return "conditionalPass"
    if -inside <= U:
        return "conditionalFail"
    return "fail"


def conformance_probability(y: float, u: float, *, lower: float | None, upper: float | None) -> float:
    """``p_c = Phi((T_U - y)/u) - Phi((T_L - y)/u)`` for a normal PDF (JCGM 106:2012, clause 7).

    >>> round(conformance_probability(0.0, 1.0, lower=None, upper=2.0), 5)
    0.97725
    """
    _check_limits(lower, upper)
    if not u > 0 or not math.isfinite(u):
        raise InputError("u", f"the standard uncertainty must be positive and finite, got {u}")
    if lower is None:
        return float(norm.cdf((upper - y) / u))  # type: ignore[operator]
    if upper is None:
        return float(norm.sf((lower - y) / u))
    return max(0.0, float(norm.cdf((upper - y) / u) - norm.cdf((lower - y) / u)))


def specific_risk_normal(y: float, u: float, *, lower: float | None, upper: float | None) -> SpecificRisk:
    """Specific risks of one result with a normal PDF ``N(y, u^2)`` (JCGM 106:2012, clauses 7 and 9)."""
    return SpecificRisk(conformance_probability(y, u, lower=lower, upper=upper), "normal")


def specific_risk_samples(
    samples: Sequence[float] | np.ndarray, *, lower: float | None, upper: float | None
) -> SpecificRisk:
    """Specific risks from a Monte Carlo sample of the measurand's PDF (JCGM 106:2012, clause 7; the sample
    from JCGM 101:2008): ``p_c`` is the fraction of the sample in ``[T_L, T_U]``."""
    _check_limits(lower, upper)
    arr = np.asarray(samples, dtype=float)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise InputError("samples", "a non-empty one-dimensional sample of finite values is needed")
    inside = np.ones(arr.size, dtype=bool)
    if lower is not None:
        inside &= arr >= lower
    if upper is not None:
        inside &= arr <= upper
    return SpecificRisk(float(np.count_nonzero(inside)) / arr.size, "monte carlo", int(arr.size))


def decide(
    value: Decimal,
    U: Decimal,  # noqa: N803 - the standards' symbol
    *,
    lower: Decimal | None,
    upper: Decimal | None,
    rule: DecisionRule = SIMPLE_ACCEPTANCE,
    u: float | None = None,
) -> Decision:
    """Take the binary verdict of ``rule`` on exact limits, with the non-binary status and, where the standard
    uncertainty ``u`` is given, the specific risk for a normal PDF ``N(value, u^2)``.

    A value on an acceptance limit is accepted (the acceptance interval is closed).
    """
    _check_limits(lower, upper)
    a_lo, a_hi = rule.acceptance_limits(U, lower=lower, upper=upper)
    if a_lo is not None and a_hi is not None and a_lo > a_hi:
        accepted = False  # the guard bands close the acceptance interval
    else:
        accepted = (a_lo is None or value >= a_lo) and (a_hi is None or value <= a_hi)
    risk = None
    if u is not None:
        risk = specific_risk_normal(
            float(value),
            u,
            lower=None if lower is None else float(lower),
            upper=None if upper is None else float(upper),
        )
    status = nonbinary_status(value, U, lower=lower, upper=upper)
    return Decision(value, U, lower, upper, a_lo, a_hi, rule, accepted, status, risk)


@dataclass(frozen=True, slots=True)
class GlobalRisk:
    """Global consumer's and producer's risks of a decision rule applied to a population (JCGM 106:2012, 9.5).

    Attributes:
        consumer: ``R_C``, probability that an item is non-conforming and accepted.
        producer: ``R_P``, probability that an item is conforming and rejected.
        p_conforming: prior probability of conformity of the population.
        method: ``"quadrature"`` or ``"monte carlo"``.
        samples, seed: Monte Carlo draws and the seed of ``numpy.random.default_rng`` (0 and ``None`` for
            quadrature).
    """

    consumer: float
    producer: float
    p_conforming: float
    method: str
    samples: int = 0
    seed: int | None = None


_SQRT_2PI = math.sqrt(2.0 * math.pi)


def _phi(x: float) -> float:
    """The standard normal distribution function, by ``erfc`` (accurate in both tails)."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _limits(lower: float | None, upper: float | None) -> tuple[float, float]:
    return (-math.inf if lower is None else float(lower), math.inf if upper is None else float(upper))


def _check_global(u0: float, um: float, lower: float | None, upper: float | None) -> tuple[float, float]:
    _check_limits(lower, upper)
    for name, v in (("u0", u0), ("um", um)):
        if not v > 0 or not math.isfinite(v):
            raise InputError(name, f"must be positive and finite, got {v}")
    return _limits(lower, upper)


def global_risk_normal(
    y0: float,
    u0: float,
    um: float,
    *,
    lower: float | None,
    upper: float | None,
    acceptance_lower: float | None = None,
    acceptance_upper: float | None = None,
) -> GlobalRisk:
    """Global risks for a normal prior ``N(y0, u0^2)`` of the property and a normal measuring system with
    standard uncertainty ``um`` (JCGM 106:2012, 9.5), by adaptive quadrature (``scipy.integrate.quad``) of

    ``R_C = int_{eta not in [T_L, T_U]} g0(eta) [Phi((A_U - eta)/um) - Phi((A_L - eta)/um)] d eta``,
    ``R_P = int_{T_L}^{T_U} g0(eta) [1 - Phi((A_U - eta)/um) + Phi((A_L - eta)/um)] d eta``.

    The acceptance limits default to the tolerance limits (simple acceptance).
    """
    t_lo, t_hi = _check_global(u0, um, lower, upper)
    a_lo, a_hi = _limits(
        lower if acceptance_lower is None else acceptance_lower,
        upper if acceptance_upper is None else acceptance_upper,
    )

    def p_accept(eta: float) -> float:
        hi = 1.0 if math.isinf(a_hi) else _phi((a_hi - eta) / um)
        lo = 0.0 if math.isinf(a_lo) else _phi((a_lo - eta) / um)
        return max(0.0, hi - lo)

    def p_reject(eta: float) -> float:
        above = 0.0 if math.isinf(a_hi) else _phi((eta - a_hi) / um)
        below = 0.0 if math.isinf(a_lo) else _phi((a_lo - eta) / um)
        return min(1.0, above + below)

    def g0(eta: float) -> float:
        z = (eta - y0) / u0
        return math.exp(-0.5 * z * z) / (u0 * _SQRT_2PI)

    def quad(f: object, a: float, b: float) -> float:
        if a >= b:
            return 0.0
        # split at the prior's mean so quad sees the peak
        points = [p for p in (y0, a_lo, a_hi) if a < p < b and math.isfinite(p)]
        edges = [a, *sorted(points), b]
        total = 0.0
        for lo_, hi_ in itertools.pairwise(edges):
            val, _err = integrate.quad(f, lo_, hi_, epsabs=1e-13, epsrel=1e-10, limit=200)
            total += val
        return total

    consumer = quad(lambda e: g0(e) * p_accept(e), -math.inf, t_lo) + quad(
        lambda e: g0(e) * p_accept(e), t_hi, math.inf
    )
    producer = quad(lambda e: g0(e) * p_reject(e), t_lo, t_hi)
    p_conf = float(norm.cdf((t_hi - y0) / u0) - norm.cdf((t_lo - y0) / u0))
    return GlobalRisk(consumer, producer, p_conf, "quadrature")


@dataclass(frozen=True, slots=True)
class NormalPrior:
    """A normal prior ``N(y0, u0^2)`` of the property over a population, estimated from ``n`` measured values."""

    y0: float
    u0: float
    n: int


def prior_from_measurements(values: Sequence[float] | np.ndarray, um: float) -> NormalPrior:
    """Estimate the normal prior of the property from a fleet's measured values ``y = eta + e`` with
    measurement standard uncertainty ``um``: ``y0`` is the mean and ``u0^2 = s^2 - um^2`` (the variances of
    independent ``eta`` and ``e`` add; ``s`` with ``n - 1`` degrees of freedom).  Refused where the measured
    spread does not exceed the measurement uncertainty (the process is then not resolved)."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size < 2 or not np.all(np.isfinite(arr)):
        raise InputError("values", "at least two finite measured values are needed")
    if not um >= 0 or not math.isfinite(um):
        raise InputError("um", f"must be non-negative and finite, got {um}")
    var = float(np.var(arr, ddof=1)) - um * um
    if var <= 0:
        raise InputError("values", f"their spread does not exceed the measurement uncertainty {um}")
    return NormalPrior(float(np.mean(arr)), math.sqrt(var), int(arr.size))


def global_risk_monte_carlo(
    y0: float,
    u0: float,
    um: float,
    *,
    lower: float | None,
    upper: float | None,
    acceptance_lower: float | None = None,
    acceptance_upper: float | None = None,
    samples: int = 1_000_000,
    seed: int = 106,
) -> GlobalRisk:
    """The risks of :func:`global_risk_normal` by Monte Carlo: ``eta ~ N(y0, u0^2)``, ``y = eta + N(0, um^2)``
    drawn with ``numpy.random.default_rng(seed)``; the seed is recorded in the result."""
    t_lo, t_hi = _check_global(u0, um, lower, upper)
    a_lo, a_hi = _limits(
        lower if acceptance_lower is None else acceptance_lower,
        upper if acceptance_upper is None else acceptance_upper,
    )
    if samples < 1:
        raise InputError("samples", f"must be at least 1, got {samples}")
    rng = np.random.default_rng(seed)
    eta = rng.normal(y0, u0, samples)
    y = eta + rng.normal(0.0, um, samples)
    conforming = (eta >= t_lo) & (eta <= t_hi)
    accepted = (y >= a_lo) & (y <= a_hi)
    return GlobalRisk(
        float(np.count_nonzero(~conforming & accepted)) / samples,
        float(np.count_nonzero(conforming & ~accepted)) / samples,
        float(np.count_nonzero(conforming)) / samples,
        "monte carlo",
        samples,
        seed,
    )
