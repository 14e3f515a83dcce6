"""The safe expression language of model files: whitelisted syntax only, never eval."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hengqi.metrology.gum import MeasurementModel, ModelError, compile_expression

NAMES = ("a", "b", "c")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a + b * c", 1 + 2 * 3),
        ("-a ** 2 + +b / c", -1 + 2 / 3),
        ("(a + b) ** 0.5", math.sqrt(3)),
        ("sqrt(b) + exp(a) + log(c) + log10(100)", math.sqrt(2) + math.e + math.log(3) + 2),
        ("sin(a) + cos(b) + tan(c)", math.sin(1) + math.cos(2) + math.tan(3)),
        ("arcsin(a / 2) + arccos(a / 3) + arctan(b)", math.asin(0.5) + math.acos(1 / 3) + math.atan(2)),
        ("arctan2(a, b) + hypot(b, c) + abs(a - c)", math.atan2(1, 2) + math.hypot(2, 3) + 2),
        ("pi * e * 1e-3", math.pi * math.e * 1e-3),
    ],
)
def test_evaluates_like_python(text: str, expected: float) -> None:
    f = compile_expression(text, NAMES)
    assert float(f({"a": 1.0, "b": 2.0, "c": 3.0})) == pytest.approx(expected, rel=1e-14)


def test_evaluates_over_arrays() -> None:
    f = compile_expression("a * b + sqrt(c)", NAMES)
    a = np.arange(5.0)
    np.testing.assert_allclose(f({"a": a, "b": 2.0 * a, "c": a}), a * 2 * a + np.sqrt(a))


def test_input_named_like_a_constant_wins() -> None:
    assert float(compile_expression("e + 1", ("e",))({"e": 5.0})) == 6.0


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a.__class__", "attribute access is not allowed"),
        ("a.real", "attribute access is not allowed"),
        ("np.sqrt(a)", "only calls of"),
        ("__import__('os')", "function '__import__' is not allowed"),
        ("eval('1')", "function 'eval' is not allowed"),
        ("open('x')", "function 'open' is not allowed"),
        ("__builtins__", "name '__builtins__' is not allowed"),
        ("a[0]", "subscripts are not allowed"),
        ("(lambda: 1)()", "only calls of"),
        ("lambda: 1", "Lambda is not allowed"),
        ("[x for x in a]", "ListComp is not allowed"),
        ("a if b else c", "IfExp is not allowed"),
        ("a < b", "Compare is not allowed"),
        ("a // b", "operator not allowed"),
        ("a % b", "operator not allowed"),
        ("not a", "operator not allowed"),
        ("'text'", "only numbers are allowed"),
        ("True + a", "only numbers are allowed"),
        ("sqrt(a, b)", "takes 1 argument"),
        ("hypot(a)", "takes 2 argument"),
        ("sqrt(x=a)", "positional arguments only"),
        ("sqrt(*a)", "positional arguments only"),
        ("a + ", "syntax error"),
        ("", "empty"),
        ("a = 1", "syntax error"),
        ("d + a", "undefined name 'd'"),
    ],
)
def test_refuses_everything_outside_the_whitelist(text: str, match: str) -> None:
    with pytest.raises(ModelError, match=match):
        compile_expression(text, NAMES)


def test_equations_are_evaluated_in_order_and_may_use_earlier_ones() -> None:
    m = MeasurementModel.from_equations([("s", "a + b"), ("y", "s * s - c")], ("a", "b", "c"))
    assert m.name == "y"
    assert float(m.evaluate({"a": 1.0, "b": 2.0, "c": 4.0})) == 5.0


def test_equations_infer_inputs_when_not_listed() -> None:
    m = MeasurementModel.from_equations([("s", "b + a"), ("y", "s * c")])
    assert m.inputs == ("a", "b", "c")


def test_later_equation_names_are_not_visible_earlier() -> None:
    with pytest.raises(ModelError, match=r"model.equations\[0\]: undefined name 'y2'"):
        MeasurementModel.from_equations([("y1", "a + y2"), ("y2", "a")], ("a",))


def test_equation_name_must_be_new() -> None:
    with pytest.raises(ModelError, match="must be a new identifier"):
        MeasurementModel.from_equations([("a", "a + 1")], ("a",))


def test_division_by_zero_gives_inf_not_an_exception() -> None:
    m = MeasurementModel.from_equations([("y", "1 / a")], ("a",))
    assert math.isinf(float(m.evaluate({"a": 0.0})))


@pytest.mark.parametrize(
    "text", ["-" * 3000 + "a", "+".join(["a"] * 3000), "a" + "**a" * 2000, "(" * 300 + "a" + ")" * 300]
)
def test_deep_nesting_is_refused_not_crashing(text: str) -> None:
    with pytest.raises(ModelError, match="nested"):
        compile_expression(text, NAMES)
