"""Exact first derivatives of expression-language models (forward-mode automatic differentiation).

Each checked expression (:mod:`hengqi.metrology.gum.expression`) is also compiled into a closure that returns the
value and the gradient with respect to the inputs at one point, by the chain rule applied node by node.  This
gives the sensitivity coefficients c_i = ∂f/∂x_i of JCGM 100:2008, 5.1.3 without a difference step.

>>> g = compile_gradient("a * b + sqrt(c)", ("a", "b", "c"))
>>> value, grad = g({"a": (2.0, np.array([1.0, 0, 0])), "b": (3.0, np.array([0, 1.0, 0])),
...                  "c": (4.0, np.array([0, 0, 1.0]))})
>>> float(value), grad.tolist()
(8.0, [3.0, 2.0, 0.25])
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from hengqi.metrology.gum.errors import ModelError
from hengqi.metrology.gum.expression import CONSTANTS, compile_expression

__all__ = ["Dual", "compile_gradient"]

Dual = tuple[float, NDArray[np.float64]]
"""A value and its gradient with respect to the model inputs."""
DualEvaluator = Callable[[Mapping[str, Dual]], Dual]


def _pow(a: Dual, b: Dual) -> Dual:
    (x, gx), (y, gy) = a, b
    with np.errstate(all="ignore"):
        value = float(np.power(x, y))
        slope = float(y * np.power(x, y - 1.0)) if x != 0.0 or y >= 1.0 else math.inf
        grad = slope * gx if slope != 0.0 else np.zeros_like(gx)
    if np.any(gy != 0.0):
        grad = grad + value * math.log(x) * gy if x > 0.0 else np.full_like(gx, np.nan)
    return value, grad


def _div(a: Dual, b: Dual) -> Dual:
    (x, gx), (y, gy) = a, b
    return x / y, (gx * y - x * gy) / (y * y)


_BINARY: Mapping[type[ast.operator], Callable[[Dual, Dual], Dual]] = {
    ast.Add: lambda a, b: (a[0] + b[0], a[1] + b[1]),
    ast.Sub: lambda a, b: (a[0] - b[0], a[1] - b[1]),
    ast.Mult: lambda a, b: (a[0] * b[0], a[0] * b[1] + b[0] * a[1]),
    ast.Div: _div,
    ast.Pow: _pow,
}

_UNARY_FUNCTIONS: Mapping[str, Callable[[float], tuple[float, float]]] = {
    # name -> x -> (f(x), f'(x))
    "sqrt": lambda x: (math.sqrt(x), 0.5 / math.sqrt(x) if x > 0 else math.inf),
    "exp": lambda x: (math.exp(x), math.exp(x)),
    "log": lambda x: (math.log(x), 1.0 / x),
    "log10": lambda x: (math.log10(x), 1.0 / (x * math.log(10.0))),
    "sin": lambda x: (math.sin(x), math.cos(x)),
    "cos": lambda x: (math.cos(x), -math.sin(x)),
    "tan": lambda x: (math.tan(x), 1.0 / math.cos(x) ** 2),
    "arcsin": lambda x: (math.asin(x), 1.0 / math.sqrt(1.0 - x * x) if abs(x) < 1 else math.inf),
    "arccos": lambda x: (math.acos(x), -1.0 / math.sqrt(1.0 - x * x) if abs(x) < 1 else -math.inf),
    "arctan": lambda x: (math.atan(x), 1.0 / (1.0 + x * x)),
    "abs": lambda x: (abs(x), math.copysign(1.0, x) if x != 0 else 0.0),
}


def _binary_function(name: str, a: Dual, b: Dual) -> Dual:
    (x, gx), (y, gy) = a, b
    if name == "hypot":
        h = math.hypot(x, y)
        return h, (x * gx + y * gy) / h if h > 0 else np.full_like(gx, np.nan)
    r2 = x * x + y * y  # arctan2(y=x, x=y): d = (x_2 dx_1 - x_1 dx_2) / (x_1² + x_2²)
    return math.atan2(x, y), (y * gx - x * gy) / r2 if r2 > 0 else np.full_like(gx, np.nan)


def compile_gradient(source: str, names: Sequence[str], path: str = "model") -> DualEvaluator:
    """Compile ``source`` (checked by :func:`compile_expression` first) into a value-and-gradient closure.

    The closure takes, for each name, a :data:`Dual` (value, gradient) and returns the :data:`Dual` of the
    expression.  Math domain errors (log of a negative value, ...) raise :class:`ModelError`.
    """
    compile_expression(source, names, path)  # the whitelist check, with its error messages
    body = ast.parse(source.strip(), mode="eval").body
    inner = _compile(body, frozenset(names))

    def evaluate(env: Mapping[str, Dual]) -> Dual:
        try:
            with np.errstate(all="ignore"):  # an undefined derivative becomes inf or nan, which callers check
                return inner(env)
        except (ArithmeticError, ValueError) as err:
            raise ModelError(path, f"cannot differentiate at the estimates: {err}") from err

    return evaluate


def _compile(node: ast.AST, names: frozenset[str]) -> DualEvaluator:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        number = float(node.value)
        return lambda env: (number, _zeros(env))
    if isinstance(node, ast.Name):
        name = node.id
        if name not in names:
            constant = CONSTANTS[name]
            return lambda env: (constant, _zeros(env))
        return lambda env: env[name]
    if isinstance(node, ast.BinOp):
        op = _BINARY[type(node.op)]
        left, right = _compile(node.left, names), _compile(node.right, names)
        return lambda env: op(left(env), right(env))
    if isinstance(node, ast.UnaryOp):
        operand = _compile(node.operand, names)
        if isinstance(node.op, ast.USub):

            def negative(env: Mapping[str, Dual]) -> Dual:
                x, gx = operand(env)
                return -x, -gx

            return negative
        return operand
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        fname = node.func.id
        args = [_compile(a, names) for a in node.args]
        if fname in _UNARY_FUNCTIONS:
            rule = _UNARY_FUNCTIONS[fname]
            (only,) = args

            def unary(env: Mapping[str, Dual]) -> Dual:
                x, gx = only(env)
                value, slope = rule(float(x))
                return value, slope * gx if slope != 0.0 else np.zeros_like(gx)

            return unary
        first, second = args
        return lambda env: _binary_function(fname, first(env), second(env))
    raise ModelError("model", f"cannot differentiate {type(node).__name__}")  # pragma: no cover - checked before


def _zeros(env: Mapping[str, Dual]) -> NDArray[np.float64]:
    for _, grad in env.values():
        return np.zeros_like(grad)
    return np.zeros(0)
