"""``hengqi calibrate``: tables, JSON contract, plot, and one-line errors with exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hengqi.cli import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "calibration"
BALANCE = EXAMPLES / "analytical-balance-220g.yaml"


def _json(capsys: pytest.CaptureFixture[str], path: Path) -> dict[str, Any]:
    assert cli(["calibrate", str(path), "--json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, BALANCE)
    assert data["format"] == "hengqi.calibration-result"
    assert data["method"] == "EURAMET cg-18 v4.0 (11/2015)"
    assert len(data["points"]) == 5
    for point in data["points"]:
        assert {"load_kg", "error_kg", "u_kg", "k", "U_kg"} <= set(point)
        assert point["U_kg"] == pytest.approx(point["k"] * point["u_kg"], rel=1e-12)
    h1 = next(p for p in data["points"] if p["load_kg"] == 0.1)
    assert h1["error_kg"] == pytest.approx(7e-7, abs=1e-15)
    assert [b["load_kg"] for b in data["budget"]] == [p["load_kg"] for p in data["points"]]
    names = {c["name"] for c in data["budget"][1]["contributions"]}
    assert names == {"rounding-no-load", "rounding-load", "repeatability", "eccentricity", "reference-mass",
                     "buoyancy", "drift"}  # fmt: skip
    assert data["repeatability"][0]["dof"] == 4
    assert data["eccentricity"]["max_deviation_kg"] == pytest.approx(2e-7)
    in_use = data["uncertainty_in_use"]
    assert {"alpha_kg", "beta", "k", "table"} <= set(in_use)
    methods = {m["method"]: m["value_kg"] for m in data["minimum_weights"]}
    assert set(methods) == {"cg-18"}  # the example's 5 weighings are too few for USP <41> (10 needed)
    assert any("USP <41>" in note for note in data["notes"])
    assert "secondary source" in data["provenance"]  # provenance stays in the budget export
    assert data["minimum_weight_kg"] == pytest.approx(max(methods.values()))
    rounding = next(c for c in data["budget"][0]["contributions"] if c["name"] == "rounding-load")
    assert rounding["dof"] is None  # infinite degrees of freedom are null in JSON


def test_text_report_and_plot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    plot = tmp_path / "curve.png"
    assert cli(["calibrate", str(EXAMPLES / "truck-scale-60t.yaml"), "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    for words in ("Errors of indication", "Budget at 60000 kg", "substitution-repeatability", "minimum weight (cg-18)",
                  "uncertainty in use"):  # fmt: skip
        assert words in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("format: hengqi.calibration-record\nversion: 1\n", "date: required field is missing"),
        ("- just\n- a list\n", "mapping"),
        ("format: [\n", "line"),
    ],
)
def test_bad_records_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, words: str
) -> None:
    record = tmp_path / "bad.yaml"
    record.write_text(content, encoding="utf-8")
    assert cli(["calibrate", str(record)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert words in lines[0]
    assert "Traceback" not in captured.err


def test_missing_file_and_unwritable_plot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli(["calibrate", str(tmp_path / "absent.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert cli(["calibrate", str(BALANCE), "--plot", str(tmp_path / "no" / "dir" / "x.png")]) == 2
    err = capsys.readouterr().err
    assert "--plot" in err
    assert len(err.strip().splitlines()) == 1
