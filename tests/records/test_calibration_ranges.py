"""Calibration records of instruments with several ranges: the range in use per reading, its d in the rounding
terms, its MPE in conformity statements, and clear errors for ranges that cannot be."""

from __future__ import annotations

import copy
import json
import math
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.certificates.sample import ADMIN

from hengqi.certificates.admin import admin_from_mapping
from hengqi.certificates.conformity import assess_conformity, classify
from hengqi.certificates.dcc import dcc_bytes, read_dcc
from hengqi.certificates.pdf.render import render_certificate_pdf
from hengqi.cli import cli
from hengqi.errors import RecordError
from hengqi.metrology.calibration.result import CalibrationResult
from hengqi.records.calibration import calibrate, load_calibration_record, parse_calibration_record
from hengqi.records.calibration_report import result_document

D = Decimal
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "calibration"
TWO_RANGES = EXAMPLES / "two-range-scale-15kg.yaml"
SINGLE = EXAMPLES / "analytical-balance-220g.yaml"


def _data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(TWO_RANGES.read_text(encoding="utf-8"))
    return data


def _points(result: CalibrationResult, load: str) -> dict[int | None, Any]:
    return {p.range_in_use: p for p in result.points if p.load_kg == D(load)}


def test_a_point_read_in_range_2_is_rounded_with_d2() -> None:
    """EURAMET cg-18 v4.0 7.1.1 (SECONDARY, standards.md section 3): u(dI_digL) = dL / (2 sqrt 3), u(dI_dig0) =
    d0 / (2 sqrt 3).  By hand: d2 = 5 g gives 0.005 / (2 * 1.7320508075688772) kg = 1.4433756729740645 g; the
    no-load reading (range 1, d1 = 2 g) 0.5773502691896258 g.  Tolerance: 1e-12 relative (float arithmetic)."""
    result = calibrate(load_calibration_record(TWO_RANGES))
    at_5kg = _points(result, "5")
    down = at_5kg[2]  # the decreasing 5 kg point, read in range 2
    assert down.d_kg == D("0.005")
    load_term = down.contribution("rounding-load")
    zero_term = down.contribution("rounding-no-load")
    assert load_term is not None
    assert zero_term is not None
    assert load_term.u_kg == pytest.approx(0.0014433756729740645, rel=1e-12)
    assert zero_term.u_kg == pytest.approx(0.0005773502691896258, rel=1e-12)
    assert load_term.u_kg == pytest.approx(0.005 / (2 * math.sqrt(3)), rel=1e-12)
    up = at_5kg[1]  # the increasing 5 kg point, range 1: d1 = 2 g
    up_term = up.contribution("rounding-load")
    assert up_term is not None
    assert up_term.u_kg == pytest.approx(0.002 / (2 * math.sqrt(3)), rel=1e-12)
    assert down.u_kg > up.u_kg


def test_a_missing_range_is_that_of_the_load_placed_from_zero() -> None:
    data = _data()
    for point in data["points"]:
        point.pop("range")
    result = calibrate(parse_calibration_record(data))
    assert {p.load_kg: p.range_in_use for p in result.points} == {D(2): 1, D(5): 1, D(10): 2, D(15): 2}
    assert all(p.d_kg == (D("0.002") if p.load_kg <= 6 else D("0.005")) for p in result.points)


def test_a_points_own_d_overrides_the_range_and_no_load_may_name_its_range() -> None:
    data = _data()
    data["points"][6] |= {"d": "10 g", "no_load_range": 2}  # the decreasing 2 kg point
    result = calibrate(parse_calibration_record(data))
    point = _points(result, "2")[2]
    assert point.d_kg == D("0.010")
    zero_term = point.contribution("rounding-no-load")
    assert zero_term is not None
    assert zero_term.u_kg == pytest.approx(0.005 / (2 * math.sqrt(3)), rel=1e-12)


def test_conformity_uses_the_mpe_of_the_range_in_use() -> None:
    """OIML R 76-1:2006 Table 6, class III, initial verification: 5 kg is 1000 e2 (500 e < m <= 2000 e: 1 e = 5 g)
    in range 2 and 2500 e1 (2000 e < m <= 10000 e: 1.5 e = 3 g) in range 1.  E = +5 g read in range 2 is within
    its MPE; judged against range 1 it would be a conditional fail (ILAC-G8 guarded acceptance, w = U)."""
    result = calibrate(load_calibration_record(TWO_RANGES))
    assessment = assess_conformity(result, stage="initial", rules="oiml-r76")
    assert assessment is not None
    by_point = dict(zip(result.points, assessment.points, strict=True))
    at_5kg = _points(result, "5")
    assert by_point[at_5kg[1]].mpe_kg == D("0.003")
    down = by_point[at_5kg[2]]
    assert down.mpe_kg == D("0.005")
    assert down.error_kg == D("0.005")
    assert down.status == "conditionalPass"
    assert classify(down.error_kg, down.U_kg, D("0.003")) == "conditionalFail"  # the false failure avoided


def test_usp41_floor_uses_the_d_of_the_series_range() -> None:
    """USP <41>: s not less than 0.41 d, m_min = 2 s / 0.10 %.  Ten equal readings at 10 kg in range 2 (d2 = 5 g):
    s = 0.41 * 5 g = 2.05 g, m_min = 2 * 2.05 g / 0.001 = 4.1 kg (exact up to float rounding, 1e-12 relative)."""
    data = _data()
    data["repeatability"] = [{"load": "10 kg", "range": 2, "readings": ["10.005 kg"] * 10}]
    data["minimum_weight"] = {"usp41": True}
    result = calibrate(parse_calibration_record(data))
    usp = next(m for m in result.minimum_weights if m.method == "usp-41")
    assert float(usp.value_kg) == pytest.approx(4.1, rel=1e-12)


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (lambda d: d["points"][0].update(range=3), "points[0].range", "no range 3: the instrument has 2 ranges"),
        (lambda d: d["points"][2].update(range=1), "points[2].range", "range 1 cannot indicate 10 kg"),
        (lambda d: d["points"][0].update(no_load_range=5), "points[0].no_load_range", "no range 5"),
        (lambda d: d["points"][0].update(range=True), "points[0].range", "valid integer"),  # not taken as 1
        (lambda d: d["points"][0].update(range="1"), "points[0].range", "valid integer"),
        (lambda d: d["points"][0].update(range=0), "points[0].range", "greater than or equal to 1"),
        (lambda d: d["repeatability"][0].update(range=1), "repeatability[0].range", "range 1 cannot indicate"),
        (lambda d: d["eccentricity"].update(range=3), "eccentricity.range", "no range 3"),
        (lambda d: d["instrument"].pop("ranges"), "instrument.ranges", "needs its ranges"),
        (lambda d: d["instrument"].pop("kind"), "instrument.kind", "give the kind"),
        (lambda d: d["instrument"].update(max="16 kg"), "instrument.max", "Max of the last range"),
        (lambda d: d["instrument"].update(d="5 g"), "instrument.d", "d of the first range"),
        (lambda d: d["instrument"]["ranges"][1].update(max="6 kg"), "instrument.ranges[1].max", "larger than Max1"),
        (lambda d: d["instrument"]["ranges"][1].update(d="1 g"), "instrument.ranges[1].d", "must not be smaller"),
        (lambda d: d["instrument"].update(kind="multi-interval"), "repeatability[0].range", "only on a multiple-range"),
    ],
)
def test_impossible_ranges_name_the_field(change: Any, path: str, words: str) -> None:
    data = copy.deepcopy(_data())
    change(data)
    with pytest.raises(RecordError, match=words) as caught:
        parse_calibration_record(data)
    assert caught.value.path == path


def test_a_range_on_a_single_range_instrument_is_refused() -> None:
    data: dict[str, Any] = yaml.safe_load(SINGLE.read_text(encoding="utf-8"))
    data["points"][0]["range"] = 2
    with pytest.raises(RecordError, match="several ranges") as caught:
        parse_calibration_record(data)
    assert caught.value.path == "points[0].range"


def test_the_cli_refuses_a_range_that_does_not_exist_with_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = _data()
    data["points"][5]["range"] = 3
    record = tmp_path / "bad-range.yaml"
    record.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert cli(["calibrate", str(record)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "points[5].range" in lines[0]
    assert "no range 3" in lines[0]


def test_single_range_results_carry_no_range() -> None:
    result = calibrate(load_calibration_record(SINGLE))
    assert all(p.d_kg is None and p.range_in_use is None for p in result.points)
    assert not result.instrument.ranges
    document = result_document(result)
    assert all("range" not in p and "d_kg" not in p for p in document["points"])
    assert "ranges" not in document["instrument"]
    assert b"hengqi_rangeInUse" not in dcc_bytes(result, admin_from_mapping(ADMIN))


def _admin(result: CalibrationResult) -> Any:
    item = {"serial_number": "PS15-20417", "max": "15 kg", "d": f"{result.instrument.d_kg} kg"}
    return admin_from_mapping({**ADMIN, "item": item, "conformity": {"stage": "initial"}})


def test_dcc_and_pdf_state_the_d_of_each_point(tmp_path: Path) -> None:
    result = calibrate(load_calibration_record(TWO_RANGES))
    admin = _admin(result)
    xml = dcc_bytes(result, admin)
    back = read_dcc(xml).result
    assert [p.range_in_use for p in back.points] == [p.range_in_use for p in result.points]
    assert [p.d_kg for p in back.points] == [D("0.002"), D("0.005"), D("0.002"), D("0.005"), D("0.005"),
                                             D("0.005"), D("0.005")]  # fmt: skip
    assert back.instrument.ranges == result.instrument.ranges
    assert back.instrument.kind == result.instrument.kind
    pdf = tmp_path / "two-range.pdf"
    pdf.write_bytes(render_certificate_pdf(result, admin, plot=False))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "multiple-range instrument" in text
    assert "Max = 6 kg / 15 kg" in text
    assert "d = 2 g / 5 g" in text
    assert "d/g" in text.replace(" ", "")  # the column of each point's d
    rows = [line.split() for line in text.splitlines() if line.split()[:1] == ["5.000"]]
    assert {row[2]: row[3] for row in rows} == {"5.002": "2", "5.005": "5"}  # load, m_ref, I, d: d2 on the way down


def test_the_uncertainty_in_use_rounds_with_the_largest_d_and_d1_at_zero() -> None:
    """hengqi construction (docs/calibration-record.md): d of the last range for a reading in use, d1 at zero;
    each d / (2 sqrt 3) (cg-18 v4.0 7.1.1, SECONDARY), 1e-12 relative."""
    in_use = calibrate(load_calibration_record(TWO_RANGES)).uncertainty_in_use
    assert in_use is not None
    terms = {c.name: c.u_kg for c in in_use.budget}
    assert terms["rounding-load"] == pytest.approx(0.005 / (2 * math.sqrt(3)), rel=1e-12)
    assert terms["rounding-no-load"] == pytest.approx(0.002 / (2 * math.sqrt(3)), rel=1e-12)


def test_the_cli_shows_and_exports_the_range_and_d_of_each_point(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["calibrate", str(TWO_RANGES), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [(p["load_kg"], p["range"], p["d_kg"]) for p in document["points"]][2:4] == [
        (5.0, 1, 0.002),
        (5.0, 2, 0.005),
    ]
    assert document["instrument"]["kind"] == "multiple-range"
    assert [r["d_kg"] for r in document["instrument"]["ranges"]] == [0.002, 0.005]
    assert cli(["calibrate", str(TWO_RANGES)]) == 0
    out = capsys.readouterr().out
    assert "range" in out
    assert "d / g" in out
