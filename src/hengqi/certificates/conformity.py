"""Statements of conformity of the errors of indication with the maximum permissible errors.

ISO/IEC 17025:2017, 7.8.6 asks a certificate that states conformity to say which decision rule was applied.  The
rule here is guarded acceptance with a guard band equal to the expanded uncertainty (ILAC-G8:09/2019, "Guidelines
on Decision Rules and Statements of Conformity", guarded acceptance w = U and the binary/non-binary statements;
SECONDARY: read through summaries, clause numbers not verified):

* ``pass``             ``|E| + U <= MPE``
* ``conditionalPass``  ``|E| <= MPE < |E| + U``
* ``conditionalFail``  ``|E| - U <= MPE < |E|``
* ``fail``             ``MPE < |E| - U``

The statuses are those of DCC 3.3.0 ``stringConformityStatementStatusType``.  The MPE comes from
:func:`hengqi.metrology.mpe.mpe_for_interval` (OIML R 76-1:2006, 3.5.1, Table 6 and 3.5.2, or another rule set)
with the e of the range in use at the point on an instrument with several ranges (the range the point records:
multiple-range, R 76-1:2006 3.2 / 4.10 as cited; the partial range of the load: multi-interval), as
:func:`hengqi.metrology.mpe.determine_mpe` takes it.
The rule itself is :func:`hengqi.metrology.conformity.nonbinary_status` with tolerance limits ``-MPE, +MPE``; each
point also carries the probability that its error lies outside ``+-MPE`` for a normal PDF ``N(E, u(E)^2)``
(JCGM 106:2012, clause 7), which is the specific probability of false acceptance when the point is accepted.

>>> classify(Decimal("0.0001"), 0.0001, Decimal("0.0005"))
'pass'
>>> classify(Decimal("0.0006"), 0.0002, Decimal("0.0005"))
'conditionalFail'
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hengqi.metrology.calibration.result import CalibrationPoint, CalibrationResult
from hengqi.metrology.classes import is_one_two_five
from hengqi.metrology.conformity import guarded_acceptance, nonbinary_status, specific_risk_normal
from hengqi.metrology.mpe import mpe_for_interval

__all__ = [
    "DECISION_RULE",
    "RULE",
    "ConformityAssessment",
    "PointConformity",
    "assess_conformity",
    "classify",
    "p_nonconformity",
]

RULE = guarded_acceptance(Decimal(1))
DECISION_RULE = "guarded acceptance, guard band w = U (ILAC-G8:09/2019)"
_ORDER = ("pass", "conditionalPass", "conditionalFail", "fail")


@dataclass(frozen=True, slots=True)
class PointConformity:
    load_kg: Decimal
    error_kg: Decimal
    U_kg: float
    mpe_kg: Decimal
    status: str
    p_nonconformity: float  #: probability that the error lies outside +-MPE (the PFA where accepted)


@dataclass(frozen=True, slots=True)
class ConformityAssessment:
    """Per-point statuses and the overall (worst) status."""

    stage: str
    rules: str
    rule: str
    points: tuple[PointConformity, ...]

    @property
    def status(self) -> str:
        return max((p.status for p in self.points), key=_ORDER.index, default="pass")

    @property
    def max_pfa(self) -> float | None:
        """The largest specific probability of false acceptance over the accepted (``pass``) points."""
        return max((p.p_nonconformity for p in self.points if p.status == "pass"), default=None)


def classify(error_kg: Decimal, U_kg: float, mpe_kg: Decimal) -> str:  # noqa: N803 - the standards' symbol
    """The DCC conformity status of one error ``E`` with expanded uncertainty ``U`` against ``MPE``."""
    return nonbinary_status(error_kg, Decimal(repr(U_kg)), lower=-mpe_kg, upper=mpe_kg)


def p_nonconformity(error_kg: Decimal, u_kg: float, mpe_kg: Decimal) -> float:
    """Probability that the error lies outside ``+-MPE`` for a normal PDF ``N(E, u^2)`` (JCGM 106:2012, 7);
    1 or 0 where ``u = 0``."""
    if u_kg > 0:
        lim = float(mpe_kg)
        return specific_risk_normal(float(error_kg), u_kg, lower=-lim, upper=lim).pfa
    return 0.0 if abs(error_kg) <= mpe_kg else 1.0


def assess_conformity(
    result: CalibrationResult, *, stage: str = "initial", rules: str = "oiml-r76"
) -> ConformityAssessment | None:
    """Assess every calibration point; ``None`` when the instrument has no accuracy class, no e, or an e that is
    not 1, 2 or 5 x 10^k (no legal MPE then).  A point read in range ``i`` of an instrument with several ranges
    is judged with ``e(i)``."""
    inst = result.instrument
    if inst.accuracy_class is None or inst.e_kg is None or not result.points:
        return None
    intervals = [_e_in_use(result, p) for p in result.points]
    if not all(e is not None and is_one_two_five(e) for e in intervals):
        return None
    points = []
    rule = ""
    for p, e in zip(result.points, intervals, strict=True):
        assert e is not None  # checked above
        det = mpe_for_interval(p.load_kg, inst.accuracy_class, e, stage=stage, rules=rules)
        rule = str(det.rule)
        points.append(
            PointConformity(
                p.load_kg,
                p.error_kg,
                p.U_kg,
                det.mpe_kg,
                classify(p.error_kg, p.U_kg, det.mpe_kg),
                p_nonconformity(p.error_kg, p.u_kg, det.mpe_kg),
            )
        )
    return ConformityAssessment(stage, rules, rule, tuple(points))


def _e_in_use(result: CalibrationResult, point: CalibrationPoint) -> Decimal | None:
    """e of the range a point was read in (the instrument's e where it has one range)."""
    ranges = result.instrument.ranges
    if point.range_in_use is None or not ranges or not 1 <= point.range_in_use <= len(ranges):
        return result.instrument.e_kg
    return ranges[point.range_in_use - 1].e_kg
