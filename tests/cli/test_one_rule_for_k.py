"""One rule for k: ``hengqi calibrate`` and ``hengqi uncertainty`` give the same k on the same budget.

The rule (:func:`hengqi.metrology.gum.coverage_factor_nu_eff`): nu_eff by Welch-Satterthwaite, truncated to the
next lower integer, then Student's t at the coverage probability (JCGM 100:2008 G.4.1 note 1; EA-4/02 practice).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from hengqi.cli import cli
from hengqi.metrology.gum import coverage_factor, coverage_factor_nu_eff

RECORD = {
    "format": "hengqi.calibration-record",
    "version": 1,
    "date": "2026-12-07",
    "instrument": {"id": "B-1", "max": "220 g", "d": "0.1 mg"},
    "weights": [
        {"id": "W100", "class": "E2", "nominal": "100 g", "certificate": {"correction": "0 mg", "U": "0.05 mg"}}
    ],
    "repeatability": [{"load": "100 g", "readings": ["100.0002 g", "100.0005 g", "100.0001 g"]}],
    "points": [{"load": "100 g", "weights": ["W100"], "indication": "100.0003 g"}],
    "in_use": {"error_curve": "none"},
}


def _json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert cli(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data, dict)
    return data


def test_calibrate_and_uncertainty_give_the_same_k(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = tmp_path / "record.yaml"
    record.write_text(yaml.safe_dump(RECORD), encoding="utf-8")
    point = _json(["calibrate", "--json", str(record)], capsys)["points"][0]  # type: ignore[index]
    assert isinstance(point, dict)
    budget = point["budget"]
    nu_eff = float(point["dof"])
    assert not nu_eff.is_integer()  # the rule matters here: t at 2.2 and at 2 differ
    assert coverage_factor(nu_eff, 0.9545) < coverage_factor_nu_eff(nu_eff, 0.9545)
    # the same budget as an uncertainty model: E = sum of the contributions (in mg), each with its u and dof
    inputs = []
    for index, c in enumerate(budget):
        u_mg = c["u_kg"] * 1e6
        finite = isinstance(c["dof"], int | float) and math.isfinite(c["dof"])
        if not finite:
            inputs.append({"name": f"x{index}", "distribution": "normal", "mean": 0.0, "u": u_mg, "unit": "mg"})
        else:
            inputs.append(
                {"name": f"x{index}", "distribution": "t", "mean": 0.0, "u": u_mg, "dof": c["dof"], "unit": "mg"}
            )
    model = {
        "format": "hengqi.uncertainty-model",
        "version": 1,
        "title": "the calibration budget at 100 g",
        "measurand": {"name": "E", "unit": "mg"},
        "model": " + ".join(item["name"] for item in inputs),
        "inputs": inputs,
        "probability": 0.9545,
    }
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(model), encoding="utf-8")
    gum = _json(["uncertainty", "--json", str(path)], capsys)["gum"]
    assert isinstance(gum, dict)
    assert float(gum["dof"]) == pytest.approx(nu_eff, rel=1e-9)
    assert float(gum["k"]) == pytest.approx(float(point["k"]), rel=1e-12)
    assert float(point["k"]) == pytest.approx(coverage_factor_nu_eff(nu_eff, 0.9545), rel=1e-15)
