"""China JJG 539 (数字指示秤, digital indicating scales) MPE rules as data. SECONDARY.

What is known (shared reference, section 6):

- The text of the current edition, JJG 539-2016, was NOT FOUND. Nothing here is read from it.
- The bands come from a forum transcription (SECONDARY, https://gfjl.org/forum.php?goto=lastpost&mod=redirect&tid=6435)
  of JJG 539-1997 (approved 1997-09-01, in force 1998-03-01; based on JJG 555-96, which is equivalent to
  OIML R 76): the same load bands as OIML R 76-1 Table 6, MPE +-0.5/1.0/1.5 e at initial (首次检定) and
  subsequent (后续检定) verification, +-1.0/2.0/3.0 e at in-use inspection (使用中检验).
- JJG 539-1997 covers classes III and IIII (its classes are as in R 76); balances of classes I and II fall
  under other regulations (JJG 98-90 for mechanical balances) that hengqi does not ship.
- Clause numbers of JJG 539 were not read; citations name the edition and the source instead.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from hengqi.metrology.classes import AccuracyClass
from hengqi.metrology.rulesets.model import Band, ClassBands, RuleSet, Stage

_H = Decimal("0.5")
_1 = Decimal("1.0")
_1H = Decimal("1.5")

JJG_539: Final = RuleSet(
    id="jjg539",
    title="JJG 539 数字指示秤 digital indicating scales (China)",
    document="JJG 539",
    edition="1997",
    citations=(
        ("bands", "JJG 539-1997, MPE table (SECONDARY: forum transcription; clause not read)"),
        ("subsequent", "后续检定 subsequent verification: same as initial"),
        ("in-service", "使用中检验 in-use inspection: +-1.0/2.0/3.0 e (2 x initial)"),
    ),
    bands=(
        ClassBands(AccuracyClass.III, (Band(Decimal(500), _H), Band(Decimal(2_000), _1), Band(Decimal(10_000), _1H))),
        ClassBands(AccuracyClass.IIII, (Band(Decimal(50), _H), Band(Decimal(200), _1), Band(Decimal(1_000), _1H))),
    ),
    stage_multipliers=((Stage.INITIAL, Decimal(1)), (Stage.SUBSEQUENT, Decimal(1)), (Stage.IN_SERVICE, Decimal(2))),
    confidence="SECONDARY",
    notes=(
        "JJG 539-2016 (the edition in force) was NOT FOUND; its MPEs may differ and are not implemented.",
        "Bands from a forum transcription of JJG 539-1997 (https://gfjl.org/forum.php?goto=lastpost&mod=redirect"
        "&tid=6435): same load bands as OIML R 76-1 Table 6; +-0.5/1.0/1.5 e at initial and subsequent "
        "verification, +-1.0/2.0/3.0 e at in-use inspection.",
        "Covers classes III and IIII only (digital indicating scales).",
        "Band edges: taken to follow R 76 (lower band on an edge); the 1997 text's edge wording was not read.",
    ),
)
