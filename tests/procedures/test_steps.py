"""Steps: answers are checked against their step, texts exist in both languages, ids tell steps apart."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hengqi.errors import InputError
from hengqi.locale import N_, record_misses
from hengqi.procedures.instructions import describe, step_as_json, step_digest
from hengqi.procedures.steps import (
    STEP_TYPES,
    AddLoad,
    Decide,
    FindChangeover,
    PlaceLoad,
    Prompt,
    ReadConditions,
    ReadStable,
    RemoveLoad,
    Substitute,
    ZeroScale,
    answer_as_json,
    answer_from_json,
    check_answer,
)

D = Decimal
CHANGEOVER = FindChangeover(D("1"), D("0.0005"), D("0.005"))


def test_reading_answers_are_exact_masses_in_kg() -> None:
    step = ReadStable("indication", D("1"))
    assert check_answer(step, "1005 g") == D("1.005")
    assert check_answer(step, D("-0.005")) == D("-0.005")  # an indication below zero is legal
    assert check_answer(step, "-5 g") == D("-0.005")
    for bad in (None, True, "heavy", "1 parsec", D("NaN")):
        with pytest.raises(InputError):
            check_answer(step, bad)


def test_changeover_load_must_lie_within_one_interval() -> None:
    assert check_answer(CHANGEOVER, "1.5 g") == D("0.0015")
    assert check_answer(CHANGEOVER, "5 g") == D("0.005")
    for bad in ("0 g", "5.5 g", "-1 g"):
        with pytest.raises(InputError, match="answer"):
            check_answer(CHANGEOVER, bad)


def test_acknowledged_steps_take_no_value() -> None:
    for step in (Prompt("x"), PlaceLoad(D(1)), AddLoad(D("0.007")), RemoveLoad(), ZeroScale()):
        assert check_answer(step, None) is None
        assert check_answer(step, "ok") is None
        with pytest.raises(InputError):
            check_answer(step, "1 kg")


def test_decide_takes_one_of_its_options() -> None:
    step = Decide("go", "Go on?", ("continue", "stop"))
    assert check_answer(step, " stop ") == "stop"
    with pytest.raises(InputError, match="continue, stop"):
        check_answer(step, "later")


def test_answers_survive_their_json_form() -> None:
    step = ReadStable("indication", D("1"))
    value = check_answer(step, "1.0050 kg")
    assert answer_from_json(step, answer_as_json(value)) == value
    with pytest.raises(InputError):
        answer_from_json(step, "not a number")


def test_every_step_is_described_in_english_and_chinese() -> None:
    """Every kind of step has its instruction in the catalogue: the Chinese differs and no lookup misses."""
    on_failure = "A result exceeds its limit: the instrument fails. Continue the remaining tests, or stop here?"
    steps = [
        Prompt(N_("Set the instrument to zero.")),
        Decide("k", N_(on_failure), ("a", "b")),
        PlaceLoad(D("5"), "front-left", ("W1",)),
        AddLoad(D("0.007")),
        RemoveLoad(),
        Substitute(D("20000"), ("20 x T1",), 2),
        ZeroScale(),
        ReadStable("indication", D("5")),
        CHANGEOVER,
        ReadConditions("start"),
    ]
    assert {type(step) for step in steps} == set(STEP_TYPES)
    with record_misses() as misses:
        for step in steps:
            english, chinese = describe(step)
            assert english
            assert chinese
            assert english != chinese
            data = step_as_json(step)
            assert data["kind"] == step.kind
            assert data["text"] == english
            assert data["text_zh"] == chinese
            assert data["message"]["msgid"]
    assert misses == set()
    assert describe(PlaceLoad(D("5"), "front-left")) == (
        "Place 5 kg on the load receptor, front-left.",
        "在承载器左前放置 5 kg 的砝码。",
    )
    assert "W1" in describe(PlaceLoad(D("5"), "centre", ("W1",)), "zh")
    assert (
        describe(ReadStable("repeatability 7.5 kg #2", D("7.5")), "zh")
        == "读取稳定示值（重复性 7.5 kg 第 2 次，载荷 7.5 kg）。"
    )
    substitute = describe(Substitute(D("20000"), ("20 x T1",), 2))
    assert "Substitution 2" in substitute[0]
    assert "20 x T1" in substitute[0]
    assert "20 t" in substitute[0]
    assert "替代" in substitute[1]


def test_a_plain_text_prompt_is_shown_as_it_is() -> None:
    """A prompt given as plain text (not a catalogue message) is shown in every language as written."""
    with record_misses() as misses:
        assert describe(Prompt("Begin.")) == ("Begin.", "Begin.")
    assert misses == {(None, "Begin.")}  # and the page probe sees it


def test_digests_tell_steps_apart() -> None:
    assert step_digest(PlaceLoad(D("5"))) == step_digest(PlaceLoad(D("5.000")).__class__(D("5")))
    assert step_digest(PlaceLoad(D("5"))) != step_digest(PlaceLoad(D("5"), "back-left"))
    assert step_digest(ReadStable("a", D(1))) != step_digest(ReadStable("b", D(1)))


def test_conditions_are_typed_in_or_left_out() -> None:
    step = ReadConditions("start")
    assert check_answer(step, "20,5 °C; 1002.5 hPa; 41 %") == "20.5 °C; 1002.5 hPa; 41 %"
    assert check_answer(step, {"temperature": "19.8", "pressure": "998", "humidity": "55"}) == "19.8 °C; 998 hPa; 55 %"
    assert check_answer(step, "") is None
    assert check_answer(step, None) is None
    assert check_answer(step, {"temperature": "", "pressure": "", "humidity": ""}) is None
    value = check_answer(step, "20.5; 1002.5; 41")
    assert answer_from_json(step, answer_as_json(value)) == value
    for bad, field in (
        ("20.5; 100.25; 41", "pressure"),  # kPa typed as hPa
        ("293.15; 1002; 41", "temperature"),  # kelvin
        ("20; 1002; 141", "humidity"),
        ("20; 1002", "answer"),
        ("twenty; 1002; 41", "temperature"),
        ("20; 1002; " + "9" * 500, "humidity"),
        ("nan; 1002; 41", "temperature"),
    ):
        with pytest.raises(InputError) as caught:
            check_answer(step, bad)
        assert caught.value.path == field, bad
    with pytest.raises(InputError):
        check_answer(step, 20.5)
