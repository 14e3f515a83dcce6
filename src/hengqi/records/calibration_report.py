"""The result of ``hengqi calibrate`` as a JSON document (``hengqi calibrate --json``).

Format ``hengqi.calibration-result``, version 1.  Masses and uncertainties are numbers in kilograms and their
keys say so (``load_kg``, ``error_kg``, ``u_kg``, ``U_kg``); infinite degrees of freedom are written ``null``
(JSON has no infinity).  Contract relied on by scripts: ``points`` (each with ``load_kg``, ``error_kg``,
``u_kg``, ``k``, ``U_kg``), ``minimum_weight_kg`` (the largest minimum weight computed, i.e. the binding one,
or ``null``), ``budget`` (one entry per point), ``repeatability``, ``eccentricity``, ``uncertainty_in_use``.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from hengqi.metrology.calibration.evaluate import PROVENANCE
from hengqi.metrology.calibration.result import (
    CalibrationPoint,
    CalibrationResult,
    Contribution,
    EccentricityResult,
    ErrorCurve,
    MinimumWeight,
    RepeatabilityResult,
    UncertaintyInUse,
)

RESULT_FORMAT = "hengqi.calibration-result"
RESULT_VERSION = 1


def _kg(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _dof(value: float) -> float | None:
    """Degrees of freedom as JSON: ``null`` for infinity.

    >>> _dof(math.inf), _dof(4.0)
    (None, 4.0)
    """
    return None if math.isinf(value) else value


def contribution_document(c: Contribution) -> dict[str, Any]:
    """One budget line as JSON."""
    return {
        "name": c.name,
        "u_kg": c.u_kg,
        "dof": _dof(c.dof),
        "component": c.component.value,
        "distribution": c.distribution,
        "description": c.description,
    }


def point_document(p: CalibrationPoint) -> dict[str, Any]:
    """One calibration point as JSON (with ``range`` and ``d_kg``, the range in use and its d, where the
    instrument has several ranges)."""
    ranges = {} if p.range_in_use is None else {"range": p.range_in_use, "d_kg": _kg(p.d_kg)}
    return ranges | {
        "load_kg": _kg(p.load_kg),
        "reference_mass_kg": _kg(p.reference_mass_kg),
        "no_load_indication_kg": _kg(p.no_load_indication_kg),
        "load_indication_kg": _kg(p.load_indication_kg),
        "indication_kg": _kg(p.indication_kg),
        "readings": p.readings,
        "error_kg": _kg(p.error_kg),
        "u_kg": p.u_kg,
        "u_indication_kg": p.u_indication_kg,
        "u_reference_kg": p.u_reference_kg,
        "dof": _dof(p.dof),
        "k": p.k,
        "U_kg": p.U_kg,
        "budget": [contribution_document(c) for c in p.budget],
    }


def repeatability_document(r: RepeatabilityResult) -> dict[str, Any]:
    """A repeatability series as JSON."""
    return {
        "load_kg": _kg(r.load_kg),
        "readings_kg": [_kg(x) for x in r.readings],
        "mean_kg": _kg(r.mean_kg),
        "s_kg": r.s_kg,
        "dof": r.dof,
    }


def eccentricity_document(e: EccentricityResult | None) -> dict[str, Any] | None:
    """The eccentricity test as JSON (``None`` when not made)."""
    if e is None:
        return None
    return {
        "load_kg": _kg(e.load_kg),
        "positions": [
            {"position": name, "indication_kg": _kg(i), "deviation_kg": _kg(dev)}
            for name, i, dev in zip(e.positions, e.indications_kg, e.deviations_kg, strict=True)
        ],
        "max_deviation_kg": _kg(e.max_deviation_kg),
    }


def curve_document(c: ErrorCurve | None) -> dict[str, Any] | None:
    """The error curve as JSON."""
    if c is None:
        return None
    return {
        "model": c.model,
        "powers": list(c.powers),
        "coefficients": list(c.coefficients),
        "covariance": [list(row) for row in c.covariance],
        "chi2": c.chi2,
        "dof": c.dof,
        "u_approx_kg": c.u_approx_kg,
        "method": c.method,
    }


def in_use_document(w: UncertaintyInUse | None) -> dict[str, Any] | None:
    """The uncertainty in use as JSON, with ``U(W)`` and ``U_gl(W)`` tabulated at 0, 10 %, ... 100 % of Max."""
    if w is None:
        return None
    table = []
    for tenth in range(11):
        reading = w.max_kg * tenth / 10
        table.append({"reading_kg": reading, "U_kg": w.U_kg(reading), "global_U_kg": w.global_U_kg(reading)})
    return {
        "formula": "U(W) = k*sqrt(alpha^2 + beta^2*R^2); U_gl(W) = U(W) + |E_appr(R)| unless corrected",
        "alpha_kg": w.alpha_kg,
        "beta": w.beta,
        "k": w.k,
        "corrected": w.corrected,
        "max_kg": w.max_kg,
        "derivation": w.derivation,
        "budget_at_max": [contribution_document(c) for c in w.budget],
        "table": table,
    }


def minimum_weight_document(m: MinimumWeight) -> dict[str, Any]:
    """One minimum weight as JSON."""
    return {
        "method": m.method.value,
        "value_kg": m.value_kg,
        "tolerance": m.tolerance,
        "safety_factor": m.safety_factor,
        "s_kg": m.s_kg,
        "d_kg": _kg(m.d_kg),
        "rule": m.rule,
    }


def result_document(result: CalibrationResult, *, source: str = "") -> dict[str, Any]:
    """The whole calibration result as a JSON-ready mapping (see the module docstring for the contract)."""
    inst = result.instrument
    env = result.environment
    minimum = max((m.value_kg for m in result.minimum_weights), default=None)
    return {
        "format": RESULT_FORMAT,
        "version": RESULT_VERSION,
        "source": source,
        "method": result.method,
        "calibration_date": result.calibration_date.isoformat(),
        "certificate_number": result.certificate_number,
        "laboratory": result.laboratory,
        "customer": result.customer,
        "location": result.location,
        "operator": result.operator,
        "instrument": {
            "id": inst.identifier,
            "manufacturer": inst.manufacturer,
            "model": inst.model,
            "serial_number": inst.serial_number,
            "max_kg": _kg(inst.max_kg),
            "d_kg": _kg(inst.d_kg),
            "e_kg": _kg(inst.e_kg),
            "min_kg": _kg(inst.min_kg),
            "accuracy_class": inst.accuracy_class,
        }
        | (
            {}
            if not inst.ranges
            else {
                "kind": str(inst.kind),
                "ranges": [{"max_kg": _kg(r.max_kg), "d_kg": _kg(r.d_kg), "e_kg": _kg(r.e_kg)} for r in inst.ranges],
            }
        ),
        "environment": {
            "temperature_start_c": env.temperature_start_c,
            "temperature_end_c": env.temperature_end_c,
            "relative_humidity_percent": env.relative_humidity_percent,
            "pressure_hpa": env.pressure_hpa,
            "air_density_kg_m3": env.air_density_kg_m3,
        },
        "weights": [
            {"id": w.identifier, "class": w.weight_class, "certificate": w.certificate} for w in result.weights
        ],
        "points": [point_document(p) for p in result.points],
        "budget": [
            {"load_kg": _kg(p.load_kg), "contributions": [contribution_document(c) for c in p.budget]}
            for p in result.points
        ],
        "repeatability": [repeatability_document(r) for r in result.repeatability],
        "eccentricity": eccentricity_document(result.eccentricity),
        "error_curve": curve_document(result.error_curve),
        "uncertainty_in_use": in_use_document(result.uncertainty_in_use),
        "minimum_weight_kg": minimum,
        "minimum_weights": [minimum_weight_document(m) for m in result.minimum_weights],
        "notes": list(result.notes),
        "provenance": PROVENANCE,
    }
