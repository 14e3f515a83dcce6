"""Law of propagation of uncertainty (JCGM 100:2008, clause 5) against published examples.

Sources and tolerances:
- JCGM 100:2008, Annex H.1, Table H.1 (end gauge): y = 50.000 838 mm, u_c = 32 nm (printed to 2 digits),
  nu_eff = 16 (truncated), t_99(16) = 2.92, U_99 = 2.92 x 32 nm = 93 nm (H.1.6, from the rounded u_c).
  The brief's k = 2.12, U = 67 nm are the same
  evaluation at p = 95 % (t_95(16) = 2.12, Table G.2), tested too.  Components u_i(l) of Table H.1 to 0.1 nm.
- EA-4/02 S2 (10 kg weight), SECONDARY via metrodata S02 (see shared/reference/standards.md, section 3):
  m_X = 10 000.025 g, u_c = 0.029 146 5 g, U = 0.058 g (k = 2).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from hengqi.metrology.gum import (
    MeasurementModel,
    ModelError,
    MultivariateNormal,
    Normal,
    Rectangular,
    StudentT,
    propagate,
)
from hengqi.records.uncertainty_model import load_uncertainty_model

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "uncertainty"


def test_jcgm100_h1_end_gauge() -> None:
    problem = load_uncertainty_model(EXAMPLES / "jcgm100-h1-end-gauge.yaml").to_problem()
    r99 = propagate(problem.model, problem.distributions, p=0.99)
    assert r99.value == pytest.approx(50.000838, abs=5e-10)  # mm
    assert round(r99.u * 1e6) == 32  # nm
    assert math.floor(r99.dof) == 16
    assert round(r99.k, 2) == 2.92
    # H.1.6 multiplies the rounded u_c: U_99 = 2.92 x 32 nm = 93 nm; unrounded, U_99 = 92.5 nm
    assert round(round(r99.k, 2) * round(r99.u * 1e6)) == 93
    assert pytest.approx(92.5, abs=0.05) == r99.U * 1e6
    r95 = propagate(problem.model, problem.distributions, p=0.95)
    assert round(r95.k, 2) == 2.12
    assert round(r95.U * 1e6) == 67
    components = {c.name: c.u_y * 1e6 for c in r99.budget.contributions}  # nm
    assert components["l_s"] == pytest.approx(25.0, abs=0.05)
    assert components["d"] == pytest.approx(9.7, abs=0.05)
    assert components["dalpha"] == pytest.approx(2.9, abs=0.05)
    assert components["dtheta"] == pytest.approx(16.6, abs=0.05)
    assert components["alpha_s"] == pytest.approx(0.0, abs=1e-6)
    assert components["theta"] == pytest.approx(0.0, abs=1e-6)
    assert r99.budget["dalpha"].sensitivity == pytest.approx(-50.000623 * -0.1, rel=1e-6)  # -l_s theta


def test_h1_without_truncating_nu_eff_reads_t_at_the_real_value() -> None:
    problem = load_uncertainty_model(EXAMPLES / "jcgm100-h1-end-gauge.yaml").to_problem()
    r = propagate(problem.model, problem.distributions, p=0.99, truncate_dof=False)
    assert 16 < r.dof < 17
    assert 2.90 < r.k < 2.92


def test_ea_4_02_s2_weight() -> None:
    problem = load_uncertainty_model(EXAMPLES / "ea-4-02-s2-weight.yaml").to_problem()
    r = propagate(problem.model, problem.distributions)
    assert r.value == pytest.approx(10000.025, abs=1e-9)
    # 0.029 146 5 g comes from the rounded contributions 0.008 66 and 0.005 77 g; unrounded 0.029 147 2 g
    assert r.u == pytest.approx(0.0291465, abs=1e-6)
    assert r.k == pytest.approx(2.0, abs=1e-3)
    assert round(r.U, 3) == 0.058
    expected = {"m_S": 0.0225, "dm_D": 0.00866, "dm": 0.0142, "dm_C": 0.00577, "dB": 0.00577}
    for name, u_y in expected.items():
        assert r.budget[name].u_y == pytest.approx(u_y, abs=5e-6)
    assert sum(c.share for c in r.budget.contributions) == pytest.approx(1.0)


def test_analytic_gradient_is_used_when_given() -> None:
    model = MeasurementModel.from_callable(lambda a, b: a * b, gradient=lambda a, b: {"a": float(b), "b": float(a)})
    r = propagate(model, [Normal("a", 2.0, 0.1), Normal("b", 3.0, 0.2)])
    assert r.derivatives == "analytic"
    assert r.rel_step is None
    assert r.u == pytest.approx(math.hypot(3 * 0.1, 2 * 0.2), rel=1e-15)


def test_numeric_sensitivities_match_analytic_ones_and_record_the_step() -> None:
    model = MeasurementModel.from_callable(lambda a, b, c: a * np.exp(b) / np.sqrt(c))
    inputs = [Normal("a", 2.0, 0.1), Normal("b", 0.5, 0.05), Rectangular("c", 3.0, 5.0)]
    r = propagate(model, inputs, rel_step=1e-3)
    assert r.derivatives == "central-difference"
    assert r.rel_step == 1e-3
    c = {x.name: x.sensitivity for x in r.budget.contributions}
    assert c["a"] == pytest.approx(math.exp(0.5) / 2, rel=1e-8)
    assert c["b"] == pytest.approx(2 * math.exp(0.5) / 2, rel=1e-8)
    assert c["c"] == pytest.approx(-0.5 * 2 * math.exp(0.5) * 4**-1.5, rel=1e-8)


@pytest.mark.parametrize(
    "text",
    [
        "a * exp(b) / sqrt(c)",
        "a ** b + c ** 2 - 1 / a",
        "log(a) * log10(c) + sin(b) * cos(a) - tan(b)",
        "arcsin(b) + arccos(b / 2) + arctan(a * b)",
        "arctan2(a, c) + hypot(a, b) + abs(b - c) - e ** b * pi",
        "-a + (+b) - (-c)",
    ],
)
def test_models_from_text_have_exact_derivatives_equal_to_differences(text: str) -> None:
    inputs = [Normal("a", 2.0, 0.1), Normal("b", 0.5, 0.05), Rectangular("c", 3.0, 5.0)]
    exact = propagate(MeasurementModel.from_equations([("y", text)], ("a", "b", "c")), inputs)
    numeric = propagate(
        MeasurementModel(MeasurementModel.from_equations([("y", text)], ("a", "b", "c")).function, ("a", "b", "c")),
        inputs,
    )
    assert exact.derivatives == "analytic"
    assert numeric.derivatives == "central-difference"
    for a, b in zip(exact.budget.contributions, numeric.budget.contributions, strict=True):
        assert a.sensitivity == pytest.approx(b.sensitivity, rel=1e-8, abs=1e-12)


def test_linear_model_from_text_has_unit_sensitivities_exactly() -> None:
    problem = load_uncertainty_model(EXAMPLES / "ea-4-02-s2-weight.yaml").to_problem()
    r = propagate(problem.model, problem.distributions)
    assert [c.sensitivity for c in r.budget.contributions] == [1.0] * 5
    assert r.derivatives == "analytic"


def test_differences_are_used_where_the_exact_derivative_is_not_finite() -> None:
    # d/da (a²)^0.5 at a = 0: the chain rule gives inf x 0; the difference quotient of |a| gives 0
    model = MeasurementModel.from_equations([("y", "(a ** 2) ** 0.5 + b")])
    r = propagate(model, [Normal("a", 0.0, 0.1), Normal("b", 1.0, 0.1)])
    assert r.derivatives == "central-difference"
    assert r.budget["a"].sensitivity == 0.0
    assert r.u == pytest.approx(0.1)


def test_an_undefined_derivative_of_an_exact_input_does_not_matter() -> None:
    model = MeasurementModel.from_equations([("y", "sqrt(a) + b")])
    r = propagate(model, [Rectangular("a", 0.0, 0.0), Normal("b", 1.0, 0.1)])
    assert r.budget["a"].sensitivity == 0.0
    assert r.u == pytest.approx(0.1)


def test_an_undefined_derivative_of_an_uncertain_input_is_named() -> None:
    model = MeasurementModel.from_equations([("y", "sqrt(a) + b")])
    with pytest.raises(ModelError, match=r"^a: model is not finite near the estimates"):
        propagate(model, [Normal("a", 0.0, 0.1), Normal("b", 1.0, 0.1)])


def test_derivatives_through_intermediate_equations() -> None:
    model = MeasurementModel.from_equations([("s", "a * b"), ("y", "s ** 2 + a")], ("a", "b"))
    assert model.gradient is not None
    grad = model.gradient(a=2.0, b=3.0)  # y = a²b² + a
    assert grad == {"a": pytest.approx(2 * 2 * 9 + 1), "b": pytest.approx(2 * 3 * 4)}


def test_correlation_enters_as_jcgm100_eq16() -> None:
    model = MeasurementModel.from_equations([("y", "a - b")])
    for r_ab in (-0.9, 0.0, 0.5, 0.9):
        mv = MultivariateNormal(("a", "b"), (1.0, 1.0), (0.3, 0.4), ((1.0, r_ab), (r_ab, 1.0)))
        g = propagate(model, [mv])
        assert g.u == pytest.approx(math.sqrt(0.09 + 0.16 - 2 * r_ab * 0.12), rel=1e-9)
        assert g.budget.correlation_variance == pytest.approx(-2 * r_ab * 0.12, abs=1e-12)


def test_type_a_input_gives_finite_nu_eff() -> None:
    model = MeasurementModel.from_equations([("y", "I - m")])
    r = propagate(model, [StudentT.from_observations("I", [10.1, 10.3, 10.2, 10.4, 10.2]), Normal("m", 10.0, 0.01)])
    assert r.dof == pytest.approx(4 * (r.u**4) / (r.budget["I"].u_y ** 4), rel=1e-9)


def test_undefined_or_unused_inputs_are_named() -> None:
    model = MeasurementModel.from_equations([("y", "a + b")], ("a", "b"))
    with pytest.raises(ModelError, match="b: input of the model has no distribution"):
        propagate(model, [Normal("a", 1.0, 0.1)])
    with pytest.raises(ModelError, match="c: input is not used by the model"):
        propagate(model, [Normal("a", 1.0, 0.1), Normal("b", 1.0, 0.1), Normal("c", 1.0, 0.1)])
    with pytest.raises(ModelError, match="a: input has more than one distribution"):
        propagate(model, [Normal("a", 1.0, 0.1), Normal("a", 1.0, 0.1), Normal("b", 1.0, 0.1)])


def test_model_not_finite_at_the_estimates_is_refused() -> None:
    model = MeasurementModel.from_equations([("y", "log(a)")])
    with pytest.raises(ModelError, match="not finite"):
        propagate(model, [Normal("a", 0.0, 0.1)])


def test_zero_uncertainty_gives_zero_u_and_infinite_dof() -> None:
    r = propagate(MeasurementModel.from_equations([("y", "2 * a")]), [Normal("a", 1.0, 0.0)])
    assert r.u == 0.0
    assert r.U == 0.0
    assert r.dof == math.inf
    assert r.interval == (2.0, 2.0)
    assert np.isfinite(r.budget["a"].sensitivity)
