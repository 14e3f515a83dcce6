"""Measurement models Y = f(X_1, ..., X_N) (JCGM 100:2008, 4.1; JCGM 101:2008, 3.18, 5.1).

A :class:`MeasurementModel` wraps a vectorised callable ``f(**inputs) -> array`` (numpy arrays in, an array of the
same length out) and, optionally, its gradient.  :meth:`MeasurementModel.from_equations` builds one from text in
the safe expression language of :mod:`hengqi.metrology.gum.expression`, with named intermediate equations
evaluated in order (the last one is the measurand); such a model also carries exact first derivatives
(:mod:`hengqi.metrology.gum.differentiation`).

>>> m = MeasurementModel.from_equations([("y", "x1 + 2 * x2")])
>>> m.inputs
('x1', 'x2')
>>> float(m.evaluate({"x1": 1.0, "x2": 3.0}))
7.0
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hengqi.metrology.gum.differentiation import Dual, compile_gradient
from hengqi.metrology.gum.errors import ModelError
from hengqi.metrology.gum.expression import CONSTANTS, Evaluator, compile_expression, expression_names

__all__ = ["MeasurementModel"]

Gradient = Callable[..., Mapping[str, float]]


@dataclass(frozen=True, slots=True)
class MeasurementModel:
    """A measurement function of named inputs.

    ``function`` is called with keyword arguments (one per name in ``inputs``), each a float64 numpy array (or a
    0-d array for point evaluation) and must return values of the measurand.  ``gradient``, if given, is called
    the same way with the estimates and returns the partial derivatives by input name (analytic sensitivity
    coefficients, JCGM 100:2008, 5.1.3).  ``equations`` keeps the source text when the model came from a file.
    """

    function: Callable[..., Any]
    inputs: tuple[str, ...]
    name: str = "y"
    gradient: Gradient | None = None
    equations: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if len(set(self.inputs)) != len(self.inputs):
            raise ModelError("model", f"input names must be unique, got {self.inputs}")

    @classmethod
    def from_callable(
        cls, function: Callable[..., Any], *, name: str = "y", gradient: Gradient | None = None
    ) -> MeasurementModel:
        """Inputs are the callable's parameter names.

        >>> MeasurementModel.from_callable(lambda a, b: a * b).inputs
        ('a', 'b')
        """
        try:
            params = inspect.signature(function).parameters.values()
        except (TypeError, ValueError) as err:
            raise ModelError("model", "cannot read the parameters of the model function") from err
        names = tuple(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
        return cls(function, names, name, gradient)

    @classmethod
    def from_equations(
        cls, equations: Sequence[tuple[str, str]], inputs: Sequence[str] | None = None
    ) -> MeasurementModel:
        """Compile named equations ``[(name, expression), ...]``; the last one defines the measurand.

        Each expression may use the inputs and the names of earlier equations.  When ``inputs`` is None, they are
        the names used but not defined by an equation (sorted by name within each equation, equations in
        order).  Otherwise a name that is neither
        an input nor an earlier equation raises :class:`ModelError` naming it.
        """
        if not equations:
            raise ModelError("model", "at least one equation is needed")
        defined: list[str] = []
        if inputs is None:
            found: list[str] = []
            for index, (eq_name, text) in enumerate(equations):
                used = expression_names(text, f"model.equations[{index}]")
                new = (n for n in used if n not in defined and n not in found and n not in CONSTANTS)
                found.extend(sorted(new))
                defined.append(eq_name)
            inputs = found
            defined = []
        input_names = tuple(inputs)
        compiled: list[tuple[str, Evaluator]] = []
        for index, (eq_name, text) in enumerate(equations):
            path = f"model.equations[{index}]" if len(equations) > 1 else "model"
            if not eq_name.isidentifier() or eq_name in input_names or eq_name in defined:
                raise ModelError(path, f"equation name {eq_name!r} must be a new identifier")
            compiled.append((eq_name, compile_expression(text, (*input_names, *defined), path)))
            defined.append(eq_name)
        steps = tuple(compiled)

        def function(**values: Any) -> Any:
            env = dict(values)
            result: Any = None
            for step_name, evaluator in steps:
                result = env[step_name] = evaluator(env)
            return result

        duals = tuple((n, compile_gradient(t, (*input_names, *defined[:i]))) for i, (n, t) in enumerate(equations))

        def gradient(**values: Any) -> dict[str, float]:
            unit = np.eye(len(input_names))
            env: dict[str, Dual] = {n: (float(values[n]), unit[i]) for i, n in enumerate(input_names)}
            result: Dual = (0.0, np.zeros(len(input_names)))
            for step_name, evaluator in duals:
                result = env[step_name] = evaluator(env)
            return {n: float(result[1][i]) for i, n in enumerate(input_names)}

        return cls(function, input_names, equations[-1][0], gradient, tuple((n, t) for n, t in equations))

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        """f at ``values`` (floats or arrays); float inputs are made numpy float64 so division by zero gives inf."""
        missing = [n for n in self.inputs if n not in values]
        if missing:
            raise ModelError("model", f"no value for input(s) {', '.join(missing)}")
        args = {n: np.asarray(values[n], dtype=np.float64) for n in self.inputs}
        with np.errstate(all="ignore"):
            try:
                return self.function(**args)
            except (ArithmeticError, ValueError, TypeError) as err:
                raise ModelError("model", f"evaluation failed: {type(err).__name__}: {err}") from err
