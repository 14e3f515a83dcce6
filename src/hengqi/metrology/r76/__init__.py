"""Evaluation of the tests of OIML R 76-1:2006 Annex A (and R 76-2 test report practice), pure.

The R 76-1 Annex A clause texts were not read (``standards.md`` 1.4): each rule is confirmed from national texts
implementing it or marked SECONDARY in its module's docstring.  Each test takes readings (exact kilograms) and
the instrument's :class:`Tolerances` (MPE, e and d as functions of the load) and returns a frozen
:class:`TestResult` whose checks (:class:`PointResult`) name the load, the value found, the limit and the rule.

>>> from decimal import Decimal as D
>>> tolerances = fixed_tolerances(D("0.0025"), D("0.005"))
>>> test = weighing_test([Reading(D("1"), D("1.005"), D("0.005"), "increasing")], tolerances)
>>> verification_result([test]).verdict
<Verdict.PASS: 'pass'>
"""

from hengqi.metrology.r76.common import LoadFunction, Tolerances, fixed_tolerances
from hengqi.metrology.r76.discrimination import DiscriminationReading, discrimination_test
from hengqi.metrology.r76.eccentricity import eccentricity_positions, eccentricity_test, eccentricity_test_load
from hengqi.metrology.r76.reference_weights import ReferenceWeight, weights_adequacy_point
from hengqi.metrology.r76.repeatability import repeatability_test
from hengqi.metrology.r76.results import (
    Check,
    FailingPoint,
    PointResult,
    TestResult,
    Verdict,
    VerificationResult,
    verification_result,
)
from hengqi.metrology.r76.rounding import (
    Reading,
    ReadingError,
    changeover_error,
    corrected_error,
    indication_before_rounding,
    reading_error,
)
from hengqi.metrology.r76.weighing import weighing_test, zero_error
from hengqi.metrology.r76.zero_tare import tare_test, zero_setting_test

__all__ = [
    "Check",
    "DiscriminationReading",
    "FailingPoint",
    "LoadFunction",
    "PointResult",
    "Reading",
    "ReadingError",
    "ReferenceWeight",
    "TestResult",
    "Tolerances",
    "Verdict",
    "VerificationResult",
    "changeover_error",
    "corrected_error",
    "discrimination_test",
    "eccentricity_positions",
    "eccentricity_test",
    "eccentricity_test_load",
    "fixed_tolerances",
    "indication_before_rounding",
    "reading_error",
    "repeatability_test",
    "tare_test",
    "verification_result",
    "weighing_test",
    "weights_adequacy_point",
    "zero_error",
    "zero_setting_test",
]
