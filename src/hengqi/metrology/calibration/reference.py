"""Contributions to the uncertainty of the reference mass ``u(m_ref)`` (EURAMET cg-18 v4.0, 7.1.2).

``u^2(m_ref) = u^2(dm_c) + u^2(dm_B) + u^2(dm_D) [+ u^2(dm_conv)]`` (cg-18 v4.0 7.1.2, SECONDARY: read in a
third-party template citing the clause; the guide's body was not available, see
``/work/shared/reference/standards.md`` section 3).  Each term is one :class:`Contribution`:

* ``reference-mass``: weights used *by class* contribute ``mpe / sqrt 3`` each (OIML R 111-1:2004 Table 1 MPE,
  rectangular; the conventional mass is taken as the nominal value), weights used *by certificate* contribute
  ``U / k`` (cg-18 7.1.2-2, SECONDARY).  Several weights are added arithmetically, i.e. taken as fully correlated
  (cg-18 7.1.2.1, SECONDARY).
* ``buoyancy``: the case is chosen from what was measured (cg-18 v4.0 7.1.2.2 distinguishes the cases by whether
  the air density is measured and the weights' density known; SECONDARY, the clause body was not read):

  - air density **not** measured: the R 111 estimate ``u_rel = (0.1 rho0/rhoc + mpe/(4 m_N)) / sqrt 3``
    (DERIVED: the reference reconstructs it from the H1 numbers; it matches the form the template calls
    7.1.2-5d; not read in the guide): the air density is only known to lie within +-10 % of ``rho0``;
  - air density measured (e.g. CIPM-2007 from t, p, h: :mod:`hengqi.metrology.air_density`) and the weight's
    density known (from its certificate): the correction ``dm_B = -m_c (rho_a - rho0)(1/rho - 1/rho_c)`` is
    applied with its propagated uncertainty (hengqi construction from the definition of conventional mass,
    OIML D 28:2004 with ``rho0 = 1.2 kg/m^3``, ``rho_c = 8000 kg/m^3``; first order in the air density);
  - air density measured, the weight's density **not** known but the weight of an R 111 class: no correction;
    ``1/rho - 1/rho_c`` is taken as rectangular within ``+-beta``, ``beta = mpe / (4 * 0.1 rho0 * m_N)``, the
    bound implied by the R 111 density requirement that a 10 % deviation of the air density from ``rho0``
    changes a weight's apparent mass by at most ``mpe/4`` (R 111-1:2004 clause 10 as recalled, its text and
    Table 5 NOT read; the same ``mpe/(4 m_N)`` as in the estimate above), so
    ``u = m_N beta sqrt((rho_a - rho0)^2 + u^2(rho_a)) / sqrt 3`` (hengqi construction).

  ``BuoyancyMethod.AUTO`` picks the first case without an air density and the other two, weight by weight, with
  one; ``BuoyancyMethod.AIR_DENSITY`` requires the air density.
* ``drift``: ``D = k_D U`` with ``k_D`` in [1, 3] (or ``D`` stated), ``u = D / sqrt 3`` (cg-18 7.1.2.3,
  SECONDARY).  Weights used by class carry no separate drift term: a weight still within its class has its
  drift inside the MPE already counted (hengqi construction).
* ``convection``: ``u = dm_conv / sqrt 3`` for a stated bound ``dm_conv`` (cg-18 7.1.2.4, SECONDARY; the guide's
  tables of ``dm_conv`` were not available, so the bound is an input).

>>> from decimal import Decimal
>>> w = ReferenceWeight(nominal_kg=Decimal("0.1"), weight_class="E2", conventional_mass_kg=Decimal("0.0999999"),
...                     U_kg=5e-8, k=2.0)
>>> m, budget, _ = reference_mass_contributions([w], ReferenceConditions())
>>> m, [(c.name, round(c.u_kg * 1e3, 9)) for c in budget]   # u in g
(Decimal('0.0999999'), [('reference-mass', 2.5e-05), ('buoyancy', 0.000889119)])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from hengqi.errors import InputError
from hengqi.metrology.calibration.result import Component, Contribution, mass_text
from hengqi.metrology.weights import weight_mpe

_SQRT3 = math.sqrt(3.0)

#: Reference air density ``rho0`` and reference density of weights ``rho_c`` of conventional mass
#: (OIML D 28:2004; OIML R 111-1:2004 (2.7, SECONDARY: clause number not read)).
RHO0_KG_M3 = 1.2
RHO_C_KG_M3 = 8000.0


class BuoyancyMethod(StrEnum):
    """How the air buoyancy term of the reference mass is evaluated (see the module docstring)."""

    R111 = "r111"  #: weights conforming to R 111, air density not measured (DERIVED formula)
    AIR_DENSITY = "air-density"  #: air density measured; each weight's density known or bounded by its class
    AUTO = "auto"  #: air-density where the air density is known, else r111
    NONE = "none"  #: not considered (the calibration must say why)


@dataclass(frozen=True, slots=True)
class ReferenceWeight:
    """A weight, or ``count`` identical weights, applied as (part of) a test load.

    Attributes:
        nominal_kg: nominal value of one weight.
        count: how many such weights.
        weight_class: OIML R 111 class (``"E2"``, ``"M1"`` ...); required when used by class or for the R 111
            buoyancy estimate.
        conventional_mass_kg: the certificate's conventional mass of one weight; ``None`` when used by class
            (the nominal value is then the reference).
        U_kg, k: expanded uncertainty of the certificate value and its coverage factor (by certificate).
        drift_kg: a stated drift bound ``D`` for one weight (else ``k_D U`` from the conditions).
        density_kg_m3, u_density_kg_m3: density of the weight and its standard uncertainty (air-density option).
        identifier: the weight's or set's identification.
    """

    nominal_kg: Decimal
    count: int = 1
    weight_class: str | None = None
    conventional_mass_kg: Decimal | None = None
    U_kg: float | None = None
    k: float = 2.0
    drift_kg: float | None = None
    density_kg_m3: float | None = None
    u_density_kg_m3: float | None = None
    identifier: str = ""

    @property
    def by_certificate(self) -> bool:
        """Whether the weight is used with its certificate value (``conventional_mass_kg`` and ``U_kg`` given)."""
        return self.conventional_mass_kg is not None

    @property
    def mass_kg(self) -> Decimal:
        """Conventional mass of all ``count`` weights (certificate value, else nominal)."""
        each = self.conventional_mass_kg if self.conventional_mass_kg is not None else self.nominal_kg
        return each * self.count


@dataclass(frozen=True, slots=True)
class ReferenceConditions:
    """Options that apply to all reference weights of a calibration.

    Attributes:
        buoyancy: :class:`BuoyancyMethod`.
        air_density_kg_m3, u_air_density_kg_m3: measured air density and its standard uncertainty
            (``BuoyancyMethod.AIR_DENSITY`` only).
        drift_factor: ``k_D`` in [1, 3] (cg-18 7.1.2.3, SECONDARY) for weights used by certificate without a
            stated drift; ``None``: no drift term for them.
    """

    buoyancy: BuoyancyMethod = BuoyancyMethod.R111
    air_density_kg_m3: float | None = None
    u_air_density_kg_m3: float | None = None
    drift_factor: float | None = None


def _mpe_kg(weight: ReferenceWeight, path: str) -> float:
    if weight.weight_class is None:
        raise InputError(f"{path}.class", "the R 111 class of the weight is needed here")
    try:
        return float(weight_mpe(weight.weight_class, weight.nominal_kg))
    except InputError as err:
        raise err.at(path) from err


def weights_contribution(weights: Sequence[ReferenceWeight]) -> Contribution:
    """``u(dm_c)``: certificate ``U/k`` or class ``mpe/sqrt 3`` per weight, added arithmetically.

    cg-18 v4.0 7.1.2-2 and 7.1.2.1 (SECONDARY); MPE from OIML R 111-1:2004 Table 1 (CONFIRMED).

    >>> round(weights_contribution([ReferenceWeight(Decimal("1000"), 20, "M1")]).u_kg, 4)  # 20 x 50 g / sqrt 3
    0.5774
    """
    total = 0.0
    parts: list[str] = []
    for index, w in enumerate(weights):
        path = f"weights[{index}]"
        if w.count < 1:
            raise InputError(f"{path}.count", f"must be at least 1, got {w.count}")
        if w.by_certificate:
            if w.U_kg is None or w.U_kg < 0 or not math.isfinite(w.U_kg):
                raise InputError(f"{path}.U", "a weight used by certificate needs its expanded uncertainty U")
            if not w.k > 0:
                raise InputError(f"{path}.k", f"the coverage factor must be positive, got {w.k}")
            total += w.count * w.U_kg / w.k
            parts.append(f"{w.count} x U/k = {mass_text(w.U_kg)}/{w.k:g}")
        else:
            mpe = _mpe_kg(w, path)
            total += w.count * mpe / _SQRT3
            parts.append(
                f"{w.count} x mpe({w.weight_class}, {mass_text(w.nominal_kg)})/sqrt(3) = {mass_text(mpe)}/sqrt(3)"
            )
    return Contribution(
        name="reference-mass",
        u_kg=total,
        dof=math.inf,
        description="reference weights, "
        + " + ".join(parts)
        + " added arithmetically (correlated) (cg-18 v4.0 7.1.2-2, 7.1.2.1, SECONDARY; R 111-1:2004 Table 1)",
        component=Component.REFERENCE,
        distribution="normal" if all(w.by_certificate for w in weights) else "rectangular",
    )


def buoyancy_contribution(
    weights: Sequence[ReferenceWeight], conditions: ReferenceConditions
) -> tuple[float, Contribution | None]:
    """The air buoyancy correction ``dm_B`` (kg, 0 unless the air density is measured) and its contribution.

    See the module docstring for the three cases and their sources (DERIVED / hengqi construction).

    >>> w = [ReferenceWeight(Decimal("0.1"), 1, "E2")]
    >>> dm, c = buoyancy_contribution(w, ReferenceConditions())
    >>> dm, round(c.u_kg * 1e3, 9)          # air density not measured (g)
    (0.0, 0.000889119)
    >>> measured = ReferenceConditions(BuoyancyMethod.AUTO, air_density_kg_m3=1.19, u_air_density_kg_m3=0.0008)
    >>> dm, c = buoyancy_contribution(w, measured)
    >>> dm, round(c.u_kg * 1e3, 9)          # measured, density bounded by the class (g)
    (0.0, 1.931e-06)
    """
    if conditions.buoyancy is BuoyancyMethod.NONE:
        return 0.0, None
    rho_a, u_rho_a = conditions.air_density_kg_m3, conditions.u_air_density_kg_m3
    measured = rho_a is not None or u_rho_a is not None
    if conditions.buoyancy is BuoyancyMethod.R111 or (conditions.buoyancy is BuoyancyMethod.AUTO and not measured):
        total = 0.0
        for index, w in enumerate(weights):
            mpe = _mpe_kg(w, f"weights[{index}]")
            total += w.count * (0.1 * RHO0_KG_M3 / RHO_C_KG_M3 * float(w.nominal_kg) + mpe / 4.0) / _SQRT3
        return 0.0, Contribution(
            name="buoyancy",
            u_kg=total,
            dof=math.inf,
            description="air buoyancy, air density not measured: m_N*(0.1*rho0/rho_c + mpe/(4*m_N))/sqrt(3) per "
            "weight, rho0 = 1.2 kg/m3, rho_c = 8000 kg/m3 (cg-18 v4.0 7.1.2-5d as reconstructed from H1: DERIVED, "
            "not read in the guide)",
            component=Component.REFERENCE,
        )
    if rho_a is None or u_rho_a is None or not rho_a > 0 or not u_rho_a >= 0:
        raise InputError("air_density", "the air-density buoyancy option needs the air density and its uncertainty")
    correction = 0.0
    sensitivity_air = 0.0
    var_density = 0.0
    var_class = 0.0
    by_class: list[str] = []
    for index, w in enumerate(weights):
        rho, u_rho = w.density_kg_m3, w.u_density_kg_m3
        m = float(w.mass_kg)
        if rho is None and u_rho is None:
            if w.weight_class is None:
                raise InputError(
                    f"weights[{index}].density", "the weight's density or its R 111 class is needed for buoyancy"
                )
            beta = _mpe_kg(w, f"weights[{index}]") / (4.0 * 0.1 * RHO0_KG_M3 * float(w.nominal_kg))
            var_class += (w.count * float(w.nominal_kg) * beta) ** 2 * ((rho_a - RHO0_KG_M3) ** 2 + u_rho_a**2) / 3.0
            by_class.append(w.identifier or f"weights[{index}]")
            continue
        if rho is None or u_rho is None or not rho > 0 or not u_rho >= 0:
            raise InputError(f"weights[{index}].density", "give the weight's density together with its uncertainty")
        correction -= m * (rho_a - RHO0_KG_M3) * (1.0 / rho - 1.0 / RHO_C_KG_M3)
        sensitivity_air += m * (1.0 / rho - 1.0 / RHO_C_KG_M3)
        var_density += (m * (rho_a - RHO0_KG_M3) * u_rho / rho**2) ** 2
    u = math.sqrt((sensitivity_air * u_rho_a) ** 2 + var_density + var_class)
    parts = []
    if len(by_class) < len(weights):
        parts.append(
            f"correction dm_B = -m_c*(rho_a - rho0)*(1/rho - 1/rho_c) = {mass_text(correction)} applied for the "
            "weights of known density (hengqi construction from OIML D 28:2004 conventional mass)"
        )
    if by_class:
        parts.append(
            "no correction for weights of unknown density (" + ", ".join(by_class) + "): |1/rho - 1/rho_c| <= "
            "mpe/(4*0.1*rho0*m_N) from their R 111 class, u = m_N*beta*sqrt((rho_a - rho0)^2 + u^2(rho_a))/sqrt(3) "
            "(hengqi construction; R 111-1 density requirement as recalled, not read)"
        )
    return correction, Contribution(
        name="buoyancy",
        u_kg=u,
        dof=math.inf,
        description=f"air buoyancy with the air density measured, rho_a = {rho_a:.5f} kg/m3, u(rho_a) = "
        f"{u_rho_a:.2g} kg/m3: " + "; ".join(parts),
        component=Component.REFERENCE,
        distribution="normal" if not by_class else "rectangular",
    )


def drift_contribution(weights: Sequence[ReferenceWeight], drift_factor: float | None) -> Contribution | None:
    """``u(dm_D) = D / sqrt 3`` with ``D = k_D U`` (or a stated ``D``) per weight used by certificate, added
    arithmetically; ``None`` when no weight has a drift term.

    cg-18 v4.0 7.1.2.3 (SECONDARY); ``k_D`` must lie in [1, 3].

    >>> w = ReferenceWeight(Decimal("0.1"), 1, "E2", Decimal("0.0999999"), U_kg=5e-8)
    >>> round(drift_contribution([w], 1.5).u_kg * 1e3, 9)   # g
    4.3301e-05
    """
    if drift_factor is not None and not 1.0 <= drift_factor <= 3.0:
        raise InputError("drift_factor", f"k_D must lie in [1, 3] (cg-18 7.1.2.3), got {drift_factor}")
    total = 0.0
    for index, w in enumerate(weights):
        if w.drift_kg is not None:
            if not w.drift_kg >= 0:
                raise InputError(f"weights[{index}].drift", f"must not be negative, got {w.drift_kg}")
            total += w.count * w.drift_kg
        elif w.by_certificate and drift_factor is not None and w.U_kg is not None:
            total += w.count * drift_factor * w.U_kg
    if total == 0.0:
        return None
    how = f"k_D = {drift_factor:g}" if drift_factor is not None else "stated D"
    return Contribution(
        name="drift",
        u_kg=total / _SQRT3,
        dof=math.inf,
        description=f"drift of the weights since calibration, D/sqrt(3) with D = {mass_text(total)} ({how}) "
        "(cg-18 v4.0 7.1.2.3, SECONDARY)",
        component=Component.REFERENCE,
    )


def convection_contribution(bound_kg: float) -> Contribution:
    """``u(dm_conv) = dm_conv / sqrt 3`` for a stated bound (cg-18 v4.0 7.1.2.4, SECONDARY).

    >>> round(convection_contribution(3e-9).u_kg, 12)
    1.732e-09
    """
    if not bound_kg >= 0 or not math.isfinite(bound_kg):
        raise InputError("convection", f"must be a non-negative mass, got {bound_kg}")
    return Contribution(
        name="convection",
        u_kg=bound_kg / _SQRT3,
        dof=math.inf,
        description=f"convection, dm_conv/sqrt(3) with dm_conv = {mass_text(bound_kg)} (cg-18 v4.0 7.1.2.4, SECONDARY)",
        component=Component.REFERENCE,
    )


def reference_mass_contributions(
    weights: Sequence[ReferenceWeight], conditions: ReferenceConditions, *, convection_kg: float | None = None
) -> tuple[Decimal, tuple[Contribution, ...], float]:
    """``m_ref`` (conventional mass, plus the buoyancy correction where one is applied), the reference-mass
    contributions and the buoyancy correction applied (kg).

    cg-18 v4.0 7.1.2 (SECONDARY); see the module docstring.  The correction is rounded to 1e-12 kg when it is
    added to the exact reference mass.
    """
    if not weights:
        raise InputError("weights", "a test load needs at least one reference weight")
    budget: list[Contribution] = [weights_contribution(weights)]
    correction, buoyancy = buoyancy_contribution(weights, conditions)
    if buoyancy is not None:
        budget.append(buoyancy)
    drift = drift_contribution(weights, conditions.drift_factor)
    if drift is not None:
        budget.append(drift)
    if convection_kg is not None:
        budget.append(convection_contribution(convection_kg))
    m_ref = sum((w.mass_kg for w in weights), Decimal(0))
    if correction != 0.0:
        m_ref += Decimal(repr(correction)).quantize(Decimal("1e-12"))
    return m_ref, tuple(budget), correction


def substitution_contributions(
    steps: Sequence[tuple[Decimal, Decimal]], *, d_kg: Decimal, s_kg: float, s_dof: float
) -> tuple[Decimal, tuple[Contribution, ...]]:
    """Substitution loads: the part of ``m_ref`` they add beyond the standard weights, and its uncertainty.

    EURAMET cg-18 v4.0 is known to allow test loads built up by substitution (standard weights replaced on the
    load receptor by other material until the same indication is reached); its formulas were NOT available, so
    this is a **hengqi construction**.  Step ``j`` reads ``I_s,j`` with the standard weights and ``I_sub,j`` with
    the substitute in their place; the substitute's mass is ``m_s + (I_sub,j - I_s,j)``.  A test load made of
    ``N`` substitutes plus the standard weights is ``(N + 1) m_s + sum(I_sub,j - I_s,j)``: the caller counts the
    standard weights ``N + 1`` times (fully correlated); this function returns the sum of the differences and,
    for the ``2 N`` readings, rounding ``d/(2 sqrt 3)`` and repeatability ``s`` each (independent readings):
    ``u_rounding = sqrt(2 N) d/(2 sqrt 3)``, ``u_repeatability = sqrt(2 N) s`` with ``nu = n - 1``.

    >>> added, budget = substitution_contributions([(Decimal("20000"), Decimal("20020"))], d_kg=Decimal("20"),
    ...                                            s_kg=10.0, s_dof=2.0)
    >>> added, [round(c.u_kg, 3) for c in budget]
    (Decimal('20'), [8.165, 14.142])
    """
    if not steps:
        return Decimal(0), ()
    n = len(steps)
    added = sum((sub - std for std, sub in steps), Decimal(0))
    rounding = Contribution(
        name="substitution-rounding",
        u_kg=math.sqrt(2 * n) * float(d_kg) / (2.0 * _SQRT3),
        dof=math.inf,
        description=f"rounding of the {2 * n} indications of {n} substitution step(s), sqrt({2 * n})*d/(2*sqrt(3)) "
        "(hengqi construction; cg-18 substitution formulas not read)",
        component=Component.REFERENCE,
    )
    repeat = Contribution(
        name="substitution-repeatability",
        u_kg=math.sqrt(2 * n) * s_kg,
        dof=s_dof,
        description=f"repeatability of the {2 * n} indications of {n} substitution step(s), sqrt({2 * n})*s "
        "(hengqi construction; cg-18 substitution formulas not read)",
        component=Component.REFERENCE,
        distribution="type-a",
    )
    return added, (rounding, repeat)
