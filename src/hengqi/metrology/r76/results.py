"""Results of R 76 tests: immutable values, rendered by whoever shows them.

A test is a list of checks (:class:`PointResult`), each comparing one quantity with one limit under one rule;
a :class:`TestResult` passes when all of its checks pass, and a :class:`VerificationResult` when all of its
tests pass.  A failing check always names the load, the quantity found, the limit (the MPE where the limit is
an MPE) and the rule, so that a report can say exactly why an instrument failed.

>>> from decimal import Decimal
>>> ok = PointResult(load_kg=Decimal("1"), indication_kg=Decimal("1"), error_kg=Decimal("0"),
...                  corrected_error_kg=None, mpe_kg=Decimal("0.0025"), verdict=Verdict.PASS,
...                  rule="OIML R 76-1:2006, 3.5.1, Table 6", message="within the MPE")
>>> test = TestResult.of("weighing", (ok,))
>>> verification_result((test,)).verdict
<Verdict.PASS: 'pass'>
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Verdict(StrEnum):
    """Outcome of a check, a test or a verification."""

    PASS = "pass"
    FAIL = "fail"

    @classmethod
    def of(cls, ok: bool) -> Verdict:
        """``PASS`` when ``ok``, else ``FAIL``."""
        return cls.PASS if ok else cls.FAIL


class Check(StrEnum):
    """What a :class:`PointResult` compares with its limit."""

    ERROR = "error"  #: an error of indication against the MPE for the load
    SPREAD = "spread"  #: max - min of repeated results against |MPE| (repeatability)
    CHANGE = "indication change"  #: change of indication against d (discrimination)
    ZERO_DEVIATION = "zero deviation"  #: deviation of the zero point against 0.25 e (zero/tare setting)
    TEST_LOAD = "test load"  #: the load actually applied against the load the rule asks (eccentricity)
    WEIGHTS = "reference weights"  #: sum of the weights' MPEs (or U) against 1/3 of the instrument's MPE


@dataclass(frozen=True, slots=True)
class PointResult:
    """One check of one test, with everything a report needs to explain it.

    Attributes:
        load_kg: the load applied (the net load in a tare test).
        indication_kg: the indication read, where the check reads one.
        error_kg: the error ``E`` (``I + e/2 - dL - L`` after rounding-error elimination, else ``I - L``).
        corrected_error_kg: ``Ec = E - E0`` where the error at zero ``E0`` was determined; ``None`` otherwise.
        mpe_kg: the maximum permissible error (positive magnitude) for ``load_kg`` at the stage, where an MPE
            applies to the check.
        verdict: pass or fail.
        rule: the document, edition and clause applied (with its confidence where it is not confirmed).
        message: one line for people saying what was found.
        check: what was compared (:class:`Check`).
        value_kg: the quantity compared (the assessed error, the spread, the change of indication, ...).
        limit_kg: what it was compared with (the MPE, d, 0.25 e, ...).
        label: which point: a direction ("increasing"), an eccentricity position, a series, ...
    """

    load_kg: Decimal
    indication_kg: Decimal | None
    error_kg: Decimal | None
    corrected_error_kg: Decimal | None
    mpe_kg: Decimal | None
    verdict: Verdict
    rule: str
    message: str
    check: Check = Check.ERROR
    value_kg: Decimal | None = None
    limit_kg: Decimal | None = None
    label: str = ""

    @property
    def assessed_error_kg(self) -> Decimal | None:
        """The error compared with the MPE: ``Ec`` where determined, else ``E``."""
        return self.corrected_error_kg if self.corrected_error_kg is not None else self.error_kg

    @property
    def passed(self) -> bool:
        """Whether the check passed."""
        return self.verdict is Verdict.PASS


@dataclass(frozen=True, slots=True)
class TestResult:
    """The outcome of one test (weighing, eccentricity, ...): fails when any of its checks fails."""

    __test__ = False  # not a pytest test class

    name: str
    verdict: Verdict
    points: tuple[PointResult, ...]
    notes: tuple[str, ...] = ()

    @classmethod
    def of(cls, name: str, points: Iterable[PointResult], notes: Iterable[str] = ()) -> TestResult:
        """A test result whose verdict follows from its points (a test without points cannot pass)."""
        checked = tuple(points)
        ok = bool(checked) and all(point.passed for point in checked)
        return cls(name=name, verdict=Verdict.of(ok), points=checked, notes=tuple(notes))

    @property
    def failing_points(self) -> tuple[PointResult, ...]:
        """The checks that failed, in order."""
        return tuple(point for point in self.points if not point.passed)


@dataclass(frozen=True, slots=True)
class FailingPoint:
    """A failing check together with the name of its test."""

    test: str
    point: PointResult


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The outcome of a verification: passes when every test passes; ``notes`` say what was not checked."""

    verdict: Verdict
    tests: tuple[TestResult, ...]
    failing_points: tuple[FailingPoint, ...]
    notes: tuple[str, ...] = ()

    def test(self, name: str) -> TestResult:
        """The result of the test called ``name`` (``KeyError`` if it was not performed)."""
        for result in self.tests:
            if result.name == name:
                return result
        raise KeyError(name)


def verification_result(tests: Iterable[TestResult], notes: Iterable[str] = ()) -> VerificationResult:
    """Combine test results: the verification passes when there is at least one test and all of them pass."""
    done = tuple(tests)
    failing = tuple(FailingPoint(test.name, point) for test in done for point in test.failing_points)
    ok = bool(done) and all(test.verdict is Verdict.PASS for test in done)
    return VerificationResult(verdict=Verdict.of(ok), tests=done, failing_points=failing, notes=tuple(notes))
