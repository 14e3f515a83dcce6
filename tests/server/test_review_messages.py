"""The reviewer's warnings are catalogue messages: drawn in Chinese from the zh-CN catalogue without a miss,
and the weight flags stored with each run (an English text) are read back into messages and translated."""

from __future__ import annotations

from decimal import Decimal

from hengqi.locale import record_misses
from hengqi.server.services import review


def test_every_warning_reads_in_chinese() -> None:
    readings = [review.RecordedReading(2, "eccentricity back-left", "0.0701", ("beyond_mpe",), "checked twice")]
    corrections = [{"index": 4, "by": "tina", "reason": "typo", "original": {"answer": "0.11"}}]
    flags = [
        {"code": "weight_calibration_unknown", "message": "weight 7 has no calibration due date"},
        {
            "code": "weight_out_of_calibration",
            "message": "weight 3 was out of calibration on 2026-11-02 (due 2026-10-01)",
        },
    ]
    with record_misses() as misses:
        found = (
            review.point_warnings([(Decimal("0.2"), Decimal("0.0000019"), 0.0000009)], lambda load: Decimal("0.000002"))
            + review.reading_warnings(readings, corrections)
            + review.record_warnings({}, flags)
        )
        chinese = {w.code: w.text("zh") for w in found}
    assert misses == set()
    assert chinese == {
        "e_plus_u_beyond_mpe": "200 g：|E| + U = 2.8 mg > 最大允许误差 2 mg",
        "u_beyond_third_mpe": "200 g：U = 900 µg > 最大允许误差/3 ≈ 670 µg",
        "flagged_reading": "步骤 3（偏载 左后）：70.1 g 带提示记录（误差超出最大允许误差）；理由：checked twice",
        "corrected_reading": "步骤 5：110 g 已由 tina 更正；理由：typo",
        "weight_calibration_unknown": "砝码 7 未记录校准到期日",
        "weight_out_of_calibration": "砝码 3 在 2026-11-02 已超出校准有效期（到期日 2026-10-01）",
        "missing_conditions": "未记录环境条件（温度、气压、湿度）",
    }
    english = {w.code: w.text("en") for w in found}
    assert (
        english["flagged_reading"]
        == "step 3 (eccentricity back-left): 70.1 g recorded with error beyond the MPE; reason: checked twice"
    )
    assert english["weight_out_of_calibration"] == flags[1]["message"]


def test_a_flag_of_another_form_is_shown_as_stored() -> None:
    (warning,) = review.record_warnings({"conditions": "20 °C"}, [{"code": "weight_other", "message": "odd text"}])
    assert warning.text("en") == "odd text"
