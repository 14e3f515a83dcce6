"""Weights of OIML R 111-1:2004: maximum permissible errors, and whether test weights suit a test load.

:data:`R111_TABLE_1` is OIML R 111-1:2004, Table 1 (MPE +-delta m in mg, nominal values 1 mg to 5 000 kg,
classes E1 to M3). CONFIRMED by cross-check of independent transcriptions (vendor sheet, KERN, Greek draft
law, a copy of the top rows of the table; shared reference section 2); the text of R 111-1 itself was not read.
A "-" cell (the class is not defined for that nominal value) raises :class:`~hengqi.errors.NotCoveredError`.

Test-weight adequacy: the weights making up a test load should have errors not exceeding 1/3 of the
instrument's MPE at that load. That 1/3 rule is SECONDARY: the wording of R 111-1 5.2 and of R 76-1 on
standards was not read; Lammi's note on selecting standard weights calls it the usual condition and USP <41>
uses the same 1/3 for test weights (shared reference 2). Here it is applied to the load: the sum of the MPEs of
the weights (or, for weights used by certificate, the sum of their expanded uncertainties at k = 2) must not
exceed MPE(load)/3. The sum is linear (weights calibrated against the same standards are correlated, so
adding in quadrature would understate it); the comparison is exact (3 x sum <= MPE).

>>> weight_mpe("F1", Decimal("0.1"))
Decimal('5E-7')
>>> weight_mpe(WeightClass.M3, "500 mg")
Traceback (most recent call last):
...
hengqi.errors.NotCoveredError: nominal: class M3 is not defined for 500 mg in OIML R 111-1:2004, Table 1
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final, Literal

from hengqi.errors import InputError, NotCoveredError
from hengqi.metrology.classes import InstrumentSpecification
from hengqi.metrology.mpe import Stage, mpe
from hengqi.metrology.quantities import MASS_UNITS, format_mass, parse_mass
from hengqi.metrology.rulesets import DEFAULT_RULE_SET, RuleSet

RULE_R111_TABLE_1: Final = "OIML R 111-1:2004, Table 1"
RULE_ONE_THIRD: Final = (
    "test weights: errors <= 1/3 of the instrument MPE at the load (SECONDARY: R 111-1 5.2 / R 76-1 wording not "
    "read; Lammi, USP <41>)"
)
_MG: Final = MASS_UNITS["mg"]


class WeightClass(StrEnum):
    """Accuracy classes of weights, OIML R 111-1:2004 (E1 most accurate to M3)."""

    E1 = "E1"
    E2 = "E2"
    F1 = "F1"
    F2 = "F2"
    M1 = "M1"
    M1_2 = "M1-2"
    M2 = "M2"
    M2_3 = "M2-3"
    M3 = "M3"


_CLASSES: Final = tuple(WeightClass)
#: OIML R 111-1:2004, Table 1: nominal value -> MPE in mg for E1, E2, F1, F2, M1, M1-2, M2, M2-3, M3
#: (None = "-", class not defined). Transcribed from the shared reference, section 2.
_TABLE_MG: Final[tuple[tuple[str, tuple[str | None, ...]], ...]] = (
    ("5000 kg", (None, None, "25000", "80000", "250000", "500000", "800000", "1600000", "2500000")),
    ("2000 kg", (None, None, "10000", "30000", "100000", "200000", "300000", "600000", "1000000")),
    ("1000 kg", (None, "1600", "5000", "16000", "50000", "100000", "160000", "300000", "500000")),
    ("500 kg", (None, "800", "2500", "8000", "25000", "50000", "80000", "160000", "250000")),
    ("200 kg", (None, "300", "1000", "3000", "10000", "20000", "30000", "60000", "100000")),
    ("100 kg", (None, "160", "500", "1600", "5000", "10000", "16000", "30000", "50000")),
    ("50 kg", ("25", "80", "250", "800", "2500", "5000", "8000", "16000", "25000")),
    ("20 kg", ("10", "30", "100", "300", "1000", None, "3000", None, "10000")),
    ("10 kg", ("5", "16", "50", "160", "500", None, "1600", None, "5000")),
    ("5 kg", ("2.5", "8.0", "25", "80", "250", None, "800", None, "2500")),
    ("2 kg", ("1.0", "3.0", "10", "30", "100", None, "300", None, "1000")),
    ("1 kg", ("0.5", "1.6", "5", "16", "50", None, "160", None, "500")),
    ("500 g", ("0.25", "0.8", "2.5", "8.0", "25", None, "80", None, "250")),
    ("200 g", ("0.1", "0.3", "1.0", "3.0", "10", None, "30", None, "100")),
    ("100 g", ("0.05", "0.16", "0.5", "1.6", "5", None, "16", None, "50")),
    ("50 g", ("0.03", "0.1", "0.3", "1.0", "3.0", None, "10", None, "30")),
    ("20 g", ("0.025", "0.08", "0.25", "0.8", "2.5", None, "8.0", None, "25")),
    ("10 g", ("0.02", "0.06", "0.2", "0.6", "2.0", None, "6.0", None, "20")),
    ("5 g", ("0.016", "0.05", "0.16", "0.5", "1.6", None, "5.0", None, "16")),
    ("2 g", ("0.012", "0.04", "0.12", "0.4", "1.2", None, "4.0", None, "12")),
    ("1 g", ("0.01", "0.03", "0.1", "0.3", "1.0", None, "3.0", None, "10")),
    ("500 mg", ("0.008", "0.025", "0.08", "0.25", "0.8", None, "2.5", None, None)),
    ("200 mg", ("0.006", "0.02", "0.06", "0.2", "0.6", None, "2.0", None, None)),
    ("100 mg", ("0.005", "0.016", "0.05", "0.16", "0.5", None, "1.6", None, None)),
    ("50 mg", ("0.004", "0.012", "0.04", "0.12", "0.4", None, None, None, None)),
    ("20 mg", ("0.003", "0.01", "0.03", "0.1", "0.3", None, None, None, None)),
    ("10 mg", ("0.003", "0.008", "0.025", "0.08", "0.25", None, None, None, None)),
    ("5 mg", ("0.003", "0.006", "0.02", "0.06", "0.2", None, None, None, None)),
    ("2 mg", ("0.003", "0.006", "0.02", "0.06", "0.2", None, None, None, None)),
    ("1 mg", ("0.003", "0.006", "0.02", "0.06", "0.2", None, None, None, None)),
)

#: OIML R 111-1:2004, Table 1 as exact values: (nominal kg, class) -> MPE in mg, or None where not defined.
R111_TABLE_1: Final[dict[tuple[Decimal, WeightClass], Decimal | None]] = {
    (parse_mass(nominal), cls): (None if cell is None else Decimal(cell))
    for nominal, cells in _TABLE_MG
    for cls, cell in zip(_CLASSES, cells, strict=True)
}
#: The nominal values of R 111-1 Table 1, in kg, smallest first.
NOMINAL_VALUES_KG: Final[tuple[Decimal, ...]] = tuple(sorted({nominal for nominal, _ in R111_TABLE_1}))


def parse_weight_class(value: WeightClass | str, *, path: str = "class") -> WeightClass:
    """Read a weight class as written (``"f1"``, ``"M1-2"``, ``"M1_2"``).

    >>> parse_weight_class("m1_2")
    <WeightClass.M1_2: 'M1-2'>
    """
    if isinstance(value, WeightClass):
        return value
    text = str(value).strip().upper().replace("_", "-")
    try:
        return WeightClass(text)
    except ValueError:
        known = ", ".join(c.value for c in WeightClass)
        raise InputError(path, f"unknown weight class {value!r} (known: {known})") from None


def _nominal(value: Decimal | str, path: str) -> Decimal:
    kg = value if isinstance(value, Decimal) else parse_mass(value, path=path, default_unit="kg")
    if not kg.is_finite() or kg <= 0:
        raise InputError(path, "a nominal value must be greater than zero")
    for nominal in NOMINAL_VALUES_KG:
        if nominal == kg:
            return nominal
    raise NotCoveredError(
        path,
        f"{format_mass(kg)} is not a nominal value of {RULE_R111_TABLE_1} (1, 2 or 5 x 10^k from 1 mg to 5000 kg)",
    )


def weight_mpe_mg(weight_class: WeightClass | str, nominal_kg: Decimal | str) -> Decimal:
    """MPE (+-delta m) in mg of a weight, OIML R 111-1:2004, Table 1.

    >>> weight_mpe_mg("E2", "100 g"), weight_mpe_mg("M1-2", "50 kg")
    (Decimal('0.16'), Decimal('5000'))
    """
    cls = parse_weight_class(weight_class)
    nominal = _nominal(nominal_kg, "nominal")
    value = R111_TABLE_1[(nominal, cls)]
    if value is None:
        raise NotCoveredError(
            "nominal", f"class {cls} is not defined for {format_mass(nominal)} in {RULE_R111_TABLE_1}"
        )
    return value


def weight_mpe(weight_class: WeightClass | str, nominal_kg: Decimal | str) -> Decimal:
    """MPE (+-delta m) in kg of a weight, OIML R 111-1:2004, Table 1 (exact).

    >>> weight_mpe("M3", "5000 kg")
    Decimal('2.500000')
    """
    return weight_mpe_mg(weight_class, nominal_kg) * _MG


@dataclass(frozen=True, slots=True)
class StandardWeight:
    """A weight used by its class: its error is bounded by the R 111-1 Table 1 MPE."""

    weight_class: WeightClass
    nominal_kg: Decimal

    @classmethod
    def of(cls, weight_class: WeightClass | str, nominal: Decimal | str) -> StandardWeight:
        """A weight of a class and nominal value (checked against R 111-1 Table 1)."""
        weight = cls(parse_weight_class(weight_class), _nominal(nominal, "nominal"))
        weight_mpe(weight.weight_class, weight.nominal_kg)
        return weight

    @property
    def mpe_kg(self) -> Decimal:
        """The weight's MPE (R 111-1 Table 1)."""
        return weight_mpe(self.weight_class, self.nominal_kg)


@dataclass(frozen=True, slots=True)
class CertifiedWeight:
    """A weight used by its calibration certificate: conventional mass = nominal + correction, with U at k.

    Used this way the reference value is the conventional mass and the weight's contribution to the 1/3 check
    is its expanded uncertainty rescaled to k = 2 (U x 2 / k), the coverage for which the 1/3 condition is
    quoted (SECONDARY, see the module note).
    """

    nominal_kg: Decimal
    correction_kg: Decimal
    expanded_uncertainty_kg: Decimal
    coverage_factor: Decimal = Decimal(2)

    def __post_init__(self) -> None:
        for name in ("nominal_kg", "correction_kg", "expanded_uncertainty_kg", "coverage_factor"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite():
                raise InputError(name, f"must be a finite Decimal, got {value!r}")
        if self.nominal_kg <= 0:
            raise InputError("nominal_kg", "must be greater than zero")
        if self.expanded_uncertainty_kg < 0:
            raise InputError("expanded_uncertainty_kg", "must not be negative")
        if self.coverage_factor <= 0:
            raise InputError("coverage_factor", "must be greater than zero")

    @property
    def conventional_mass_kg(self) -> Decimal:
        """Nominal value plus the certificate's correction."""
        return self.nominal_kg + self.correction_kg

    @property
    def uncertainty_k2_kg(self) -> Decimal:
        """The expanded uncertainty at k = 2."""
        return self.expanded_uncertainty_kg * 2 / self.coverage_factor


Basis = Literal["mpe", "certificate", "mixed"]


@dataclass(frozen=True, slots=True)
class WeightContribution:
    """One weight's part in a test load: its reference mass and its error bound (MPE, or U at k = 2)."""

    nominal_kg: Decimal
    reference_kg: Decimal
    bound_kg: Decimal
    basis: Literal["mpe", "certificate"]
    weight_class: WeightClass | None


@dataclass(frozen=True, slots=True)
class WeightAdequacy:
    """Whether test weights suit a load: sum of their bounds <= MPE(load)/3, compared exactly.

    ``load_kg`` is the reference value of the load (nominal values, or conventional masses for certified
    weights); ``limit_kg`` = MPE/3 is shown for people (28 significant digits), the verdict uses 3 x total <= MPE.
    """

    contributions: tuple[WeightContribution, ...]
    nominal_load_kg: Decimal
    load_kg: Decimal
    total_bound_kg: Decimal
    instrument_mpe_kg: Decimal
    limit_kg: Decimal
    ratio: Decimal
    adequate: bool
    basis: Basis
    rule: str


def _contribution(weight: StandardWeight | CertifiedWeight) -> WeightContribution:
    if isinstance(weight, StandardWeight):
        return WeightContribution(weight.nominal_kg, weight.nominal_kg, weight.mpe_kg, "mpe", weight.weight_class)
    if isinstance(weight, CertifiedWeight):
        return WeightContribution(
            weight.nominal_kg, weight.conventional_mass_kg, weight.uncertainty_k2_kg, "certificate", None
        )
    raise InputError("weights", f"expected StandardWeight or CertifiedWeight, got {type(weight).__name__}")


def weights_adequate(weights: Sequence[StandardWeight | CertifiedWeight], instrument_mpe_kg: Decimal) -> WeightAdequacy:
    """Check that the weights making up a load have total error bound <= 1/3 of the instrument MPE (SECONDARY).

    >>> w = [StandardWeight.of("M1", "2 kg"), StandardWeight.of("M1", "500 g")]
    >>> r = weights_adequate(w, Decimal("0.0025"))    # class III, e = 5 g, 2.5 kg: MPE 2.5 g
    >>> r.total_bound_kg, r.adequate
    (Decimal('0.000125'), True)
    """
    if not weights:
        raise InputError("weights", "at least one weight is needed")
    if not isinstance(instrument_mpe_kg, Decimal) or not instrument_mpe_kg.is_finite() or instrument_mpe_kg <= 0:
        raise InputError("instrument_mpe", f"must be a positive Decimal, got {instrument_mpe_kg!r}")
    parts = tuple(_contribution(weight) for weight in weights)
    total = sum((part.bound_kg for part in parts), Decimal(0))
    bases = {part.basis for part in parts}
    basis: Basis = "mixed" if len(bases) > 1 else ("mpe" if bases == {"mpe"} else "certificate")
    return WeightAdequacy(
        contributions=parts,
        nominal_load_kg=sum((part.nominal_kg for part in parts), Decimal(0)),
        load_kg=sum((part.reference_kg for part in parts), Decimal(0)),
        total_bound_kg=total,
        instrument_mpe_kg=instrument_mpe_kg,
        limit_kg=instrument_mpe_kg / 3,
        ratio=total / instrument_mpe_kg,
        adequate=3 * total <= instrument_mpe_kg,
        basis=basis,
        rule=RULE_ONE_THIRD,
    )


def weights_adequate_for(
    weights: Sequence[StandardWeight | CertifiedWeight],
    spec: InstrumentSpecification,
    *,
    stage: Stage | str = Stage.INITIAL,
    rules: str | RuleSet = DEFAULT_RULE_SET,
) -> WeightAdequacy:
    """:func:`weights_adequate` with the instrument MPE at the weights' nominal load (see :mod:`.mpe`).

    >>> spec = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
    >>> weights_adequate_for([StandardWeight.of("M2", "10 kg")], spec).adequate   # 1.6 g <= 5 g / 3
    True
    """
    if not weights:
        raise InputError("weights", "at least one weight is needed")
    load = sum((_contribution(weight).nominal_kg for weight in weights), Decimal(0))
    return weights_adequate(weights, mpe(load, spec, stage=stage, rules=rules))
