"""Adequacy of the reference weights used for a load, as a check of a verification.

The rule and its arithmetic are :func:`hengqi.metrology.weights.weights_adequate`: the sum of the weights' MPEs
(OIML R 111-1:2004 Table 1, CONFIRMED) or, for weights used by certificate, of their expanded uncertainties at
k = 2, must not exceed 1/3 of the instrument's MPE at the load (SECONDARY: the R 76-1 and R 111-1 5.2 wording
was not read; Lammi, USP <41>; ``standards.md`` 2).  This module turns that into a :class:`PointResult` and
adds one condition: a weight whose certificate was due before the test date fails the check, its conventional
mass being no longer traceable (ISO/IEC 17025:2017, 6.4 and 6.5: equipment calibration and metrological
traceability).

>>> from decimal import Decimal as D
>>> from hengqi.metrology.weights import StandardWeight
>>> w = ReferenceWeight("W1", StandardWeight.of("F1", "1 kg"))
>>> point = weights_adequacy_point(D("1"), [w], instrument_mpe_kg=D("0.0005"))
>>> point.verdict, point.message
(<Verdict.PASS: 'pass'>, "weights' MPE sum 0.005 g within 1/3 MPE = 0.166667 g")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hengqi.metrology.quantities import format_mass
from hengqi.metrology.r76.common import shown, unit_of
from hengqi.metrology.r76.results import Check, PointResult, Verdict
from hengqi.metrology.weights import RULE_R111_TABLE_1, CertifiedWeight, StandardWeight, weights_adequate

#: Citation of the certificate-validity requirement.
TRACEABILITY_RULE = "ISO/IEC 17025:2017, 6.4 and 6.5 (calibrated equipment, metrological traceability)"
_BASIS = {"mpe": "MPE sum", "certificate": "U (k = 2) sum", "mixed": "MPE and U (k = 2) sum"}


@dataclass(frozen=True, slots=True)
class ReferenceWeight:
    """A reference weight as used in a test: its id in the record, the weight (by class or by certificate) and
    the date its certificate is due, if known."""

    id: str
    weight: StandardWeight | CertifiedWeight
    due: date | None = None

    @property
    def nominal_kg(self) -> Decimal:
        """The nominal value."""
        return self.weight.nominal_kg

    @property
    def correction_kg(self) -> Decimal:
        """Conventional mass minus nominal value where used by certificate, else zero (used by class)."""
        return self.weight.correction_kg if isinstance(self.weight, CertifiedWeight) else Decimal(0)


def weights_adequacy_point(
    load_kg: Decimal,
    weights: Sequence[ReferenceWeight],
    *,
    instrument_mpe_kg: Decimal,
    test_date: date | None = None,
    label: str = "",
) -> PointResult:
    """Check the weights making up a (nominal) load: ``3 x sum of bounds <= MPE`` and no certificate overdue."""
    adequacy = weights_adequate([weight.weight for weight in weights], instrument_mpe_kg)
    ok = adequacy.adequate
    unit = unit_of(adequacy.limit_kg)
    relation = "within" if ok else "exceeds"
    message = (
        f"weights' {_BASIS[adequacy.basis]} {format_mass(adequacy.total_bound_kg, unit)} {relation} "
        f"1/3 MPE = {shown(adequacy.limit_kg, unit=unit)}"
    )
    rule = f"{adequacy.rule}; {RULE_R111_TABLE_1}"
    expired = [w for w in weights if test_date is not None and w.due is not None and w.due < test_date]
    if expired:
        ok = False
        names = ", ".join(f"{w.id} (due {w.due.isoformat()})" for w in expired if w.due is not None)
        message += f"; certificate overdue on {test_date}: {names}"
        rule += f"; {TRACEABILITY_RULE}"
    return PointResult(
        load_kg=load_kg,
        indication_kg=None,
        error_kg=None,
        corrected_error_kg=None,
        mpe_kg=instrument_mpe_kg,
        verdict=Verdict.of(ok),
        rule=rule,
        message=message,
        check=Check.WEIGHTS,
        value_kg=adequacy.total_bound_kg,
        limit_kg=adequacy.limit_kg,
        label=label or " + ".join(weight.id for weight in weights),
    )
