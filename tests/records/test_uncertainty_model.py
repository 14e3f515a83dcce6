"""The uncertainty model file (format hengqi.uncertainty-model, version 1): examples load, errors name the field."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hengqi.errors import RecordError
from hengqi.metrology.gum import MultivariateNormal, Normal, StudentT, propagate
from hengqi.records.schemas import json_schema
from hengqi.records.uncertainty_model import (
    load_uncertainty_model,
    load_uncertainty_model_text,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "uncertainty"
HEAD = "format: hengqi.uncertainty-model\nversion: 1\n"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_examples_load_and_evaluate(path: Path) -> None:
    problem = load_uncertainty_model(path).to_problem()
    result = propagate(problem.model, problem.distributions, p=problem.p)
    assert result.u > 0.0
    assert math.isfinite(result.value)
    assert problem.reference


def test_all_distributions_and_forms() -> None:
    text = (
        HEAD
        + """
model: a + b + c + d + e + f + g + h + t1 + t2
inputs:
  - {name: a, distribution: normal, mean: 1, u: 0.1}
  - {name: b, distribution: normal, mean: 1, expanded: 0.2, k: 2}
  - {name: c, distribution: rectangular, lower: -1, upper: 1}
  - {name: d, distribution: triangular, mean: 0, half_width: 1, mode: 0.5}
  - {name: e, distribution: trapezoidal, lower: 0, upper: 2, beta: 0.5}
  - {name: f, distribution: arcsine, mean: 0, half_width: 1}
  - {name: g, distribution: curvilinear-trapezoid, lower: -1, upper: 1, d: 0.1}
  - {name: h, distribution: normal, mean: 0, u: 0.3, dof: 12}
  - {name: t1, distribution: t, mean: 5, u: 0.2, dof: 4}
  - {name: t2, distribution: t, observations: [1.0, 1.2, 0.9, 1.1]}
correlations:
  - {between: [a, b], r: 0.5}
  - {between: [b, h], r: -0.2}
probability: 0.95
monte_carlo: {trials: 20000, seed: 3, adaptive: false}
"""
    )
    problem = load_uncertainty_model_text(text).to_problem()
    kinds = {type(d).__name__ for d in problem.distributions}
    assert kinds >= {"Rectangular", "Triangular", "Trapezoidal", "Arcsine", "CurvilinearTrapezoid", "StudentT"}
    groups = [d for d in problem.distributions if isinstance(d, MultivariateNormal)]
    assert len(groups) == 1
    assert set(groups[0].names) == {"a", "b", "h"}
    assert groups[0].uncertainties[groups[0].names.index("b")] == pytest.approx(0.1)
    t2 = next(d for d in problem.distributions if isinstance(d, StudentT) and d.name == "t2")
    assert t2.dof == 3
    assert problem.p == 0.95
    assert problem.monte_carlo.seed == 3


def test_equations_and_units() -> None:
    text = (
        HEAD
        + """
measurand: {name: y, unit: g}
equations:
  - {name: s, expression: a * 2}
  - {name: y, expression: s + 1}
inputs:
  - {name: a, distribution: normal, mean: 1, u: 0.1, unit: g}
"""
    )
    problem = load_uncertainty_model_text(text).to_problem()
    assert problem.model.name == "y"
    assert problem.units == {"a": "g", "y": "g"}
    assert isinstance(problem.distributions[0], Normal)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (
            "model: a\ninputs:\n  - {name: a, distribution: normal, mean: 1, u: -0.1}",
            r"^inputs\[0\]\.u: .*greater than",
        ),
        ("model: a\ninputs:\n  - {name: a, distribution: lognormal, mean: 1, u: 1}", r"^inputs\[0\]: .*'lognormal'"),
        ("model: a\ninputs:\n  - {name: a, distribution: normal, mean: 1}", r"^inputs\[0\]: give either u"),
        ("model: a\ninputs:\n  - {name: a, distribution: rectangular, lower: 2, upper: 1}", r"^inputs\[0\]: upper"),
        ("model: a\ninputs:\n  - {name: a, distribution: rectangular, lower: 2}", r"^inputs\[0\]: give either"),
        ("model: a\ninputs:\n  - {name: a, distribution: trapezoidal, lower: 0, upper: 1, beta: 2}", r"beta"),
        ("model: a\ninputs:\n  - {name: a, distribution: t, mean: 1, u: 1}", r"^inputs\[0\]: give either mean"),
        ("model: a + b\ninputs:\n  - {name: a, distribution: normal, mean: 1, u: 1}", r"^model: undefined name 'b'"),
        ("model: a.__class__\ninputs:\n  - {name: a, distribution: normal, mean: 1, u: 1}", r"^model: attribute"),
        ("model: a\ninputs:\n  - {name: a, distribution: normal, mean: 1, u: 1, colour: red}", r"inputs\[0\]\.colour"),
        ("inputs:\n  - {name: a, distribution: normal, mean: 1, u: 1}", r"give either model"),
        ("model: a\ninputs: []", r"^inputs: "),
        (
            "model: a + b\ninputs:\n  - {name: a, distribution: normal, mean: 1, u: 1}\n"
            "  - {name: b, distribution: normal, mean: 1, u: 1}\ncorrelations:\n  - {between: [a, b], r: 1.0}",
            r"^correlations: a, b: correlation matrix is not positive definite",
        ),
        (
            "model: a + b\ninputs:\n  - {name: a, distribution: normal, mean: 1, u: 1}\n"
            "  - {name: b, distribution: rectangular, lower: 0, upper: 1}\n"
            "correlations:\n  - {between: [a, b], r: 0.5}",
            r"^correlations\[0\]\.between: input 'b' is not normal",
        ),
        (
            "model: a\ninputs:\n  - {name: a, distribution: normal, mean: 1, u: 1}\ncorrelations:\n"
            "  - {between: [a, z], r: 0.5}",
            r"unknown input 'z'",
        ),
        (
            "model: a\ninputs:\n  - {name: a, distribution: normal, mean: 1, u: 1}\n"
            "  - {name: a, distribution: normal, mean: 1, u: 1}",
            r"^inputs\[1\]\.name: input 'a' is defined twice",
        ),
        ("model: a\ninputs:\n  - {name: a, distribution: normal, mean: 1, u: 1}\nprobability: 1.5", r"^probability"),
    ],
)
def test_errors_name_the_field(body: str, match: str) -> None:
    with pytest.raises(RecordError, match=match):
        load_uncertainty_model_text(HEAD + body).to_problem()


def test_malformed_yaml_and_wrong_format() -> None:
    with pytest.raises(RecordError, match=r"m.yaml: line 4, column 1: expected"):
        load_uncertainty_model_text(HEAD + "model: [a\n", source="m.yaml")
    with pytest.raises(RecordError, match=r"^format: expected 'hengqi.uncertainty-model'"):
        load_uncertainty_model_text("format: something-else\nversion: 1\n")
    with pytest.raises(RecordError, match=r"^version"):
        load_uncertainty_model_text("format: hengqi.uncertainty-model\nversion: 2\nmodel: a\ninputs: []\n")
    with pytest.raises(RecordError, match=r"must be a mapping"):
        load_uncertainty_model_text("- 1\n- 2\n")
    with pytest.raises(RecordError, match="no such file"):
        load_uncertainty_model(EXAMPLES / "missing.yaml")


def test_json_schema_is_registered() -> None:
    schema = json_schema("uncertainty-model")
    assert schema["title"] == "UncertaintyModel"
    assert "inputs" in schema["properties"]


def test_committed_schema_equals_generated() -> None:
    from hengqi.records.schemas import schema_text

    committed = (EXAMPLES.parents[1] / "docs/schemas/uncertainty-model.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text("uncertainty-model")
    assert "Infinity" not in committed  # valid JSON


def test_dof_may_be_written_as_inf_or_left_out() -> None:
    text = HEAD + "model: a + b\ninputs:\n  - {name: a, distribution: normal, mean: 1, u: 1, dof: .inf}\n"
    text += "  - {name: b, distribution: normal, mean: 1, u: 1, dof: 7}\n"
    problem = load_uncertainty_model_text(text).to_problem()
    assert [d.dof for d in problem.distributions] == [math.inf, 7.0]  # type: ignore[union-attr]
