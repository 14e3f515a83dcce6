"""What a step asks the operator to do, as a catalogue message: English msgid and parameters, translated when shown.

A guided run stores no instruction text: its steps are re-created by replaying the plan, and each step's
instruction is a :class:`~hengqi.locale.Message` (:func:`instruction`), the English text with ``{name}``
placeholders and the values that fill them (masses as the scale shows them, positions and test names as
messages of their own).  Whoever shows the step translates it (:func:`describe`; the web page, the terminal
channel) from the gettext catalogue ``hengqi/locale/zh_CN/LC_MESSAGES/hengqi.po``; ``scripts/i18n.py check``
fails on a message of this module without its translation.

Step ids (``INDEX:DIGEST``, :mod:`hengqi.procedures.session`) are digests of a step's JSON form, which held the
English and the Chinese instruction until the Chinese moved to the catalogue; :func:`step_digest` still takes the
digest of that form (:mod:`hengqi.procedures.step_ids`), so runs recorded before replay unchanged and a change
of translation never changes an id.

>>> from decimal import Decimal
>>> from hengqi.procedures.steps import PlaceLoad
>>> describe(PlaceLoad(Decimal("5"), "centre"))
('Place 5 kg on the load receptor, centre.', '在承载器中心放置 5 kg 的砝码。')
>>> describe(ReadStable("eccentricity back-left", Decimal("5")), "zh")
'读取稳定示值（偏载 左后，载荷 5 kg）。'
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import fields
from decimal import Decimal
from typing import Any, Final, overload

from hengqi.locale import N_, NP_, Message, translate_message
from hengqi.metrology.quantities import format_mass
from hengqi.procedures.step_ids import legacy_chinese
from hengqi.procedures.steps import (
    AddLoad,
    Decide,
    FindChangeover,
    LiveResult,
    PlaceLoad,
    Prompt,
    ReadConditions,
    ReadStable,
    Record,
    RemoveLoad,
    Step,
    ZeroScale,
)

#: Load-receptor positions (eccentricity test), by the name a plan gives them.
POSITIONS: Final[dict[str, Message]] = {
    "centre": NP_("load receptor position", "centre"),
    "front-left": NP_("load receptor position", "front-left"),
    "front-right": NP_("load receptor position", "front-right"),
    "back-right": NP_("load receptor position", "back-right"),
    "back-left": NP_("load receptor position", "back-left"),
}
_TESTS: Final[dict[str, Message]] = {
    "weighing": NP_("test", "weighing"),
    "eccentricity": NP_("test", "eccentricity"),
    "repeatability": NP_("test", "repeatability"),
}
_DIRECTIONS: Final[dict[str, Message]] = {
    "increasing": NP_("weighing direction", "increasing"),
    "decreasing": NP_("weighing direction", "decreasing"),
}
#: Whole purposes of a reading.
_PURPOSES: Final[dict[str, Message]] = {
    "indication": N_("indication"),
    "at load": N_("at load"),
    "no load": N_("no load"),
    "zero setting: at zero": N_("zero setting: at zero"),
    "discrimination: at the change point": N_("discrimination: at the change point"),
    "discrimination: after adding 1.4 d": N_("discrimination: after adding 1.4 d"),
}
#: Verification stages as the start instruction names them.
STAGES: Final[dict[str, Message]] = {
    "initial": NP_("verification stage", "initial verification"),
    "subsequent": NP_("verification stage", "subsequent verification"),
    "in-service": NP_("verification stage", "in-service verification"),
}

_PLACE: Final = {
    (True, True): N_("Place {load} on the load receptor, {position} (weights: {weights})."),
    (True, False): N_("Place {load} on the load receptor, {position}."),
    (False, True): N_("Place {load} on the load receptor (weights: {weights})."),
    (False, False): N_("Place {load} on the load receptor."),
}
_CHANGEOVER: Final = {
    False: N_(
        "Add {step} weights one at a time until the indication steps up by {interval}; enter the total added (dL)."
    ),
    True: N_(
        "Add {step} weights one at a time until the indication steps up by {interval}; then remove one of them "
        "again; enter the total added (dL)."
    ),
}
_CONDITIONS: Final = {
    "start": N_(
        "Read the air temperature (°C), barometric pressure (hPa) and relative humidity (%) at the start of the run "
        "and enter them (leave empty where not measured)."
    ),
    "end": N_(
        "Read the air temperature (°C), barometric pressure (hPa) and relative humidity (%) at the end of the run "
        "and enter them (leave empty where not measured)."
    ),
}

_SUBSTITUTE: Final = {
    True: N_(
        "Substitution {number}: take the standard weights ({weights}) and any change-point weights off the load "
        "receptor and put substitute material (ballast) on it in their place until the indication is again about "
        "{load}; leave the substitute on the receptor."
    ),
    False: N_(
        "Substitution {number}: take the standard weights and any change-point weights off the load receptor and "
        "put substitute material (ballast) on it in their place until the indication is again about {load}; leave "
        "the substitute on the receptor."
    ),
}


def position_message(position: str) -> Message:
    """A load-receptor position as a message (``"support 3"`` -> ``support {number}``); others as they are.

    >>> translate_message("zh", position_message("back-left")), translate_message("zh", position_message("support 7"))
    ('左后', '支承点 7')
    """
    if position in POSITIONS:
        return POSITIONS[position]
    number = position.removeprefix("support ")
    if number != position and number.isdigit():
        return N_("support {number}").format(number=number)
    return Message(position)


def purpose_message(purpose: str) -> Message:
    """What a reading is for (``ReadStable.purpose``), as a message.

    >>> translate_message("zh", purpose_message("repeatability 15 kg #3"))
    '重复性 15 kg 第 3 次'
    >>> translate_message("zh", purpose_message("weighing: near zero (E0)"))
    '称量：接近零点（E0）'
    """
    if purpose in _PURPOSES:
        return _PURPOSES[purpose]
    test, _, rest = purpose.partition(" ")
    near = re.fullmatch(r"(\w+): near zero \(E0\)", purpose)
    if near and near.group(1) in _TESTS:
        return N_("{test}: near zero (E0)").format(test=_TESTS[near.group(1)])
    if test == "eccentricity" and rest:
        return N_("eccentricity {position}").format(position=position_message(rest))
    if test == "weighing" and rest in _DIRECTIONS:
        return N_("weighing {direction}").format(direction=_DIRECTIONS[rest])
    series = re.fullmatch(r"repeatability (?:(.+) )?#(\d+)", purpose)
    if series:
        if series.group(1):
            return N_("repeatability {load} #{number}").format(load=series.group(1), number=series.group(2))
        return N_("repeatability #{number}").format(number=series.group(2))
    return Message(purpose)


def _mass(kg: Decimal) -> str:
    return format_mass(kg)


def _text(value: str | Message) -> Message:
    return value if isinstance(value, Message) else Message(value)


def instruction(step: Step) -> Message:
    """What the operator is asked to do, as a catalogue message (English msgid and parameters).

    >>> instruction(RemoveLoad())
    Message(text='Remove all loads from the load receptor.', context=None, params=())
    """
    if isinstance(step, Prompt | Decide):
        return _text(step.text)
    if isinstance(step, PlaceLoad):
        template = _PLACE[(bool(step.position), bool(step.weights))]
        params: dict[str, str | Message] = {"load": _mass(step.load_kg)}
        if step.position:
            params["position"] = position_message(step.position)
        if step.weights:
            params["weights"] = ", ".join(step.weights)
        return template.format(**params)
    if isinstance(step, AddLoad):
        return N_("Gently add {load} to the load on the receptor.").format(load=_mass(step.extra_kg))
    if isinstance(step, RemoveLoad):
        return N_("Remove all loads from the load receptor.")
    if isinstance(step, ZeroScale):
        return N_("Set the instrument to zero.")
    if isinstance(step, ReadStable):
        in_use = getattr(step, "range_in_use", None)  # main's multi-range readings (steps.ReadStable.range_in_use)
        if in_use is not None:
            return N_("Read the stable indication ({purpose}, load {load}, range {range}).").format(
                purpose=purpose_message(step.purpose), load=_mass(step.load_kg), range=str(in_use)
            )
        return N_("Read the stable indication ({purpose}, load {load}).").format(
            purpose=purpose_message(step.purpose), load=_mass(step.load_kg)
        )
    if isinstance(step, FindChangeover):
        return _CHANGEOVER[step.remove_one].format(step=_mass(step.step_kg), interval=_mass(step.interval_kg))
    if isinstance(step, ReadConditions):
        return _CONDITIONS["start" if step.moment == "start" else "end"]
    if step.kind == "substitute":  # main's substitution step (steps.Substitute: load_kg, weights, step)
        weights: tuple[str, ...] = tuple(getattr(step, "weights", ()))
        params = {"number": str(getattr(step, "step", 1)), "load": _mass(getattr(step, "load_kg", Decimal(0)))}
        if weights:
            return _SUBSTITUTE[True].format(weights=", ".join(weights), **params)
        return _SUBSTITUTE[False].format(**params)
    if isinstance(step, Record):
        return N_("Result {key}: {message}").format(key=step.key, message=step.value.message)
    return Message(step.kind)


@overload
def describe(step: Step) -> tuple[str, str]: ...
@overload
def describe(step: Step, lang: str) -> str: ...
def describe(step: Step, lang: str | None = None) -> tuple[str, str] | str:
    """The instruction in ``lang``; without a language, in English and Chinese (a pair).

    >>> describe(FindChangeover(Decimal("1"), Decimal("0.0005"), Decimal("0.005")))[0]
    'Add 500 mg weights one at a time until the indication steps up by 5 g; enter the total added (dL).'
    """
    message = instruction(step)
    if lang is not None:
        return translate_message(lang, message)
    return translate_message("en", message), translate_message("zh", message)


def _json_value(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return [_json_value(item) for item in value]
    if isinstance(value, LiveResult):
        return value.as_json()
    if isinstance(value, Message):
        return value.english()
    return value


def step_as_json(step: Step) -> dict[str, Any]:
    """The JSON form of a step: ``kind``, its fields (masses as exact decimal strings), the instruction as a
    message (``message``: msgid and parameters) and in English and Chinese (``text``, ``text_zh``).

    >>> data = step_as_json(RemoveLoad())
    >>> data["kind"], data["message"], data["text_zh"]
    ('remove', {'msgid': 'Remove all loads from the load receptor.'}, '卸下承载器上的全部载荷。')
    """
    data: dict[str, Any] = {"kind": step.kind}
    for item in fields(step):
        value = getattr(step, item.name)
        if item.name == "range_in_use" and value is None:
            continue
        data[item.name] = _json_value(value)
    message = instruction(step)
    data["message"] = message.as_json()
    data["text"], data["text_zh"] = describe(step)
    return data


def id_form(step: Step) -> dict[str, Any]:
    """The form a step's digest is taken of: its kind, its fields, and its instruction in English and in the
    Chinese the step carried before the catalogue (:func:`hengqi.procedures.step_ids.legacy_chinese`), so that
    a recorded run's step ids stay valid whatever the catalogue says."""
    data: dict[str, Any] = {"kind": step.kind}
    for item in fields(step):
        value = getattr(step, item.name)
        if item.name == "range_in_use" and value is None:
            continue  # a single-range reading: the form of the steps before ranges were recorded
        data[item.name] = _json_value(value)
    message = instruction(step)
    english = message.english()
    data["text"], data["text_zh"] = english, legacy_chinese(step, message) or english
    return data


def step_digest(step: Step) -> str:
    """A short digest of a step's :func:`id_form`: two different steps at one index never share a step id.

    >>> step_digest(ZeroScale()) == step_digest(ZeroScale()), step_digest(ZeroScale()) == step_digest(RemoveLoad())
    (True, False)
    """
    text = json.dumps(id_form(step), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
