"""``hengqi stats variables-plan``: the s-method plans of ANSI/ASQ Z1.9 (secondary transcription) and the
decision on a lot."""

from __future__ import annotations

import json

import pytest

from hengqi.cli import cli


def test_plan_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["stats", "variables-plan", "--lot-size", "1000", "--aql", "1.0", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["code_letter"], doc["n"], doc["m_percent"], doc["k"]) == ("J", 35, "2.660", "1.8940")
    assert "lot" not in doc


def test_plan_text_and_code_letter(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["stats", "variables-plan", "--code-letter", "I", "--aql", "2.5", "--inspection", "reduced"]) == 0
    out = capsys.readouterr().out
    assert "code letter I, measure n = 10" in out
    assert "M = 10.53 %" in out


def test_judge_a_lot(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["stats", "variables-plan", "--lot-size", "40", "--aql", "1.0", "--json"]
    assert cli([*args, "--values", "9.8,10.1,10.0,10.2,9.9", "--lower", "9", "--upper", "11"]) == 0
    lot = json.loads(capsys.readouterr().out)["lot"]
    assert (lot["mean"], lot["form"], lot["accepted"]) == ("10", "M", True)
    assert cli([*args, "--mean", "10", "--sd", "0.7", "--lower", "9", "--upper", "11"]) == 0
    assert json.loads(capsys.readouterr().out)["lot"]["accepted"] is False
    # one limit, Form 1: (U - mean)/s = (11 - 10)/0.5 = 2 >= k = 1.5247
    assert cli(["stats", "variables-plan", "--lot-size", "40", "--aql", "1.0", "--mean", "10", "--sd", "0.5",
                "--upper", "11"]) == 0  # fmt: skip
    assert "lot accepted: quality index (upper) 2.0000 >= k = 1.5247" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--aql", "1.0"], "--lot-size: give either"),
        (["--lot-size", "100", "--code-letter", "F", "--aql", "1.0"], "--lot-size: give either"),
        (["--lot-size", "1", "--aql", "1.0"], "--lot-size"),
        (["--lot-size", "450", "--aql", "1.0"], "disagree on the code letter"),
        (["--code-letter", "Z", "--aql", "1.0"], "--code-letter"),
        (["--lot-size", "100", "--aql", "3"], "--aql"),
        (["--lot-size", "40", "--aql", "1.0", "--values", "1,2", "--upper", "3"], "--values: the plan measures 5"),
        (["--lot-size", "40", "--aql", "1.0", "--values", "1,2,3,4,x", "--upper", "3"], "--values"),
        (["--lot-size", "40", "--aql", "1.0", "--mean", "1", "--sd", "0", "--upper", "3"], "--sd"),
        (["--lot-size", "40", "--aql", "1.0", "--mean", "1", "--sd", "1"], "--limits"),
        (["--lot-size", "40", "--aql", "1.0", "--mean", "x", "--sd", "1", "--upper", "2"], "--mean"),
    ],
)
def test_bad_input_exits_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["stats", "variables-plan", *args]) == 2
    assert message in capsys.readouterr().err


STAIRCASE = ["stats", "staircase", "--margin", "0.8", "--extend", "1.5", "--reduce", "0.5", "--min-days", "90",
             "--max-days", "1095"]  # fmt: skip


def test_staircase(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli([*STAIRCASE, "--initial-days", "365", "--findings", "MMWO", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["days"] for r in rows] == [547, 820, 820, 410]
    assert rows[3]["finding"] == "outside_mpe"
    assert cli([*STAIRCASE, "--initial-days", "365", "--findings", "m"]) == 0
    assert "next interval 547 d (extended: 365 d x 1.5 = 547 d)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--initial-days", "365", "--findings", "MX"], "--findings"),
        (["--initial-days", "0", "--findings", "M"], "--initial-days"),
        (["--initial-days", "99999999999999999999", "--findings", "M"], "--initial-days"),
        (["--initial-days", "365", "--findings", "M", "--margin", "x"], "--margin"),
        (["--initial-days", "365", "--findings", "M", "--extend", "0.9"], "--extend"),
        (["--initial-days", "365", "--findings", "M", "--min-days", "0"], "--min-days"),
    ],
)
def test_staircase_bad_input(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli([*STAIRCASE, *args]) == 2
    assert message in capsys.readouterr().err


def test_population_samples(tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "fleet.csv"
    lines = ["instrument_id,model,installed,region"]
    lines += [f"S-{i:03d},B-30,2019-06-01,310101" for i in range(40)]
    lines += [f"T-{i:03d},X-6,,610102" for i in range(5)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["stats", "population-samples", str(path), "--seed", "11", "--as-of", "2026-12-01", "--json"]
    assert cli(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(d["key"], d["population"], d["n"]) for d in doc] == [
        ({"model": "B-30", "age": "5-10", "region": "310101"}, 40, 25),  # (15 x 14 x 13)/(40 x 39 x 38) = 0.046
        ({"model": "X-6", "age": "unknown", "region": "610102"}, 5, 5),
    ]
    assert doc[0]["seed"] == 11
    assert len(set(doc[0]["instrument_ids"])) == 25
    assert cli(args) == 0
    assert json.loads(capsys.readouterr().out) == doc  # the same seed draws the same instruments
    assert cli([*args[:-1], "--proportion", "1.5"]) == 2
    assert "proportion" in capsys.readouterr().err
    assert cli(["stats", "population-samples", str(path), "--seed", "1", "--group-by", "colour"]) == 2
    assert "colour" in capsys.readouterr().err
    assert cli(["stats", "population-samples", str(path)]) == 2  # the seed is required
