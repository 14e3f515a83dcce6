"""The formats of a run's stored documents (``run-raw-data``, ``run-results``): what they keep and what they refuse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hengqi.errors import RecordError
from hengqi.records.run_data import MAX_DEPTH, MAX_NODES, check_json_value, check_run_data
from hengqi.records.schemas import record_kinds, schema_text

ROOT = Path(__file__).resolve().parents[2]
POINT = {"load_kg": "10", "error_kg": "-0.0002", "U_kg": "1.2e-05", "k": 2.0}


@pytest.mark.parametrize("kind", ["run-raw-data", "run-results"])
def test_committed_schemas_equal_generated(kind: str) -> None:
    assert kind in record_kinds()
    assert (ROOT / f"docs/schemas/{kind}.schema.json").read_text(encoding="utf-8") == schema_text(kind)
    assert json.loads(schema_text(kind))["additionalProperties"] is False


def test_documents_are_kept_as_written_with_numbers_as_exact_text() -> None:
    raw, results = check_run_data(
        {"stage": "initial", "loads": [{"load": "2 kg", "indication": 2.001}], "notes": "ok"},
        {"points": [POINT, {**POINT, "load_kg": 20, "U_kg": 0.000125}], "passed": None},
    )
    assert raw == {"stage": "initial", "loads": [{"load": "2 kg", "indication": 2.001}], "notes": "ok"}
    assert results["points"][1] == {"load_kg": "20", "error_kg": "-0.0002", "U_kg": "0.000125", "k": 2.0}
    assert results["passed"] is None


@pytest.mark.parametrize(
    ("raw", "results", "path"),
    [
        ({}, {"points": [{**POINT, "load_kg": "abc"}]}, "results.points[0].load_kg"),
        ({}, {"points": [{**POINT, "load_kg": float("nan")}]}, "results.points[0].load_kg"),
        ({}, {"points": [{**POINT, "error_kg": float("inf")}]}, "results.points[0].error_kg"),
        ({}, {"points": [{**POINT, "U_kg": "1e400"}]}, "results.points[0].U_kg"),
        ({}, {"points": [{**POINT, "k": float("-inf")}]}, "results.points[0].k"),
        ({}, {"points": [{"load_kg": "1", "error_kg": "0"}]}, "results.points[0].U_kg"),
        ({}, {"values": {"t": float("nan")}}, "results.values.t"),
        ({}, {"loads": []}, "results.loads"),
        ({"loads": [{"indication": "1 kg"}]}, {}, "raw_data.loads[0].load"),
        ({"record": {"format": "hengqi.verification-record", "version": 1}}, {}, "raw_data.record."),
        ([], {}, "raw_data"),
    ],
)
def test_what_would_break_a_reader_is_refused_naming_the_field(raw: Any, results: Any, path: str) -> None:
    with pytest.raises(RecordError) as caught:
        check_run_data(raw, results)
    assert caught.value.path.startswith(path), caught.value


def test_a_record_that_could_not_be_evaluated_is_kept_as_measured() -> None:
    partial = {"format": "hengqi.calibration-record", "version": 1, "points": [{"load": "10 kg"}]}
    with pytest.raises(RecordError):
        check_run_data({"record": partial}, {})
    raw, results = check_run_data({"record": partial}, {"error": "points[0]: no indication"})
    assert raw["record"] == partial
    assert results == {"error": "points[0]: no indication"}


def test_json_limits_are_checked_without_recursion() -> None:
    deep: Any = "leaf"
    for _ in range(100_000):  # far beyond Python's recursion limit
        deep = [deep]
    with pytest.raises(RecordError, match=f"nested deeper than {MAX_DEPTH} levels"):
        check_json_value(deep, "results")
    with pytest.raises(RecordError, match=f"more than {MAX_NODES} values"):
        check_json_value({"values": list(range(MAX_NODES + 1))}, "results")
    with pytest.raises(RecordError, match="not a JSON value"):
        check_json_value({"x": {1, 2}}, "results")
    check_json_value({"a": [1, 2.5, "x", None, True]}, "results")
