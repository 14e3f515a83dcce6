"""EURAMET cg-18 v4.0 Appendix H1, the 100 g point only: SECONDARY and unverified.

Source: /work/shared/reference/standards.md section 3, which quotes a third-party template (calibra-facil method
template "weighing-instrument") that states it reproduces H1 (Max 220 g, d = 0.1 mg, E2 weights, "Situation A
Option 1", buoyancy form 7.1.2-5d).  The guide itself was not available, so these values are not a golden
oracle: they check our arithmetic against the template's, not our fidelity to the guide.

Stated results: u_rep = 0.0001140175 g, u_rounding = 0.0000288675 g (each), u_ecc = 0.0000577354 g,
u_ref = 0.000025 g, u_c = 0.0009001345 g, nu_eff = 15 538.28, k = 2.000163, U = 0.0018004 g; the template's
inputs u_buoyancy = 0.000889 g and u_drift = 0.000036 g are rounded to three and two significant figures.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from hengqi.metrology.calibration.indication import (
    eccentricity_contribution,
    eccentricity_result,
    repeatability_contribution,
    repeatability_result,
    rounding_contribution,
)
from hengqi.metrology.calibration.point import error_of_indication
from hengqi.metrology.calibration.reference import (
    ReferenceConditions,
    ReferenceWeight,
    buoyancy_contribution,
    reference_mass_contributions,
    weights_contribution,
)
from hengqi.metrology.calibration.result import Component, Contribution

G = Decimal("0.001")
READINGS = tuple(Decimal(x) * G for x in ("100.0006", "100.0003", "100.0005", "100.0004", "100.0005"))
D = Decimal("0.0000001")
WEIGHT = ReferenceWeight(Decimal("0.1"), 1, "E2", Decimal("99.9999") * G, U_kg=0.05e-6, k=2.0)


def _indication_budget() -> list[Contribution]:
    series = repeatability_result(Decimal("0.1"), READINGS)
    ecc = eccentricity_result(Decimal("0.1"), ("centre", "off-centre"), (Decimal("0.1"), Decimal("0.1000002")))
    return [
        rounding_contribution(D, at_load=False),
        rounding_contribution(D, at_load=True),
        repeatability_contribution(series),
        eccentricity_contribution(Decimal("100.0006") * G, ecc),
    ]


def test_h1_indication_terms_match_the_template() -> None:
    """Each term to 1e-13 kg (1e-10 g): the template prints ten decimals of a gram."""
    rounding0, rounding_l, rep, ecc = _indication_budget()
    assert rounding0.u_kg == pytest.approx(0.0000288675e-3, abs=1e-13)
    assert rounding_l.u_kg == pytest.approx(0.0000288675e-3, abs=1e-13)
    assert rep.u_kg == pytest.approx(0.0001140175e-3, abs=1e-13)
    assert rep.dof == 4
    assert ecc.u_kg == pytest.approx(0.0000577354e-3, abs=1e-13)
    assert weights_contribution([WEIGHT]).u_kg == pytest.approx(0.000025e-3, abs=1e-13)


def test_h1_buoyancy_by_the_derived_formula() -> None:
    """DERIVED reconstruction: 100 g x (0.1*1.2/8000 + 0.16 mg/(4*100 g))/sqrt(3) = 0.000889 g (3 s.f.)."""
    _, contribution = buoyancy_contribution([WEIGHT], ReferenceConditions())
    assert contribution is not None
    assert contribution.u_kg == pytest.approx(0.000889e-3, abs=0.0000005e-3)


def test_h1_combined_with_the_templates_rounded_inputs() -> None:
    """With the template's rounded u_B = 0.000889 g and u_D = 0.000036 g: u_c to 1e-13 kg, nu_eff to 0.5,
    k to 1e-6, U to 1e-10 kg (the template prints U = 0.0018004 g)."""
    budget = [
        *_indication_budget(),
        weights_contribution([WEIGHT]),
        Contribution("buoyancy", 0.000889e-3, math.inf, "stated", Component.REFERENCE),
        Contribution("drift", 0.000036e-3, math.inf, "stated", Component.REFERENCE),
    ]
    point = error_of_indication(Decimal("0.1"), Decimal("99.9999") * G, Decimal(0), (Decimal("100.0006") * G,), budget)
    assert point.error_kg == Decimal("0.0000007")
    assert point.u_kg == pytest.approx(0.0009001345e-3, abs=1e-13)
    assert point.dof == pytest.approx(15538.28, abs=0.5)
    assert point.k == pytest.approx(2.000163, abs=1e-6)
    assert point.U_kg == pytest.approx(0.0018004e-3, abs=1e-10)


def test_h1_full_pipeline_with_the_unrounded_buoyancy() -> None:
    """The whole reference-mass path (weights, DERIVED buoyancy unrounded, drift D = 0.0624 mg): the unrounded
    buoyancy (0.00088912 g) moves u_c by 1.3e-4 relative; tolerance 2e-4 relative on u_c and U, 0.1 % on nu_eff."""
    weight = ReferenceWeight(Decimal("0.1"), 1, "E2", Decimal("99.9999") * G, U_kg=0.05e-6, k=2.0, drift_kg=0.0624e-6)
    m_ref, reference_budget, correction = reference_mass_contributions([weight], ReferenceConditions())
    assert correction == 0.0
    assert m_ref == Decimal("0.0999999")
    point = error_of_indication(
        Decimal("0.1"), m_ref, Decimal(0), (Decimal("100.0006") * G,), [*_indication_budget(), *reference_budget]
    )
    assert point.u_kg == pytest.approx(0.0009001345e-3, rel=2e-4)
    assert point.dof == pytest.approx(15538.28, rel=1e-3)
    assert point.k == pytest.approx(2.000163, abs=1e-6)
    assert point.U_kg == pytest.approx(0.0018004e-3, rel=2e-4)
    assert point.u_indication_kg**2 + point.u_reference_kg**2 == pytest.approx(point.u_kg**2, rel=1e-12)


def test_h1_combination_agrees_with_gtc() -> None:
    """Independent peer (GTC, test-only): the same budget combined as uncertain reals, tolerance 1e-12 relative."""
    from GTC import reporting, ureal

    budget = [
        *_indication_budget(),
        weights_contribution([WEIGHT]),
        Contribution("buoyancy", 0.000889e-3, math.inf, "stated", Component.REFERENCE),
        Contribution("drift", 0.000036e-3, math.inf, "stated", Component.REFERENCE),
    ]
    total = sum((ureal(0.0, c.u_kg, c.dof) for c in budget), ureal(0.0, 0.0))
    point = error_of_indication(Decimal("0.1"), Decimal("99.9999") * G, Decimal(0), (Decimal("100.0006") * G,), budget)
    assert point.u_kg == pytest.approx(total.u, rel=1e-12)
    assert point.dof == pytest.approx(total.df, rel=1e-9)
    # hengqi's one rule for k: nu_eff truncated to the next lower integer before t is read
    assert point.k == pytest.approx(reporting.k_factor(math.floor(total.df), 95.45), rel=1e-9)
