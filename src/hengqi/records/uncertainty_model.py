"""The uncertainty model file, version 1: a measurement model, its inputs and how to evaluate it.

Format ``hengqi.uncertainty-model``, version 1 (documented in ``docs/uncertainty-model.md``; examples in
``examples/uncertainty/``).  The model is written in the safe expression language of
:mod:`hengqi.metrology.gum.expression`, as one expression (``model``) or as named intermediate ``equations``
evaluated in order.  Inputs carry a probability distribution (JCGM 101:2008, 6.4); ``correlations`` between
normally distributed inputs make them one multivariate normal distribution (JCGM 101:2008, 6.4.8;
JCGM 100:2008, 5.2.2).  Every error is a :class:`hengqi.errors.RecordError` naming the field path.

>>> text = '''
... format: hengqi.uncertainty-model
... version: 1
... model: a + b
... inputs:
...   - {name: a, distribution: normal, mean: 1.0, u: 0.1}
...   - {name: b, distribution: rectangular, mean: 0.0, half_width: 0.2}
... '''
>>> problem = load_uncertainty_model_text(text).to_problem()
>>> problem.model.inputs, problem.p
(('a', 'b'), 0.9545)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from hengqi.errors import InputError, RecordError
from hengqi.metrology.gum import (
    Arcsine,
    CurvilinearTrapezoid,
    Distribution,
    MeasurementModel,
    MultivariateNormal,
    Normal,
    Rectangular,
    StudentT,
    Trapezoidal,
    Triangular,
)
from hengqi.metrology.gum.expression import expression_names
from hengqi.records.loading import parse_yaml_text, read_yaml_file, record_error

__all__ = [
    "UncertaintyModel",
    "UncertaintyProblem",
    "load_uncertainty_model",
    "load_uncertainty_model_text",
    "parse_uncertainty_model",
]

FORMAT = "hengqi.uncertainty-model"
_TAGS = ("normal", "rectangular", "triangular", "trapezoidal", "arcsine", "curvilinear-trapezoid", "t")
Dof = Annotated[
    float | None,
    Field(gt=0, description="Degrees of freedom; absent (or .inf) means infinite, as for Type B evaluations."),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Input(_Model):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Input name, as used in the model.")
    unit: str | None = Field(None, description="Unit, as text (informational).")
    description: str | None = Field(None, description="What the input is and where its value comes from.")
    dof: Dof = None

    @property
    def nu(self) -> float:
        """Degrees of freedom, infinite when not given."""
        return math.inf if self.dof is None else self.dof


class NormalInput(_Input):
    """Gaussian: ``mean`` with ``u``, or with ``expanded`` and ``k`` (u = U/k, JCGM 100:2008, 4.3.3)."""

    distribution: Literal["normal"]
    mean: float
    u: float | None = Field(None, ge=0, description="Standard uncertainty.")
    expanded: float | None = Field(None, ge=0, description="Expanded uncertainty U (with k).")
    k: float | None = Field(None, gt=0, description="Coverage factor of U.")

    @model_validator(mode="after")
    def _one_uncertainty(self) -> NormalInput:
        if (self.u is None) == (self.expanded is None) or (self.expanded is None) != (self.k is None):
            raise PydanticCustomError("invalid", "give either u, or expanded and k")
        return self

    def standard_uncertainty(self) -> float:
        return self.u if self.u is not None else (self.expanded or 0.0) / (self.k or 1.0)


class _Bounded(_Input):
    lower: float | None = Field(None, description="Lower limit a.")
    upper: float | None = Field(None, description="Upper limit b.")
    mean: float | None = Field(None, description="Midpoint (a + b)/2, with half_width.")
    half_width: float | None = Field(None, ge=0, description="Half-width (b - a)/2, with mean.")

    @model_validator(mode="after")
    def _bounds(self) -> _Bounded:
        pair = self.lower is not None and self.upper is not None
        centred = self.mean is not None and self.half_width is not None
        if pair == centred or (self.lower is None) != (self.upper is None):
            raise PydanticCustomError("invalid", "give either lower and upper, or mean and half_width")
        if pair and (self.upper or 0.0) < (self.lower or 0.0):
            raise PydanticCustomError("invalid", "upper must not be below lower")
        return self

    def limits(self) -> tuple[float, float]:
        if self.lower is not None and self.upper is not None:
            return self.lower, self.upper
        mean, half = self.mean or 0.0, self.half_width or 0.0
        return mean - half, mean + half


class RectangularInput(_Bounded):
    """Rectangular on [a, b] (JCGM 101:2008, 6.4.2)."""

    distribution: Literal["rectangular"]


class TriangularInput(_Bounded):
    """Triangular on [a, b], symmetric unless ``mode`` is given (JCGM 101:2008, 6.4.5)."""

    distribution: Literal["triangular"]
    mode: float | None = None


class TrapezoidalInput(_Bounded):
    """Symmetric trapezoid on [a, b] with top/base ratio ``beta`` (JCGM 101:2008, 6.4.4)."""

    distribution: Literal["trapezoidal"]
    beta: float = Field(ge=0, le=1)


class ArcsineInput(_Bounded):
    """U-shaped (arc sine) on [a, b] (JCGM 101:2008, 6.4.6)."""

    distribution: Literal["arcsine"]


class CurvilinearTrapezoidInput(_Bounded):
    """Rectangular with inexactly known limits, each within ±d (JCGM 101:2008, 6.4.3)."""

    distribution: Literal["curvilinear-trapezoid"]
    d: float = Field(ge=0)


class TInput(_Input):
    """Type A (JCGM 100:2008, 4.2; JCGM 101:2008, 6.4.9): ``mean``, ``u`` = s/sqrt(n), ``dof`` = n - 1, or
    ``observations`` (the n indications)."""

    distribution: Literal["t"]
    mean: float | None = None
    u: float | None = Field(None, ge=0)
    observations: list[float] | None = Field(None, min_length=2)

    @model_validator(mode="after")
    def _either(self) -> TInput:
        given = self.mean is not None and self.u is not None and math.isfinite(self.nu)
        if given == (self.observations is not None):
            raise PydanticCustomError("invalid", "give either mean, u and a finite dof, or observations")
        return self


InputModel = Annotated[
    NormalInput
    | RectangularInput
    | TriangularInput
    | TrapezoidalInput
    | ArcsineInput
    | CurvilinearTrapezoidInput
    | TInput,
    Field(discriminator="distribution"),
]


class EquationModel(_Model):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    expression: str = Field(min_length=1)


class CorrelationModel(_Model):
    """Correlation coefficient r(x_i, x_j) of two normally distributed inputs (JCGM 100:2008, 5.2.2)."""

    between: tuple[str, str]
    r: float = Field(ge=-1, le=1)


class MonteCarloModel(_Model):
    """Settings of the Monte Carlo method (JCGM 101:2008, 7.2, 7.9)."""

    trials: int = Field(1_000_000, ge=100, description="Number of trials M for a fixed-M run.")
    adaptive: bool = Field(False, description="Use the adaptive procedure (JCGM 101:2008, 7.9).")
    n_dig: int = Field(2, ge=1, le=6, description="Significant digits of u(y) for 7.9.2 and for validation (8).")
    max_trials: int = Field(10_000_000, ge=20_000, description="Bound of the adaptive procedure.")
    seed: int | None = Field(None, ge=0, description="Random seed; drawn and recorded when absent.")


class MeasurandModel(_Model):
    name: str = Field("y", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    unit: str | None = None
    description: str | None = None


class UncertaintyModel(_Model):
    """An uncertainty model file (format ``hengqi.uncertainty-model``, version 1)."""

    format: Literal["hengqi.uncertainty-model"]
    version: Literal[1]
    title: str | None = None
    reference: str | None = Field(None, description="The published example or procedure this model follows.")
    measurand: MeasurandModel = MeasurandModel()
    model: str | None = Field(None, description="The model y = f(inputs) as one expression.")
    equations: list[EquationModel] | None = Field(None, min_length=1, description="Or named equations; last = y.")
    inputs: list[InputModel] = Field(min_length=1)
    correlations: list[CorrelationModel] = []
    probability: float = Field(0.9545, gt=0, lt=1, description="Coverage probability p.")
    monte_carlo: MonteCarloModel = MonteCarloModel()

    @model_validator(mode="after")
    def _one_model(self) -> UncertaintyModel:
        if (self.model is None) == (self.equations is None):
            raise PydanticCustomError("invalid", "give either model (one expression) or equations")
        return self

    def to_problem(self) -> UncertaintyProblem:
        """Compile the model and build the input distributions; errors name the field path."""
        names = [i.name for i in self.inputs]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise RecordError(f"inputs[{index}].name", f"input {name!r} is defined twice")
        if self.model is not None:
            equations = [(self.measurand.name, self.model)]
        else:
            equations = [(e.name, e.expression) for e in self.equations or ()]
        try:
            model = MeasurementModel.from_equations(equations, names)
        except InputError as err:
            path = err.path.removeprefix("model.")
            raise RecordError(path if self.model is None else "model", err.reason) from err
        used = set().union(*(expression_names(text) for _, text in equations))
        for index, name in enumerate(names):
            if name not in used:
                raise RecordError(f"inputs[{index}].name", f"input {name!r} is not used by the model")
        return UncertaintyProblem(
            model=model,
            distributions=self._distributions(),
            p=self.probability,
            monte_carlo=self.monte_carlo,
            units={i.name: i.unit for i in self.inputs if i.unit}
            | ({model.name: self.measurand.unit} if self.measurand.unit else {}),
            title=self.title,
            reference=self.reference,
        )

    def _distributions(self) -> tuple[Distribution, ...]:
        index = {i.name: n for n, i in enumerate(self.inputs)}
        parent = {name: name for name in index}

        def root(name: str) -> str:
            while parent[name] != name:
                name = parent[name]
            return name

        pairs: dict[tuple[str, str], float] = {}
        for n, c in enumerate(self.correlations):
            a, b = c.between
            for name in (a, b):
                if name not in index:
                    raise RecordError(f"correlations[{n}].between", f"unknown input {name!r}")
                if not isinstance(self.inputs[index[name]], NormalInput):
                    raise RecordError(
                        f"correlations[{n}].between",
                        f"input {name!r} is not normal; correlations are supported between normal inputs "
                        "(JCGM 101:2008, 6.4.8)",
                    )
            if a == b or (a, b) in pairs or (b, a) in pairs:
                raise RecordError(f"correlations[{n}].between", "needs two different inputs, given once")
            pairs[(a, b)] = c.r
            parent[root(a)] = root(b)
        groups: dict[str, list[str]] = {}
        for name in index:
            if any(name in pair for pair in pairs):
                groups.setdefault(root(name), []).append(name)
        grouped = {name for members in groups.values() for name in members}
        out: list[Distribution] = []
        for n, item in enumerate(self.inputs):
            if item.name in grouped:
                continue
            try:
                out.append(_scalar(item))
            except InputError as err:
                raise RecordError(f"inputs[{n}]", str(err)) from err
        for members in groups.values():
            out.append(self._group(members, pairs, index))
        return tuple(out)

    def _group(self, members: list[str], pairs: dict[tuple[str, str], float], index: dict[str, int]) -> Distribution:
        items = [self.inputs[index[m]] for m in members]
        normals = [i for i in items if isinstance(i, NormalInput)]
        r = [[1.0 if a == b else pairs.get((a, b), pairs.get((b, a), 0.0)) for b in members] for a in members]
        try:
            return MultivariateNormal(
                tuple(members),
                tuple(i.mean for i in normals),
                tuple(i.standard_uncertainty() for i in normals),
                tuple(tuple(row) for row in r),
                tuple(i.nu for i in normals),
            )
        except InputError as err:
            raise RecordError("correlations", str(err)) from err


def _scalar(item: Any) -> Distribution:
    if isinstance(item, NormalInput):
        return Normal(item.name, item.mean, item.standard_uncertainty(), item.nu)
    if isinstance(item, TInput):
        if item.observations is not None:
            return StudentT.from_observations(item.name, item.observations)
        return StudentT(item.name, item.mean or 0.0, item.u or 0.0, item.nu)
    lower, upper = item.limits()
    if isinstance(item, RectangularInput):
        return Rectangular(item.name, lower, upper, item.nu)
    if isinstance(item, TriangularInput):
        return Triangular(item.name, lower, upper, item.mode, item.nu)
    if isinstance(item, TrapezoidalInput):
        return Trapezoidal(item.name, lower, upper, item.beta, item.nu)
    if isinstance(item, ArcsineInput):
        return Arcsine(item.name, lower, upper, item.nu)
    return CurvilinearTrapezoid(item.name, lower, upper, item.d, item.nu)


@dataclass(frozen=True, slots=True)
class UncertaintyProblem:
    """A loaded model file, ready for :func:`hengqi.metrology.gum.propagate` and ``monte_carlo``."""

    model: MeasurementModel
    distributions: tuple[Distribution, ...]
    p: float
    monte_carlo: MonteCarloModel
    units: dict[str, str]
    title: str | None
    reference: str | None


def parse_uncertainty_model(data: Any) -> UncertaintyModel:
    """Validate parsed YAML/JSON data; errors are :class:`RecordError` with the field path."""
    if not isinstance(data, dict):
        raise RecordError("", "an uncertainty model file must be a mapping")
    if data.get("format") != FORMAT:
        raise RecordError("format", f"expected {FORMAT!r}, got {data.get('format')!r}")
    try:
        return UncertaintyModel.model_validate(data)
    except ValidationError as err:
        error = record_error(err)
        # drop the distribution tag pydantic puts in the path: inputs[2].normal.u -> inputs[2].u
        path = re.sub(r"^(inputs\[\d+\])\.(" + "|".join(_TAGS) + r")(?=\.|$)", r"\1", error.path)
        raise RecordError(path, error.reason, details=error.details) from err


def load_uncertainty_model_text(text: str, *, source: str = "<text>") -> UncertaintyModel:
    return parse_uncertainty_model(parse_yaml_text(text, source=source))


def load_uncertainty_model(path: str | Path) -> UncertaintyModel:
    """Read an uncertainty model file (YAML)."""
    return parse_uncertainty_model(read_yaml_file(path))
