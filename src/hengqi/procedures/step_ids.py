"""The Chinese instructions step ids were computed from: kept to recognise the ids, never shown.

Until the instructions moved to the gettext catalogue (:mod:`hengqi.procedures.instructions`) a step carried its
instruction in English and Chinese, and its id's digest was taken of both (:func:`~hengqi.procedures.instructions.
step_digest`).  Every recorded run holds such ids and is replayed against them, so the digest keeps that form:
the Chinese below is the text of those days, verbatim, and must not be edited (a change would make every recorded
run fail to replay).  What a page shows comes from the catalogue; a translator's change there changes no id.
A step without an entry here (a prompt written after the move) takes its English in this place, as a prompt
without Chinese did before.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from hengqi.locale import Message
from hengqi.metrology.quantities import format_mass
from hengqi.procedures.steps import (
    AddLoad,
    FindChangeover,
    PlaceLoad,
    ReadConditions,
    ReadStable,
    RemoveLoad,
    Step,
    ZeroScale,
)

_POSITIONS: Final = {
    "centre": "中心",
    "front-left": "左前",
    "front-right": "右前",
    "back-right": "右后",
    "back-left": "左后",
}

#: msgid of a prompt or a decision -> its Chinese of those days (``{name}``: the English value of a parameter).
_PROMPTS: Final = {
    "Calibration of {instrument} (Max {max}, d {d}) to EURAMET cg-18. Check that the instrument is level, warmed up "
    "and clean, that the reference weights are acclimatised; the environmental conditions are asked for next.": (
        "校准 {instrument}（Max {max}，d {d}），依据 EURAMET cg-18。请确认衡器已调平、预热、清洁，标准砝码已恒温，"
        "并记录环境条件。"
    ),
    "Verification of {instrument} (class {accuracy_class}, Max {max}, e {e}), {stage} under {rules}. Check that the "
    "instrument is level, warmed up and clean, and that the reference weights are at hand.": (
        "检定 {instrument}（{accuracy_class} 级，Max {max}，e {e}），{stage_name}，规程 {rules}。请确认衡器已调平、"
        "预热、清洁，标准砝码齐备。"
    ),
    "A result exceeds its limit: the instrument fails. Continue the remaining tests, or stop here?": (
        "有结果超出限值：衡器不合格。继续其余试验，还是在此停止？"
    ),
}


def _position(position: str) -> str:
    if position in _POSITIONS:
        return _POSITIONS[position]
    if position.startswith("support "):
        return "支承点 " + position.removeprefix("support ")
    return position


def legacy_chinese(step: Step, message: Message) -> str:
    """The Chinese instruction ``step`` carried before the catalogue ('' where it carried none).

    >>> from decimal import Decimal
    >>> from hengqi.procedures.instructions import instruction
    >>> step = PlaceLoad(Decimal("5"), "back-left")
    >>> legacy_chinese(step, instruction(step))
    '在承载器左后放置 5 kg 的砝码。'
    """
    if isinstance(step, PlaceLoad):
        return f"在承载器{_position(step.position) if step.position else ''}放置 {format_mass(step.load_kg)} 的砝码。"
    if isinstance(step, AddLoad):
        return f"在承载器上轻缓地加放 {format_mass(step.extra_kg)}。"
    if isinstance(step, RemoveLoad):
        return "卸下承载器上的全部载荷。"
    if isinstance(step, ZeroScale):
        return "将衡器置零。"
    if isinstance(step, ReadStable):
        in_use = getattr(step, "range_in_use", None)
        in_zh = f"，称量范围 {in_use}" if in_use is not None else ""
        return f"读取稳定示值（{step.purpose}，载荷 {format_mass(step.load_kg)}{in_zh}）。"
    if step.kind == "substitute":
        load = format_mass(getattr(step, "load_kg", Decimal(0)))
        number = getattr(step, "step", 1)
        return (
            f"第 {number} 次替代：从承载器上取下标准砝码（及找转换点用的小砝码），放上替代物（配重），"
            f"直到示值再次约为 {load}；替代物留在承载器上。"
        )
    if isinstance(step, FindChangeover):
        then = "，然后取下其中一个" if step.remove_one else ""
        return (
            f"逐个加放 {format_mass(step.step_kg)} 的小砝码，直到示值增加 {format_mass(step.interval_kg)}{then}；"
            "输入加放的总量 ΔL。"
        )
    if isinstance(step, ReadConditions):
        at = "开始" if step.moment == "start" else "结束"
        return f"读取{at}时的空气温度（°C）、大气压力（hPa）和相对湿度（%）并输入（未测量则留空）。"
    template = _PROMPTS.get(message.text)
    if template is None:
        return ""
    values = {name: value.english() if isinstance(value, Message) else value for name, value in message.params}
    values["stage_name"] = values.get("stage", "").removesuffix(" verification")
    return template.format(**values)
