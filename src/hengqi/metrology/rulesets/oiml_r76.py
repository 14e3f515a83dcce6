"""OIML R 76-1:2006 MPE rules as data.

- Initial verification: OIML R 76-1:2006, 3.5.1, Table 6 (= Directive 90/384/EEC and 2014/31/EU, Annex I, 4.1,
  Table 3). CONFIRMED in the shared reference 1.2 from the French Décret 91-330 Annex I, the Romanian
  transposition and a copy of R 76-1 (the UK SI 1995/1907 table has printing errors and is not used).
- In service: twice the initial MPE (OIML R 76-1:2006, 3.5.2; Directive Annex I, 4.2). CONFIRMED.
- Subsequent verification: R 76-1 (as far as it is known here) gives MPEs for initial verification and for
  in-service inspection only. hengqi applies the initial-verification MPE at subsequent verification: this is
  the practice of the national regulations available (JJG 539-1997 applies the same bands at initial and
  subsequent verification, reference section 6). A hengqi choice, stated in the rule set's notes; a
  jurisdiction that uses the in-service MPE at re-verification should register its own rule set.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from hengqi.metrology.classes import AccuracyClass
from hengqi.metrology.rulesets.model import Band, ClassBands, RuleSet, Stage

_H = Decimal("0.5")
_1 = Decimal("1.0")
_1H = Decimal("1.5")

#: OIML R 76-1:2006, 3.5.1, Table 6 (m in e, lower band on an edge).
R76_TABLE_6: Final[tuple[ClassBands, ...]] = (
    ClassBands(AccuracyClass.I, (Band(Decimal(50_000), _H), Band(Decimal(200_000), _1), Band(None, _1H))),
    ClassBands(AccuracyClass.II, (Band(Decimal(5_000), _H), Band(Decimal(20_000), _1), Band(Decimal(100_000), _1H))),
    ClassBands(AccuracyClass.III, (Band(Decimal(500), _H), Band(Decimal(2_000), _1), Band(Decimal(10_000), _1H))),
    ClassBands(AccuracyClass.IIII, (Band(Decimal(50), _H), Band(Decimal(200), _1), Band(Decimal(1_000), _1H))),
)

OIML_R76: Final = RuleSet(
    id="oiml-r76",
    title="Non-automatic weighing instruments (OIML)",
    document="OIML R 76-1",
    edition="2006",
    citations=(
        ("bands", "OIML R 76-1:2006, 3.5.1, Table 6 (= Directive 2014/31/EU Annex I, 4.1, Table 3)"),
        ("subsequent", "subsequent verification: initial MPE applied (hengqi choice; R 76-1 sets initial/in service)"),
        ("in-service", "OIML R 76-1:2006, 3.5.2 (= Directive Annex I, 4.2): in service = 2 x initial"),
        ("overrange", "Directive 2014/31/EU Annex I, 9: no indication above Max + 9 e"),
    ),
    bands=R76_TABLE_6,
    stage_multipliers=((Stage.INITIAL, Decimal(1)), (Stage.SUBSEQUENT, Decimal(1)), (Stage.IN_SERVICE, Decimal(2))),
    confidence="CONFIRMED",
    notes=(
        "Table 6 and the in-service doubling were read in legal transpositions, not in R 76-1 itself. "
        "Bands CONFIRMED from the French Décret 91-330 Annex I, the Romanian transposition of 2014/31/EU and a "
        "copy of R 76-1 Table 6; UK SI 1995/1907 prints two band edges wrongly and is not used.",
        "A load exactly on a band edge takes the lower band, as printed ('500 e < m <= 2 000 e').",
        "Subsequent verification: R 76-1 gives MPEs for initial verification and in service only; hengqi applies "
        "the initial MPE, as the national regulations available do (e.g. JJG 539-1997).",
        "Multi-interval instruments: the MPE uses e(i) of the partial range holding the load; plausible, but the "
        "text of R 76-1 3.3 was NOT FOUND, so this is not confirmed.",
    ),
)
