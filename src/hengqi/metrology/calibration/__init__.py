"""Calibration of non-automatic weighing instruments to EURAMET cg-18 v4.0 (11/2015).

Pure computation: errors of indication and their uncertainties, error curves, the uncertainty of a weighing
result in use and minimum weights.  The result types live in :mod:`hengqi.metrology.calibration.result`.
The body of cg-18 was not available; see each module for what is read from secondary sources and what is
this package's construction (summary in ``docs/calibration-record.md``).

Modules: :mod:`~.result` (frozen result types), :mod:`~.indication` (u(I): rounding, repeatability,
eccentricity), :mod:`~.reference` (u(m_ref): weights, buoyancy, drift, convection, substitution), :mod:`~.point`
(E, u, nu_eff, k, U), :mod:`~.curve` (error curve), :mod:`~.in_use` (uncertainty in use),
:mod:`~.minimum_weight` (USP <41>, cg-18 style), :mod:`~.evaluate` (a whole calibration).
"""

from __future__ import annotations

from hengqi.metrology.calibration.curve import CurveModel, error_covariance, fit_error_curve
from hengqi.metrology.calibration.evaluate import (
    CalibrationData,
    EccentricityTest,
    InUseOptions,
    RepeatabilitySeries,
    TestLoad,
    evaluate_calibration,
    evaluate_point,
)
from hengqi.metrology.calibration.in_use import uncertainty_in_use
from hengqi.metrology.calibration.minimum_weight import cg18_minimum_weight, usp41_minimum_weight
from hengqi.metrology.calibration.point import combine, error_of_indication
from hengqi.metrology.calibration.reference import (
    BuoyancyMethod,
    ReferenceConditions,
    ReferenceWeight,
    reference_mass_contributions,
)
from hengqi.metrology.calibration.result import (
    METHOD,
    CalibrationPoint,
    CalibrationResult,
    Component,
    Contribution,
    EccentricityResult,
    Environment,
    ErrorCurve,
    InstrumentSummary,
    MinimumWeight,
    MinimumWeightMethod,
    ReferenceWeightSet,
    RepeatabilityResult,
    UncertaintyInUse,
)

__all__ = [
    "METHOD",
    "BuoyancyMethod",
    "CalibrationData",
    "CalibrationPoint",
    "CalibrationResult",
    "Component",
    "Contribution",
    "CurveModel",
    "EccentricityResult",
    "EccentricityTest",
    "Environment",
    "ErrorCurve",
    "InUseOptions",
    "InstrumentSummary",
    "MinimumWeight",
    "MinimumWeightMethod",
    "ReferenceConditions",
    "ReferenceWeight",
    "ReferenceWeightSet",
    "RepeatabilityResult",
    "RepeatabilitySeries",
    "TestLoad",
    "UncertaintyInUse",
    "cg18_minimum_weight",
    "combine",
    "error_covariance",
    "error_of_indication",
    "evaluate_calibration",
    "evaluate_point",
    "fit_error_curve",
    "reference_mass_contributions",
    "uncertainty_in_use",
    "usp41_minimum_weight",
]
