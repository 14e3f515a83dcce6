"""A guided calibration of a registered instrument with several ranges carries them into the record header."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from tests.server.conftest import INSTRUMENT, Platform

from hengqi.errors import RecordError
from hengqi.procedures.calibration import calibration_plan, normalise
from hengqi.procedures.simulate import VirtualBalance, simulate
from hengqi.records.run_data import check_run_data
from hengqi.server.db.models import Instrument
from hengqi.server.services.guided_runs import calibration_instrument
from hengqi.server.services.review import point_warnings
from hengqi.server.web.pages import mpe_function
from hengqi.server.web.results_view import error_table
from hengqi.server.web.runs import in_service_mpe

D = Decimal
TWO_RANGES = Path(__file__).resolve().parents[2] / "examples" / "calibration" / "two-range-scale-15kg.yaml"
WEIGHTS = [
    {"id": "W5", "class": "M1", "nominal": "5 kg", "quantity": 3},
    {"id": "W2", "class": "M1", "nominal": "2 kg"},
]


def _instrument(**changes: object) -> Instrument:
    fields: dict[str, object] = {
        "make": "Acme",
        "model": "PS 15",
        "serial": "R-1",
        "accuracy_class": "III",
        "kind": "multiple-range",
        "max_kg": D(15),
        "min_kg": D("0.04"),
        "e_kg": D("0.002"),
        "d_kg": D("0.002"),
        "ranges": [{"max_kg": "6", "e_kg": "0.002"}, {"max_kg": "15", "e_kg": "0.005"}],
    }
    return Instrument(**(fields | changes))


def test_a_registered_multiple_range_instrument_is_calibrated_range_by_range() -> None:
    item = calibration_instrument(_instrument())
    assert item["kind"] == "multiple-range"
    assert item["ranges"] == [{"max": "6 kg", "d": "2 g", "e": "2 g"}, {"max": "15 kg", "d": "5 g", "e": "5 g"}]
    parameters = normalise({"record": {"date": "2026-11-25", "instrument": item, "weights": WEIGHTS}})
    simulation = simulate(calibration_plan(parameters), VirtualBalance(D("0.005")).respond)
    points = simulation.product.record["points"]
    assert [(p["load"], p["range"]) for p in points] == [
        ("2 kg", 1),
        ("5 kg", 1),
        ("7 kg", 2),
        ("12 kg", 2),
        ("15 kg", 2),
    ]
    assert simulation.product.error is None


def test_a_single_interval_instrument_header_is_unchanged() -> None:
    item = calibration_instrument(_instrument(kind="single-interval", ranges=[{"max_kg": "15", "e_kg": "0.005"}]))
    assert "ranges" not in item
    assert "kind" not in item
    assert (item["max"], item["d"], item["e"]) == ("15 kg", "2 g", "2 g")


def test_the_plausibility_mpe_of_a_reading_is_that_of_its_range() -> None:
    """OIML R 76-1:2006 3.5.2 and Table 6, class III in service (2 x initial): 5 kg is 2500 e1 (1.5 e1 = 3 g,
    in service 6 g) in range 1 and 1000 e2 (1 e2 = 5 g, in service 10 g) in range 2."""
    instrument = _instrument()
    assert in_service_mpe(instrument, D(5)) == D("0.006")
    assert in_service_mpe(instrument, D(5), 2) == D("0.010")
    assert in_service_mpe(instrument, D(5), 1) == D("0.006")


def test_a_stored_run_whose_record_names_a_missing_range_is_refused_with_422(platform: Platform) -> None:
    org = platform.organisation("A")
    _, tech = platform.user("tech", "technician", org)
    body = {
        **INSTRUMENT,
        "kind": "multiple-range",
        "ranges": [{"max": "6 kg", "e": "2 g"}, {"max": "15 kg", "e": "5 g"}],
    }
    body.pop("max")
    body.pop("e")
    instrument = platform.client.post("/api/v1/instruments", json=body, headers=tech)
    assert instrument.status_code == 201, instrument.text
    record = yaml.safe_load(TWO_RANGES.read_text(encoding="utf-8"))
    record["date"] = str(record["date"])
    record["points"][5]["range"] = 3
    answer = platform.client.post(
        "/api/v1/runs",
        json={"instrument_id": instrument.json()["id"], "kind": "calibration", "raw_data": {"record": record}},
        headers=tech,
    )
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["details"]["path"] == "raw_data.record.points[5].range"
    assert "no range 3" in error["message"]
    record["points"][5]["range"] = 2
    good = platform.client.post(
        "/api/v1/runs",
        json={"instrument_id": instrument.json()["id"], "kind": "calibration", "raw_data": {"record": record}},
        headers=tech,
    )
    assert good.status_code == 201, good.text


def test_results_review_and_approval_judge_a_point_with_the_mpe_of_its_range() -> None:
    """The decreasing 5 kg point read in range 2: initial MPE 5 g (1000 e2, 1 e) instead of 3 g (2500 e1, 1.5 e),
    OIML R 76-1:2006 Table 6, class III."""
    limit_of = mpe_function(_instrument())
    assert limit_of(D(5)) == D("0.003")
    assert limit_of(D(5), 2) == D("0.005")
    point = {"load_kg": "5", "error_kg": "0.005", "U_kg": "0.0065", "k": 2.32}
    table = error_table({"points": [point, {**point, "range": 2}]}, D(15), D("0.002"), limit_of)
    assert [row.mpe for row in table.rows] == ["3", "5"]
    warned = point_warnings([(D(5), D("0.001"), 0.0015)] * 2, limit_of, [None, 2])
    assert [w.code for w in warned] == ["u_beyond_third_mpe"]  # U = 1.5 g > 3 g / 3 only in range 1
    _raw, results = check_run_data({}, {"points": [{**point, "range": 2}]})
    assert results["points"][0]["range"] == 2
    with pytest.raises(RecordError, match="range"):
        check_run_data({}, {"points": [{**point, "range": True}]})
