"""Agreement with GTC's first-order propagation (GTC is a test-only peer) on random models (Hypothesis).

Tolerances: values to 1e-12 relative; u(y) to 1e-7 relative (hengqi differentiates numerically, GTC
automatically); nu_eff to 1e-6 relative.
"""

from __future__ import annotations

import math

import GTC
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hengqi.metrology.gum import MeasurementModel, Normal, StudentT, propagate

finite = st.floats(-100, 100, allow_nan=False)
coefficient = st.one_of(st.just(0.0), st.floats(1e-3, 100), st.floats(-100, -1e-3))  # GTC loses nu below
positive = st.floats(0.01, 10, allow_nan=False)
dofs = st.one_of(st.just(math.inf), st.integers(2, 60).map(float))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(coefficient, finite, positive, dofs), min_size=1, max_size=6))
def test_linear_models_agree_with_gtc(terms: list[tuple[float, float, float, float]]) -> None:
    names = tuple(f"x{i}" for i in range(len(terms)))
    text = " + ".join(f"({c!r}) * {n}" for (c, _, _, _), n in zip(terms, names, strict=True))
    model = MeasurementModel.from_equations([("y", text)], names)
    inputs = [
        Normal(n, x, u, dof) if math.isinf(dof) else StudentT(n, x, u, dof)
        for (_, x, u, dof), n in zip(terms, names, strict=True)
    ]
    ours = propagate(model, inputs)
    g = sum(c * GTC.ureal(x, u, dof) for c, x, u, dof in terms)
    assert ours.u >= 0.0
    assert ours.value == pytest.approx(GTC.value(g), rel=1e-12, abs=1e-9)
    assert ours.u == pytest.approx(GTC.uncertainty(g), rel=1e-7, abs=1e-12)
    if GTC.uncertainty(g) > 0:
        assert ours.dof == pytest.approx(GTC.dof(g), rel=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    a=st.floats(0.5, 10),
    b=st.floats(-2, 2),
    c=st.floats(1, 50),
    ua=st.floats(0.001, 0.2),
    ub=st.floats(0.001, 0.2),
    uc=st.floats(0.001, 1),
    nu=st.integers(3, 40),
)
def test_non_linear_models_agree_with_gtc(  # noqa: PLR0917 - Hypothesis passes the drawn values
    a: float, b: float, c: float, ua: float, ub: float, uc: float, nu: int
) -> None:
    model = MeasurementModel.from_equations([("y", "a * exp(b) / sqrt(c) + sin(a * b) - log(c) * arctan(b)")])
    ours = propagate(model, [Normal("a", a, ua), StudentT("b", b, ub, nu), Normal("c", c, uc)])
    ga, gb, gc = GTC.ureal(a, ua), GTC.ureal(b, ub, nu), GTC.ureal(c, uc)
    g = ga * GTC.exp(gb) / GTC.sqrt(gc) + GTC.sin(ga * gb) - GTC.log(gc) * GTC.atan(gb)
    assert ours.value == pytest.approx(GTC.value(g), rel=1e-12, abs=1e-12)
    assert ours.u == pytest.approx(GTC.uncertainty(g), rel=1e-7, abs=1e-12)
    for contribution in ours.budget.contributions:
        x = {"a": ga, "b": gb, "c": gc}[contribution.name]
        assert contribution.u_y == pytest.approx(abs(GTC.component(g, x)), rel=1e-6, abs=1e-12)
    if GTC.uncertainty(g) > 1e-9:
        assert ours.dof == pytest.approx(GTC.dof(g), rel=1e-5)
