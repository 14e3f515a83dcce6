"""The error of indication at one test load and its uncertainty (EURAMET cg-18 v4.0, 7.1).

``E = I - m_ref`` (cg-18 4.2.4 / 7.1-1), ``u^2(E) = u^2(I) + u^2(m_ref)`` with the two sides uncorrelated
(7.1.3-1a), effective degrees of freedom by Welch-Satterthwaite (Appendix B3-1) and ``k = t_95.45(nu_eff)``
(Student's t at 95.45 %, so that ``k = 2`` for ``nu = inf``).  Clause numbers SECONDARY (from a template
that cites the guide; the guide's body was not available), Welch-Satterthwaite and t from JCGM 100:2008 G.4.

>>> import math
>>> from decimal import Decimal
>>> from hengqi.metrology.calibration.indication import rounding_contribution
>>> from hengqi.metrology.calibration.result import Component, Contribution
>>> ref = Contribution("reference-mass", 2.5e-8, math.inf, "U/k", Component.REFERENCE)
>>> e = error_of_indication(Decimal("0.1"), Decimal("0.0999999"), Decimal("0"), (Decimal("0.1000006"),),
...     (rounding_contribution(Decimal("1e-7"), at_load=False), rounding_contribution(Decimal("1e-7"), at_load=True),
...      ref))
>>> e.error_kg, round(e.k, 4)
(Decimal('7E-7'), 2.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from hengqi.errors import InputError
from hengqi.metrology.calibration.result import CalibrationPoint, Component, Contribution
from hengqi.metrology.gum import coverage_factor_nu_eff, welch_satterthwaite

#: Coverage probability of cg-18 expanded uncertainties (cg-18 v4.0 7.3, SECONDARY; k = 2 for nu = inf).
COVERAGE_PROBABILITY = 0.9545


def combine(budget: Sequence[Contribution]) -> tuple[float, float, float]:
    """``(u_c, nu_eff, k)`` of a budget: root sum of squares, Welch-Satterthwaite, t at 95.45 %.

    cg-18 v4.0 7.1.3 and Appendix B3 (SECONDARY); JCGM 100:2008 G.4.1 (eq. G.2b), G.3.  ``k`` follows hengqi's
    one rule (:func:`~hengqi.metrology.gum.coverage_factor_nu_eff`: ``nu_eff`` truncated to the next lower
    integer before t is read), the same as ``hengqi uncertainty``.

    >>> combine([Contribution("a", 3.0, 4.0, "", Component.INDICATION),
    ...          Contribution("b", 4.0, math.inf, "", Component.REFERENCE)])[:2]
    (5.0, 30.864197530864196)
    """
    for c in budget:
        if not c.u_kg >= 0.0 or not math.isfinite(c.u_kg):
            raise InputError(c.name, f"a standard uncertainty must be finite and non-negative, got {c.u_kg!r}")
    u = math.sqrt(sum(c.u_kg * c.u_kg for c in budget))
    nu = welch_satterthwaite([(c.u_kg, c.dof) for c in budget])
    return u, nu, coverage_factor_nu_eff(nu, COVERAGE_PROBABILITY)


def error_of_indication(
    load_kg: Decimal,
    reference_mass_kg: Decimal,
    no_load_indication_kg: Decimal,
    load_indications_kg: Sequence[Decimal],
    budget: Sequence[Contribution],
) -> CalibrationPoint:
    """Assemble a :class:`CalibrationPoint` from the readings and a complete budget.

    ``I = mean(I_L) - I_0`` and ``E = I - m_ref`` (cg-18 v4.0 4.2.4, 7.1-1, SECONDARY).  ``budget`` must already
    hold every contribution (see :mod:`~hengqi.metrology.calibration.indication` and
    :mod:`~hengqi.metrology.calibration.reference`); they are ordered indication terms first.
    """
    if not load_indications_kg:
        raise InputError("indication", "at least one indication at load is needed")
    n = len(load_indications_kg)
    mean = sum(load_indications_kg, Decimal(0)) / n
    indication = mean - no_load_indication_kg
    ordered = tuple(sorted(budget, key=lambda c: 0 if c.component is Component.INDICATION else 1))
    u, nu, k = combine(ordered)
    return CalibrationPoint(
        load_kg=load_kg,
        reference_mass_kg=reference_mass_kg,
        no_load_indication_kg=no_load_indication_kg,
        load_indication_kg=mean,
        indication_kg=indication,
        error_kg=indication - reference_mass_kg,
        u_kg=u,
        dof=nu,
        k=k,
        U_kg=k * u,
        budget=ordered,
        readings=n,
    )
