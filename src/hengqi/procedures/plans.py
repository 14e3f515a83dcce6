"""The plans hengqi guides, by kind: ``verification`` (OIML R 76 / JJG) and ``calibration`` (EURAMET cg-18)."""

from __future__ import annotations

from typing import Final

from hengqi.procedures import calibration, verification
from hengqi.procedures.session import PlanDefinition

#: Plan definitions by kind.
PLANS: Final[dict[str, PlanDefinition]] = {
    verification.KIND: verification.DEFINITION,
    calibration.KIND: calibration.DEFINITION,
}
