"""Runs recorded before the step texts moved to the catalogue replay, and show in English and Chinese.

``data/old-*.state.json`` are run states saved by the code of that time (a verification with a failing point and
every test, a calibration with conditions: 172 and 54 operator steps), ``data/old-*.shown.json`` the instruction
each step showed then, in English and Chinese (the hand-written pairs).  Kept forever: a later version must read
them.  The step ids in the states are digests of the old bilingual form, so the replay checks every one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import pytest

from hengqi.locale import record_misses
from hengqi.procedures.instructions import describe, step_digest
from hengqi.procedures.plans import PLANS
from hengqi.procedures.session import Session
from hengqi.procedures.state import RunState
from hengqi.procedures.steps import ReadStable

DATA = Path(__file__).parent / "data"
LATIN_WORD = re.compile(r"\b[a-z]{3,}\b")  # an English word in lower case (units, 'kg', 'Max', 'E0' pass)


@pytest.mark.parametrize("kind", ["verification", "calibration"])
def test_an_old_run_replays_and_reads_the_same_in_english(kind: str) -> None:
    state = RunState.loads((DATA / f"old-{kind}.state.json").read_text(encoding="utf-8"))
    shown = json.loads((DATA / f"old-{kind}.shown.json").read_text(encoding="utf-8"))
    session = Session(state, PLANS[kind])  # raises ReplayError on any step id that no longer matches
    assert session.status == "finished"
    assert len(session.history) == len(shown) > 50
    with record_misses() as misses:
        for (_, step, record), then in zip(session.history, shown, strict=True):
            assert record.step_id == then["step_id"]
            english, chinese = describe(step)
            assert english == then["en"]
            assert chinese
            assert not LATIN_WORD.search(chinese.replace("oiml-r76", "")), chinese
    assert misses == set()


def test_the_chinese_now_comes_from_the_catalogue() -> None:
    """Where the old pair left English in the Chinese (a purpose, a stage), the catalogue translates it."""
    shown = json.loads((DATA / "old-verification.shown.json").read_text(encoding="utf-8"))
    state = RunState.loads((DATA / "old-verification.state.json").read_text(encoding="utf-8"))
    session = Session(state, PLANS["verification"])
    pairs = {then["zh"]: describe(step, "zh") for (_, step, _), then in zip(session.history, shown, strict=True)}
    assert pairs["读取稳定示值（eccentricity back-left，载荷 5 kg）。"] == "读取稳定示值（偏载 左后，载荷 5 kg）。"
    assert pairs["卸下承载器上的全部载荷。"] == "卸下承载器上的全部载荷。"
    assert "首次检定" in describe(session.history[0][1], "zh")


def test_steps_added_on_main_keep_the_ids_main_gives_them() -> None:
    """main (946f7d2) added a substitution step and the range of a reading on a multi-range instrument, with
    bilingual pairs; the digests below are what main's ``step_digest`` gives.  Stand-ins with the same fields show
    that the catalogue's instructions keep those ids (and read the same in English), ready for the merge."""

    @dataclass(frozen=True, slots=True)
    class Substitute:  # main's hengqi.procedures.steps.Substitute
        kind: ClassVar[str] = "substitute"
        load_kg: Decimal
        weights: tuple[str, ...] = ()
        step: int = 1

    @dataclass(frozen=True, slots=True)
    class RangedReading(ReadStable):  # main's ReadStable with range_in_use
        range_in_use: int | None = None

    assert step_digest(Substitute(Decimal(500), ("W1", "W2"), 2)) == "1772ef73d1"  # type: ignore[arg-type]
    assert step_digest(Substitute(Decimal(1000))) == "a5dbcbbbb7"  # type: ignore[arg-type]
    assert step_digest(RangedReading("indication", Decimal(1), 2)) == "c96bff15d6"
    assert step_digest(RangedReading("indication", Decimal(1))) == step_digest(ReadStable("indication", Decimal(1)))
    with record_misses() as misses:
        assert (
            describe(RangedReading("indication", Decimal(1), 2), "zh")
            == "读取稳定示值（示值，载荷 1 kg，称量范围 2）。"
        )
        chinese = describe(Substitute(Decimal(500), ("W1",), 1), "zh")  # type: ignore[arg-type]
    assert chinese.startswith("第 1 次替代：从承载器上取下标准砝码（W1）")
    assert misses == set()
