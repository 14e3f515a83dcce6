"""Calibration of non-automatic weighing instruments to EURAMET cg-18 v4.0 (11/2015).

Pure computation: errors of indication and their uncertainties, error curves, the uncertainty of a weighing
result in use and minimum weights.  The result types live in :mod:`hengqi.metrology.calibration.result`.
The body of cg-18 was not available; see each module for what is read from secondary sources and what is
this package's construction.
"""

from __future__ import annotations

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
    "CalibrationPoint",
    "CalibrationResult",
    "Component",
    "Contribution",
    "EccentricityResult",
    "Environment",
    "ErrorCurve",
    "InstrumentSummary",
    "MinimumWeight",
    "MinimumWeightMethod",
    "ReferenceWeightSet",
    "RepeatabilityResult",
    "UncertaintyInUse",
]
