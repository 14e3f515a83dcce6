"""The calibration record (``hengqi.calibration-record`` v1): examples, conversion, and bad input naming fields."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hengqi.errors import RecordError
from hengqi.metrology.calibration import MinimumWeightMethod
from hengqi.records.calibration import calibrate, load_calibration_record, parse_calibration_record
from hengqi.records.schemas import json_schema, record_kinds, schema_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "calibration"

BASE: dict[str, Any] = {
    "format": "hengqi.calibration-record",
    "version": 1,
    "date": "2026-11-25",
    "instrument": {"id": "B-1", "max": "220 g", "d": "0.1 mg"},
    "weights": [
        {"id": "W100", "class": "E2", "nominal": "100 g"},
        {"id": "W200", "class": "E2", "nominal": "200 g"},
    ],
    "repeatability": [{"load": "100 g", "readings": ["100.0001 g", "100.0002 g", "100.0001 g", "100.0001 g"]}],
    "eccentricity": {
        "load": "100 g",
        "positions": [
            {"position": "centre", "indication": "100.0001 g"},
            {"position": "front", "indication": "100.0002 g"},
        ],
    },
    "points": [
        {"load": "100 g", "weights": ["W100"], "indication": "100.0002 g"},
        {"load": "200 g", "weights": ["W200"], "indication": "200.0003 g"},
    ],
}


def _with(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_DELETE = object()


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_examples_read_and_calibrate(path: Path) -> None:
    result = calibrate(load_calibration_record(path))
    assert result.points
    assert all(p.U_kg > p.u_kg > 0 for p in result.points)
    assert result.method == "EURAMET cg-18 v4.0 (11/2015)"
    assert result.uncertainty_in_use is not None
    assert result.minimum_weights


def test_three_examples_exist() -> None:
    names = {p.name for p in EXAMPLES.glob("*.yaml")}
    assert {"analytical-balance-220g.yaml", "bench-balance-6kg.yaml", "truck-scale-60t.yaml"} <= names


def test_analytical_balance_example_holds_the_h1_point() -> None:
    """The 100 g point uses the H1 data (SECONDARY): E = 0.7 mg, U about 1.80 mg (buoyancy unrounded)."""
    result = calibrate(load_calibration_record(EXAMPLES / "analytical-balance-220g.yaml"))
    point = next(p for p in result.points if p.load_kg == Decimal("0.1"))
    assert point.error_kg == Decimal("0.0000007")
    assert point.U_kg == pytest.approx(0.0018004e-3, rel=2e-4)
    # USP <41> assesses repeatability from at least 10 weighings; the example's series has 5: no USP minimum weight
    assert result.minimum_weight(MinimumWeightMethod.USP41) is None
    assert any("USP <41> minimum weight is not stated" in note and "has 5" in note for note in result.notes)


def test_truck_scale_substitution_builds_the_reference_mass() -> None:
    result = calibrate(load_calibration_record(EXAMPLES / "truck-scale-60t.yaml"))
    top = result.points[-1]
    assert top.load_kg == Decimal("60000")
    assert top.reference_mass_kg == Decimal("60000")  # 3 x 20 t + (+20 kg) + (-20 kg)
    assert top.contribution("substitution-repeatability") is not None
    forty = result.points[-2]
    assert forty.reference_mass_kg == Decimal("40020")
    assert forty.error_kg == Decimal("20")


def test_several_readings_and_no_load_readings_are_averaged() -> None:
    data = _with(("points", 0), {"load": "100 g", "weights": ["W100"], "indications": ["100.0002 g", "100.0004 g"],
                                 "no_load": ["0.0000 g", "0.0002 g"]})  # fmt: skip
    point = calibrate(parse_calibration_record(data)).points[0]
    assert point.indication_kg == Decimal("0.1000002")
    assert point.readings == 2


def test_schema_is_registered() -> None:
    assert "calibration-record" in record_kinds()
    assert json_schema("calibration-record")["title"] == "CalibrationRecord"


@pytest.mark.parametrize(
    ("path", "value", "field", "words"),
    [
        (("repeatability", 0, "readings"), ["100.0001 g"], "repeatability[0].readings", "at least 2 readings"),
        (("points", 0, "no_load"), ["0 g", "0 g", "0 g"], "points[0]", "3 readings for 1 indications"),
        (("points", 0, "weights"), ["W50"], "points[0].weights[0]", "unknown weight id 'W50'"),
        (("points", 0, "weights"), ["W100", 5], "points[0].weights", "item 1: a weight is an id"),
        (("points", 0, "no_load"), "zero", "points[0].no_load[0]", "expected a mass"),
        (("points", 0, "weights"), [{"id": "W100", "count": 2}], "points[0].weights[0]", "only 1 recorded"),
        (("points", 0, "indication"), "100.0002 kgs", "points[0].indication", "unknown mass unit"),
        (("points", 0, "indications"), ["100 g"], "points[0]", "either indication or indications"),
        (("points", 0, "indication"), _DELETE, "points[0]", "either indication or indications"),
        (("points",), [], "points", "at least 1"),
        (("points", 1, "load"), "300 g", "points[1].load", "exceeds Max"),
        (("eccentricity", "positions"), [{"position": "c", "indication": "1 g"}], "eccentricity.positions", "centre"),
        (("weights", 1, "id"), "W100", "weights[1].id", "used twice"),
        (("weights", 0, "class"), "E7", "weights[0].class", ""),
        (("instrument", "d"), "300 g", "instrument", "smaller than Max"),
        (("drift_factor",), 4, "drift_factor", ""),
        (("colour",), "blue", "colour", "unknown field"),
        (("version",), 2, "version", "unsupported version 2"),
        (("repeatability",), _DELETE, "repeatability", "required"),
        (("weights", 0, "density"), 7950.0, "weights[0].density", "together with u_density"),
        (("buoyancy",), {"method": "air-density"}, "buoyancy.air_density", "or temperature, pressure and humidity"),
        (("in_use",), {"error_curve": "quadratic"}, "in_use.error_curve", "at least 3"),
        (("minimum_weight",), {"tolerance": 1.5}, "minimum_weight.tolerance", ""),
    ],
)  # fmt: skip
def test_bad_input_names_the_field(path: tuple[Any, ...], value: Any, field: str, words: str) -> None:
    with pytest.raises(RecordError) as caught:
        calibrate(parse_calibration_record(_with(path, value)))
    assert caught.value.path == field, str(caught.value)
    assert words in caught.value.reason


@pytest.mark.parametrize("data", [None, [], "text", 3])
def test_not_a_mapping(data: Any) -> None:
    with pytest.raises(RecordError, match="mapping"):
        parse_calibration_record(data)


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="no such file"):
        load_calibration_record(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: [unclosed\n", encoding="utf-8")
    with pytest.raises(RecordError, match="line"):
        load_calibration_record(bad)


def test_committed_schema_equals_generated() -> None:
    committed = (EXAMPLES.parents[1] / "docs/schemas/calibration-record.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text("calibration-record")


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_examples_are_valid_against_the_published_schema(path: Path) -> None:
    """The committed JSON Schema accepts every example (jsonschema-rs, locked with schemathesis)."""
    import json

    import jsonschema_rs
    import yaml

    schema = json.loads(schema_text("calibration-record"))
    document = json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))
    jsonschema_rs.validator_for(schema).validate(document)
    bad = copy.deepcopy(document)
    bad["points"][0]["weights"] = [5]
    assert not jsonschema_rs.validator_for(schema).is_valid(bad)


def _conditions_record(**environment: object) -> dict[str, object]:
    return {
        "format": "hengqi.calibration-record",
        "version": 1,
        "date": "2026-12-07",
        "instrument": {"id": "B-1", "max": "220 g", "d": "0.1 mg"},
        "weights": [{"id": "W200", "class": "E2", "nominal": "200 g"}],
        "buoyancy": {"method": "auto"},
        "environment": environment,
        "repeatability": [{"load": "200 g", "readings": ["200.0001 g", "200.0002 g", "200.0001 g"]}],
        "points": [{"load": "200 g", "weights": ["W200"], "indication": "200.0002 g"}],
    }


def test_auto_buoyancy_uses_the_recorded_conditions() -> None:
    from hengqi.metrology.air_density import AirConditions, air_density

    full = {"temperature_start": 20.0, "pressure": 1010.0, "relative_humidity": 50.0}
    u = {"u_temperature": 0.1, "u_pressure": 0.3, "u_relative_humidity": 1.5}
    result = calibrate(parse_calibration_record(_conditions_record(**full, **u)))
    expected = air_density(
        AirConditions(
            20.0, 101000.0, relative_humidity=50.0, u_temperature_c=0.1, u_pressure_pa=30.0, u_relative_humidity=1.5
        )
    )
    assert result.environment.air_density_kg_m3 == expected.value_kg_m3
    assert result.environment.u_air_density_kg_m3 == expected.u_kg_m3
    measured = next(c for c in result.points[0].budget if c.name == "buoyancy")
    # the same record with the r111 method (or without conditions) falls back to the worst case
    worst = calibrate(parse_calibration_record({**_conditions_record(**full, **u), "buoyancy": {"method": "r111"}}))
    bare = calibrate(parse_calibration_record(_conditions_record()))
    for other in (worst, bare):
        fallback = next(c for c in other.points[0].budget if c.name == "buoyancy")
        assert fallback.u_kg > 10 * measured.u_kg
    # uncertainties of the instruments are needed to compute the air density
    with pytest.raises(RecordError) as caught:
        calibrate(parse_calibration_record(_conditions_record(**full)))
    assert caught.value.path == "environment.u_temperature"
    # an implausible condition is named, the record is not lost
    with pytest.raises(RecordError) as caught:
        calibrate(parse_calibration_record(_conditions_record(**{**full, "pressure": 101.0}, **u)))
    assert caught.value.path == "environment.pressure"


def test_air_density_method_needs_an_air_density_or_the_conditions() -> None:
    record = {**_conditions_record(), "buoyancy": {"method": "air-density"}}
    with pytest.raises(RecordError) as caught:
        parse_calibration_record(record)
    assert caught.value.path == "buoyancy.air_density"
    stated = {**_conditions_record(), "buoyancy": {"method": "air-density", "air_density": 1.19}}
    with pytest.raises(RecordError, match="u_air_density"):
        parse_calibration_record(stated)
