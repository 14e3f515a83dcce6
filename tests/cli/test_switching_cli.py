"""``hengqi stats switching``: the severity after each lot, the same as the library; bad input exits 2."""

from __future__ import annotations

import json

import pytest

from hengqi.cli import cli
from hengqi.supervision.switching import LotResult, ReducedConditions, run_lots


def test_text_and_json_agree_with_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["stats", "switching", "--lots", "ARRAAAAARR"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert (
        lines[2] == "lot 3: R; next lot on tightened inspection (8.3.1: 2 of the last 3 consecutive lots not accepted)"
    )
    assert lines[7].startswith("lot 8: A; next lot on normal inspection (8.3.2")
    assert cli(["stats", "switching", "--lots", "a" * 10, "--limits-dropped", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    expected = run_lots([LotResult.ACCEPTED] * 10, conditions=ReducedConditions(limit_number=None))
    assert [r["severity"] for r in rows] == [s.severity.value for s in expected]
    assert rows[-1]["severity"] == "reduced"
    assert rows[-1]["clause"] == "8.3.3"


def test_limit_number_with_counts(capsys: pytest.CaptureFixture[str]) -> None:
    counts = "0,0,1,0,0,0,0,1,0,1"
    assert cli(["stats", "switching", "--lots", "A" * 10, "--limit-number", "3", "--nonconforming", counts]) == 0
    assert "next lot on reduced" in capsys.readouterr().out.splitlines()[-1]
    assert cli(["stats", "switching", "--lots", "A" * 10, "--limit-number", "2", "--nonconforming", counts]) == 0
    assert "next lot on normal" in capsys.readouterr().out.splitlines()[-1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lots", "AXB"], "--lots: use A, R and C only"),
        (["--lots", ""], "--lots"),
        (["--lots", "AC"], "lot 2: result"),  # C exists under reduced inspection only
        (["--lots", "RR" + "R" * 5 + "A"], "lot 8: state: inspection is discontinued"),
        (["--lots", "AA", "--nonconforming", "1,x"], "--nonconforming"),
        (["--lots", "AA", "--nonconforming", "1"], "1 counts for 2 lots"),
        (["--lots", "AA", "--limit-number", "2", "--limits-dropped"], "not both"),
        (["--lots", "AA", "--limit-number", "-1"], "limit-number"),
    ],
)
def test_bad_input_exits_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["stats", "switching", *args]) == 2
    assert message in capsys.readouterr().err


def test_single_plan_tightened(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        cli(["stats", "single-plan", "--lot-size", "2000", "--aql", "15", "--inspection", "tightened", "--json"]) == 0
    )
    plan = json.loads(capsys.readouterr().out)
    assert (plan["code_letter"], plan["n"], plan["ac"], plan["re"]) == ("J", 80, 18, 19)
    assert cli(["stats", "single-plan", "--lot-size", "20000", "--aql", "1.0", "--inspection", "tightened"]) == 0
    assert "code letter M, inspect n = 315, accept with Ac = 5, reject with Re = 6" in capsys.readouterr().out
    assert cli(["stats", "single-plan", "--lot-size", "1", "--aql", "1.0", "--inspection", "tightened"]) == 2


def test_single_plan_reduced(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["stats", "single-plan", "--lot-size", "1000", "--aql", "1.0", "--inspection", "reduced", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert (plan["code_letter"], plan["n"], plan["ac"], plan["re"]) == ("J", 32, 1, 3)
    assert cli(["stats", "single-plan", "--lot-size", "1000", "--aql", "1.0", "--inspection", "reduced"]) == 0
    out = capsys.readouterr().out
    assert "reject with Re = 3" in out
    assert "between 1 and 3: accept the lot and return to normal inspection" in out
    assert cli(["stats", "single-plan", "--lot-size", "1000", "--aql", "0.4", "--inspection", "reduced"]) == 2
    assert "aql" in capsys.readouterr().err
