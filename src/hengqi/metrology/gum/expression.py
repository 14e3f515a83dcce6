"""A safe expression language for measurement models written in files.

The text is parsed with :func:`ast.parse` (``mode="eval"``) and every node is checked against a whitelist:
numbers, names of inputs or earlier equations, the constants ``pi`` and ``e``, the operators ``+ - * / **``
(binary and unary), and calls of the numpy functions listed in :data:`FUNCTIONS`.  Attribute access,
subscripts, lambdas, comprehensions, keywords and every other construct are refused with a
:class:`~hengqi.metrology.gum.errors.ModelError` naming the offending element.  The checked tree is compiled into
a tree of Python closures over numpy arrays; user text is never passed to :func:`eval`.

>>> f = compile_expression("m_S + dm_D + dm * sqrt(1 + x**2)", ("m_S", "dm_D", "dm", "x"))
>>> float(f({"m_S": 10.0, "dm_D": 0.5, "dm": 2.0, "x": 0.0}))
12.5
>>> compile_expression("x.__class__", ("x",))
Traceback (most recent call last):
...
hengqi.metrology.gum.errors.ModelError: model: attribute access is not allowed ('x.__class__')
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from hengqi.metrology.gum.errors import ModelError

__all__ = ["CONSTANTS", "FUNCTIONS", "Evaluator", "compile_expression", "expression_names"]

Evaluator = Callable[[Mapping[str, Any]], Any]
"""A compiled expression: takes a mapping of names to floats or arrays, returns a float or an array."""

FUNCTIONS: Mapping[str, tuple[Callable[..., Any], int]] = {
    "sqrt": (np.sqrt, 1),
    "exp": (np.exp, 1),
    "log": (np.log, 1),
    "log10": (np.log10, 1),
    "sin": (np.sin, 1),
    "cos": (np.cos, 1),
    "tan": (np.tan, 1),
    "arcsin": (np.arcsin, 1),
    "arccos": (np.arccos, 1),
    "arctan": (np.arctan, 1),
    "arctan2": (np.arctan2, 2),
    "abs": (np.abs, 1),
    "hypot": (np.hypot, 2),
}
"""Whitelisted functions: name -> (numpy function, number of arguments)."""

CONSTANTS: Mapping[str, float] = {"pi": math.pi, "e": math.e}

_BINARY: Mapping[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_UNARY: Mapping[type[ast.unaryop], Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_MAX_LENGTH = 10_000
_MAX_DEPTH = 100


def _text(node: ast.AST, source: str) -> str:
    return ast.get_source_segment(source, node) or type(node).__name__


def _parse(source: str, path: str) -> ast.expr:
    if not isinstance(source, str) or not source.strip():
        raise ModelError(path, "the expression is empty")
    if len(source) > _MAX_LENGTH:
        raise ModelError(path, f"the expression is longer than {_MAX_LENGTH} characters")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as err:
        raise ModelError(path, f"syntax error at column {err.offset or 0}: {err.msg}") from err
    except (RecursionError, MemoryError) as err:
        raise ModelError(path, f"the expression is nested more than {_MAX_DEPTH} levels deep") from err
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:  # iterative, so that the depth check itself cannot overflow
        node, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise ModelError(path, f"the expression is nested more than {_MAX_DEPTH} levels deep")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return tree.body


def expression_names(source: str, path: str = "model") -> frozenset[str]:
    """Names an expression refers to, function names excluded (``pi`` and ``e`` included: they may be inputs).

    >>> sorted(expression_names("a * sqrt(b) + pi"))
    ['a', 'b', 'pi']
    """
    body = _parse(source, path)
    called = {id(n.func) for n in ast.walk(body) if isinstance(n, ast.Call)}
    return frozenset(n.id for n in ast.walk(body) if isinstance(n, ast.Name) and id(n) not in called)


def compile_expression(source: str, names: Sequence[str], path: str = "model") -> Evaluator:
    """Check ``source`` against the whitelist and compile it to a closure over numpy arrays.

    ``names`` are the names the expression may use (inputs, earlier equations); any other name raises
    :class:`ModelError` naming it.
    """
    body = _parse(source.strip(), path)
    stripped = source.strip()
    allowed = frozenset(names)
    return _compile(body, stripped, allowed, path)


def _compile(node: ast.AST, source: str, names: frozenset[str], path: str) -> Evaluator:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ModelError(path, f"only numbers are allowed as constants, not {_text(node, source)!r}")
        number = float(value)
        return lambda env: number
    if isinstance(node, ast.Name):
        name = node.id
        if name.startswith("__"):
            raise ModelError(path, f"name {name!r} is not allowed")
        if name in CONSTANTS and name not in names:
            constant = CONSTANTS[name]
            return lambda env: constant
        if name not in names:
            raise ModelError(path, f"undefined name {name!r} (not an input, an earlier equation or a constant)")
        return lambda env: env[name]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        op = _BINARY[type(node.op)]
        left = _compile(node.left, source, names, path)
        right = _compile(node.right, source, names, path)
        return lambda env: op(left(env), right(env))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        unary = _UNARY[type(node.op)]
        operand = _compile(node.operand, source, names, path)
        return lambda env: unary(operand(env))
    if isinstance(node, ast.Call):
        return _compile_call(node, source, names, path)
    if isinstance(node, ast.Attribute):
        raise ModelError(path, f"attribute access is not allowed ({_text(node, source)!r})")
    if isinstance(node, ast.Subscript):
        raise ModelError(path, f"subscripts are not allowed ({_text(node, source)!r})")
    if isinstance(node, ast.BinOp | ast.UnaryOp):
        raise ModelError(path, f"operator not allowed in {_text(node, source)!r} (only + - * / **)")
    raise ModelError(path, f"{type(node).__name__} is not allowed ({_text(node, source)!r})")


def _compile_call(node: ast.Call, source: str, names: frozenset[str], path: str) -> Evaluator:
    if not isinstance(node.func, ast.Name):
        raise ModelError(path, f"only calls of {', '.join(FUNCTIONS)} are allowed ({_text(node, source)!r})")
    fname = node.func.id
    if fname not in FUNCTIONS:
        raise ModelError(path, f"function {fname!r} is not allowed (allowed: {', '.join(FUNCTIONS)})")
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise ModelError(path, f"{fname}() takes positional arguments only")
    function, arity = FUNCTIONS[fname]
    if len(node.args) != arity:
        raise ModelError(path, f"{fname}() takes {arity} argument(s), got {len(node.args)}")
    args = [_compile(a, source, names, path) for a in node.args]
    if arity == 1:
        (only,) = args
        return lambda env: function(only(env))
    first, second = args
    return lambda env: function(first(env), second(env))
