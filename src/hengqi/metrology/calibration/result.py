"""Results of a calibration of a non-automatic weighing instrument: immutable values.

Everything here follows the structure of EURAMET cg-18 v4.0 (11/2015), "Guidelines on the Calibration of
Non-Automatic Weighing Instruments".  The body of the guide could not be read (see
``/work/shared/reference/standards.md`` section 3); clause numbers quoted in this package come from a
third-party template that cites them and are SECONDARY.  Each value says where its rule comes from.

Units and number types (a project-wide convention of this package):

* values *read or applied* (test loads, conventional masses of the reference weights, indications, the error
  ``E = I - m_ref`` computed from them) are exact :class:`~decimal.Decimal` kilograms, as written in the record;
* *uncertainties*, degrees of freedom, coverage factors and fitted coefficients are binary ``float``
  (kilograms for uncertainties, ``math.inf`` for infinite degrees of freedom).

A :class:`CalibrationResult` holds the whole calibration; a certificate writer renders it and a CLI prints it.
Nothing in this module computes; :mod:`hengqi.metrology.calibration` builds these values.

>>> import math
>>> from decimal import Decimal
>>> c = Contribution("rounding-load", 2.886751345948129e-08, math.inf, "dL/(2*sqrt(3))", Component.INDICATION)
>>> p = CalibrationPoint(load_kg=Decimal("0.1"), reference_mass_kg=Decimal("0.0999999"),
...     no_load_indication_kg=Decimal("0"), load_indication_kg=Decimal("0.1000006"),
...     indication_kg=Decimal("0.1000006"), error_kg=Decimal("0.0000007"),
...     u_kg=9.0e-7, dof=15538.0, k=2.000163, U_kg=1.80e-6, budget=(c,))
>>> p.u_indication_kg == c.u_kg, p.u_reference_kg
(True, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from hengqi.metrology.quantities import format_mass

#: Method citation written on every result (and into certificates).
METHOD: str = "EURAMET cg-18 v4.0 (11/2015)"


class Component(StrEnum):
    """Which side of ``u^2(E) = u^2(I) + u^2(m_ref)`` a contribution belongs to (cg-18 7.1.3, SECONDARY)."""

    INDICATION = "indication"  #: a contribution to u(I): rounding, repeatability, eccentricity (cg-18 7.1.1)
    REFERENCE = "reference"  #: a contribution to u(m_ref): weights, buoyancy, drift, convection (cg-18 7.1.2)


@dataclass(frozen=True, slots=True)
class Contribution:
    """One line of an uncertainty budget: a standard uncertainty in kilograms, already multiplied by its
    sensitivity coefficient, with its degrees of freedom.

    Attributes:
        name: stable identifier, one of ``rounding-no-load``, ``rounding-load``, ``repeatability``,
            ``eccentricity``, ``reference-mass``, ``buoyancy``, ``drift``, ``convection`` (and, for the
            uncertainty in use, ``approximation`` and ``rounding-in-use`` terms).
        u_kg: standard uncertainty contribution ``u_i(E)`` in kg, never negative.
        dof: degrees of freedom ``nu_i`` (``math.inf`` for Type B evaluations).
        description: how it was evaluated, with the clause it follows and its confidence label.
        component: :class:`Component` it belongs to.
        distribution: ``"rectangular"``, ``"normal"``, ``"type-a"`` (a standard deviation of a series).
    """

    name: str
    u_kg: float
    dof: float
    description: str
    component: Component
    distribution: str = "rectangular"


@dataclass(frozen=True, slots=True)
class CalibrationPoint:
    """The error of indication at one test load and its uncertainty (cg-18 7.1, SECONDARY clause numbers).

    Attributes:
        load_kg: nominal test load ``L``.
        reference_mass_kg: conventional mass ``m_ref`` of the weights applied (the nominal value where the
            weights are used by class, else the sum of their certificate values).
        no_load_indication_kg: indication ``I_0`` at no load before the load was applied.
        load_indication_kg: indication ``I_L`` (the mean where several readings were taken).
        indication_kg: ``I = I_L - I_0`` (cg-18 4.2.4 / 7.1.1, SECONDARY).
        error_kg: error of indication ``E = I - m_ref`` (cg-18 4.2.4 / 7.1-1, SECONDARY), exact.
        u_kg: combined standard uncertainty ``u(E)``.
        dof: effective degrees of freedom ``nu_eff`` (Welch-Satterthwaite; ``math.inf`` when all Type B).
        k: coverage factor for 95.45 % from ``nu_eff``.
        U_kg: expanded uncertainty ``U(E) = k u(E)``.
        budget: the contributions, in the order indication terms then reference terms.
        readings: the number of readings averaged into ``load_indication_kg`` (1 for a single reading).
        d_kg: the scale interval ``dL`` of the load indication, set where the instrument has several ranges
            (multi-interval: the partial range of the load; multiple-range: the range in use); ``None`` otherwise.
        range_in_use: the range in use at the load indication (1 = first), where the instrument has several.
    """

    load_kg: Decimal
    reference_mass_kg: Decimal
    no_load_indication_kg: Decimal
    load_indication_kg: Decimal
    indication_kg: Decimal
    error_kg: Decimal
    u_kg: float
    dof: float
    k: float
    U_kg: float
    budget: tuple[Contribution, ...]
    readings: int = 1
    d_kg: Decimal | None = None
    range_in_use: int | None = None

    @property
    def u_indication_kg(self) -> float:
        """``u(I)``: root sum of squares of the indication contributions (cg-18 7.1.1, SECONDARY)."""
        return _rss(c.u_kg for c in self.budget if c.component is Component.INDICATION)

    @property
    def u_reference_kg(self) -> float:
        """``u(m_ref)``: root sum of squares of the reference-mass contributions (cg-18 7.1.2, SECONDARY)."""
        return _rss(c.u_kg for c in self.budget if c.component is Component.REFERENCE)

    def contribution(self, name: str) -> Contribution | None:
        """The budget line called ``name``, or ``None``."""
        return next((c for c in self.budget if c.name == name), None)


@dataclass(frozen=True, slots=True)
class RepeatabilityResult:
    """A repeatability series (cg-18 5.1, SECONDARY: at least 5 loadings, 3 when the load is 100 kg or more).

    Attributes:
        load_kg: test load of the series.
        readings: the indications, in the order read (at least 2).
        mean_kg: their arithmetic mean (exact).
        s_kg: experimental standard deviation ``s`` (n - 1 in the denominator).
        dof: ``n - 1``.
    """

    load_kg: Decimal
    readings: tuple[Decimal, ...]
    mean_kg: Decimal
    s_kg: float
    dof: int


@dataclass(frozen=True, slots=True)
class EccentricityResult:
    """An eccentricity test (cg-18 5.3, SECONDARY clause numbers).

    Attributes:
        load_kg: the eccentric test load ``L_ecc``.
        positions: labels of the load positions in the order tested (the first is normally the centre).
        indications_kg: the indication at each position.
        deviations_kg: ``dI_ecc,i = I_i - I_1``: deviation of each position from the first (the centre).
        max_deviation_kg: ``|dI_ecc|max`` (exact).
    """

    load_kg: Decimal
    positions: tuple[str, ...]
    indications_kg: tuple[Decimal, ...]
    deviations_kg: tuple[Decimal, ...]
    max_deviation_kg: Decimal


@dataclass(frozen=True, slots=True)
class ErrorCurve:
    """An approximation of the errors of indication as a function of the reading ``R`` (in kg).

    ``E_appr(R) = sum(coefficients[j] * R ** powers[j])``.  The models follow the kinds the guide is known to
    offer in its Appendix C (a straight line through zero, a straight line, a polynomial, fitted by weighted /
    generalised least squares); the guide's text was NOT available, so the formulas are this package's
    construction from standard least-squares theory (see :mod:`hengqi.metrology.calibration.curve`).

    Attributes:
        model: ``"linear-through-zero"``, ``"linear"`` or ``"quadratic"``.
        powers: the power of ``R`` multiplying each coefficient.
        coefficients: fitted coefficients (kg^(1 - power)).
        covariance: covariance matrix of the coefficients (row-major tuple of tuples).
        chi2: weighted sum of squared residuals ``sum((E_j - E_appr(R_j))^2 / u^2(E_j))``.
        dof: ``n - number of coefficients``.
        u_approx_kg: an additional standard uncertainty covering the residuals where ``chi2`` exceeds ``dof``
            (hengqi construction, see :mod:`~hengqi.metrology.calibration.curve`); 0 otherwise.
        method: one line saying how it was fitted and from which source.
    """

    model: str
    powers: tuple[int, ...]
    coefficients: tuple[float, ...]
    covariance: tuple[tuple[float, ...], ...]
    chi2: float
    dof: int
    u_approx_kg: float
    method: str

    def error_kg(self, reading_kg: float) -> float:
        """``E_appr(R)``."""
        return sum(a * reading_kg**p for a, p in zip(self.coefficients, self.powers, strict=True))

    def u_kg(self, reading_kg: float) -> float:
        """Standard uncertainty of ``E_appr(R)``: ``sqrt(g^T V g + u_approx^2)`` with ``g_j = R^p_j``."""
        g = [reading_kg**p for p in self.powers]
        var = sum(g[i] * self.covariance[i][j] * g[j] for i in range(len(g)) for j in range(len(g)))
        return math.sqrt(max(var, 0.0) + self.u_approx_kg**2)


@dataclass(frozen=True, slots=True)
class UncertaintyInUse:
    """Uncertainty of a weighing result in normal use, over the weighing range (cg-18 section 7.4/7.5 and
    Appendix C as far as known; the guide's formulas were NOT available; this is a hengqi construction).

    The expanded uncertainty of a result ``W`` at a reading ``R`` is approximated by
    ``U(W) = k * sqrt(alpha_kg^2 + beta^2 * R^2)`` (``beta`` relative, dimensionless; ``k = 2``), the envelope
    of the expanded uncertainties computed along the range with their own Student factors, so that
    ``u(W) = sqrt(alpha_kg^2 + beta^2 * R^2)`` is an effective standard uncertainty.  When the reading is
    *not* corrected by the error curve, the global uncertainty adds the error itself:
    ``U_gl(W) = U(W) + |E_appr(R)|``.

    Attributes:
        alpha_kg: the load-independent part of ``u(W)`` (rounding in use, repeatability).
        beta: the part proportional to ``R`` (calibration uncertainty, eccentricity, temperature, ...).
        k: the factor of the formula, 2 (Student factors for small degrees of freedom are folded into
            ``alpha`` and ``beta``).
        corrected: ``True`` when results in use are corrected by ``E_appr(R)`` (then ``U_gl = U``).
        error_curve: the approximation ``E_appr(R)`` used for correction or added to ``U_gl``.
        budget: the in-use terms, each written at ``R = max_kg`` with the part it contributes.
        max_kg: upper end of the range the formula applies to (Max of the instrument).
        derivation: how ``alpha`` and ``beta`` were derived, in words.
    """

    alpha_kg: float
    beta: float
    k: float
    corrected: bool
    error_curve: ErrorCurve | None
    budget: tuple[Contribution, ...]
    max_kg: float
    derivation: str

    def u_kg(self, reading_kg: float) -> float:
        """``u(W) = sqrt(alpha^2 + beta^2 R^2)``."""
        return math.hypot(self.alpha_kg, self.beta * reading_kg)

    def U_kg(self, reading_kg: float) -> float:  # noqa: N802 - the standards' symbol
        """``U(W) = k u(W)``."""
        return self.k * self.u_kg(reading_kg)

    def global_U_kg(self, reading_kg: float) -> float:  # noqa: N802 - the standards' symbol
        """``U_gl(W)``: ``U(W)`` for corrected results, ``U(W) + |E_appr(R)|`` for uncorrected results."""
        if self.corrected or self.error_curve is None:
            return self.U_kg(reading_kg)
        return self.U_kg(reading_kg) + abs(self.error_curve.error_kg(reading_kg))


class MinimumWeightMethod(StrEnum):
    """The rule a minimum weight was computed by."""

    CG18 = "cg-18"  #: from the uncertainty in use and a relative tolerance (hengqi construction, see module)
    USP41 = "usp-41"  #: USP <41> repeatability rule, 2 s / m <= 0.10 %, s >= 0.41 d (CONFIRMED core rule)


@dataclass(frozen=True, slots=True)
class MinimumWeight:
    """A minimum weight: the smallest net load whose relative uncertainty meets a tolerance.

    Attributes:
        method: :class:`MinimumWeightMethod`.
        value_kg: the minimum weight including the safety factor.
        tolerance: relative weighing tolerance (e.g. 0.001 for 0.10 %).
        safety_factor: factor >= 1 applied on top of the bare minimum weight.
        s_kg: the standard deviation used (USP <41>: the larger of ``s`` and ``0.41 d``); ``None`` for cg-18.
        d_kg: the scale interval used for the 0.41 d floor (USP <41>), where one applies.
        rule: document, edition and clause, with confidence label.
    """

    method: MinimumWeightMethod
    value_kg: float
    tolerance: float
    safety_factor: float
    s_kg: float | None
    d_kg: Decimal | None
    rule: str


class RangeKind(StrEnum):
    """How an instrument with several scale intervals divides its weighing range (OIML R 76-1:2006 T.3.2.4 /
    T.3.2.5 terms; Directive 2014/31/EU Annex I, 3.2 / 3.3)."""

    MULTI_INTERVAL = "multi-interval"  #: one weighing range in partial ranges, d follows the load
    MULTIPLE_RANGE = "multiple-range"  #: several weighing ranges, the one in use is chosen (automatically)


@dataclass(frozen=True, slots=True)
class WeighingRange:
    """One partial range (multi-interval) or weighing range (multiple-range): Max(i), d(i), and e(i) where the
    instrument is verified."""

    max_kg: Decimal
    d_kg: Decimal
    e_kg: Decimal | None = None


@dataclass(frozen=True, slots=True)
class InstrumentSummary:
    """What a calibration result says about the instrument (a calibration needs no accuracy class).

    Attributes:
        max_kg: maximum capacity Max.
        d_kg: actual scale interval d (d1, the smallest, where the instrument has several ranges).
        e_kg: verification scale interval where the instrument is verified; ``None`` otherwise.
        accuracy_class: ``"I"``, ``"II"``, ``"III"``, ``"IIII"`` or ``None``.
        min_kg: Min where stated.
        manufacturer, model, serial_number, identifier: identification (empty when not stated).
        kind: how the ranges divide the weighing range; ``None`` for a single-interval instrument.
        ranges: the partial or weighing ranges in increasing order (empty for a single-interval instrument).
    """

    max_kg: Decimal
    d_kg: Decimal
    e_kg: Decimal | None = None
    accuracy_class: str | None = None
    min_kg: Decimal | None = None
    manufacturer: str = ""
    model: str = ""
    serial_number: str = ""
    identifier: str = ""
    kind: RangeKind | None = None
    ranges: tuple[WeighingRange, ...] = ()


@dataclass(frozen=True, slots=True)
class Environment:
    """Conditions during the calibration (cg-18 4.3 / 5, SECONDARY clause numbers).

    Temperatures in degrees Celsius, relative humidity in percent, pressure in hPa, air density in kg/m^3;
    ``None`` where not recorded.
    """

    temperature_start_c: float | None = None
    temperature_end_c: float | None = None
    relative_humidity_percent: float | None = None
    pressure_hpa: float | None = None
    air_density_kg_m3: float | None = None
    u_air_density_kg_m3: float | None = None  #: standard uncertainty of the air density used for buoyancy
    relative_humidity_end_percent: float | None = None
    pressure_end_hpa: float | None = None
    air_density_method: str = ""  #: how the air density was found (e.g. CIPM-2007), "" where not used


@dataclass(frozen=True, slots=True)
class ReferenceWeightSet:
    """The reference weights used (for the certificate's traceability statement).

    Attributes:
        identifier: the set's identifier or certificate number.
        weight_class: OIML R 111 class where used by class (``"E2"``, ``"M1"``...), else ``None``.
        certificate: calibration certificate reference where used with certificate values.
        quantity: how many identical weights the entry stands for (``20`` for "20 x 1 t").
        nominal_kg: nominal value of one weight, where known.
    """

    identifier: str
    weight_class: str | None = None
    certificate: str = ""
    quantity: int = 1
    nominal_kg: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CalibrationResult:
    """A complete calibration of one weighing instrument to EURAMET cg-18 v4.0 (:data:`METHOD`).

    Attributes:
        instrument: :class:`InstrumentSummary`.
        points: the errors of indication with their uncertainties, in increasing load.
        repeatability: the repeatability series (one or several loads).
        eccentricity: the eccentricity test, where made.
        error_curve: the approximation of the errors over the range, where there are enough points.
        uncertainty_in_use: the uncertainty of a weighing result in use, where computed.
        minimum_weights: the minimum weights (cg-18 style and/or USP <41>).
        environment: :class:`Environment`.
        weights: the reference weights used.
        calibration_date: date of the calibration.
        certificate_number, laboratory, customer, location, operator: identification for the certificate.
        method: citation of the method (always :data:`METHOD`).
        notes: statements a certificate must carry (e.g. which values rest on secondary sources).
    """

    instrument: InstrumentSummary
    points: tuple[CalibrationPoint, ...]
    repeatability: tuple[RepeatabilityResult, ...]
    eccentricity: EccentricityResult | None
    error_curve: ErrorCurve | None
    uncertainty_in_use: UncertaintyInUse | None
    minimum_weights: tuple[MinimumWeight, ...]
    environment: Environment
    weights: tuple[ReferenceWeightSet, ...]
    calibration_date: date
    certificate_number: str = ""
    laboratory: str = ""
    customer: str = ""
    location: str = ""
    operator: str = ""
    method: str = METHOD
    notes: tuple[str, ...] = field(default_factory=tuple)

    def minimum_weight(self, method: MinimumWeightMethod | str) -> MinimumWeight | None:
        """The minimum weight computed by ``method``, or ``None``."""
        return next((m for m in self.minimum_weights if m.method == method), None)


def _rss(values: Iterable[float]) -> float:
    total = 0.0
    for v in values:
        total += v * v
    return math.sqrt(total)


def mass_text(kg: float | Decimal) -> str:
    """A mass for descriptions: exact for decimals, four significant figures for floats.

    >>> mass_text(Decimal("1E-7")), mass_text(3.75e-08)
    ('100 µg', '37.5 µg')
    """
    value = kg if isinstance(kg, Decimal) else Decimal(f"{kg:.4g}")
    return format_mass(value)
