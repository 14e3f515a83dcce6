"""The verification record format: reading, errors naming field paths, evaluation, schema, examples.

Worked cases reproduced through the whole chain (record -> InstrumentSpecification -> MPE of OIML R 76-1:2006
Table 6 from :mod:`hengqi.metrology.mpe` -> R 76 evaluation), exactly (Decimal): the DERIVED cases table of
``standards.md`` 1.4 (class III, e = d = 5 g).
"""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hengqi.errors import InputError, RecordError, SpecificationError
from hengqi.metrology.r76 import Check, Verdict
from hengqi.records.schemas import record_kinds, record_model, schema_text
from hengqi.records.verification import (
    evaluate,
    instrument_specification,
    load_verification_record,
    parse_verification_record,
    result_document,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "verification").glob("*.yaml"))
D = Decimal

BASE: dict[str, Any] = {
    "format": "hengqi.verification-record",
    "version": 1,
    "instrument": {
        "id": "S-1",
        "specification": {"class": "III", "max": "15 kg", "e": "5 g", "supports": 1},
    },
    "operator": "A. Inspector",
    "date": "2026-11-25",
    "tests": {
        "weighing": {
            "points": [
                {"load": "100 g", "indication": "100 g"},
                {"load": "1 kg", "indication": "1.000 kg"},
                {"load": "5 kg", "indication": "5.000 kg"},
            ]
        }
    },
}


def record(**changes: Any) -> dict[str, Any]:
    """A copy of BASE with dotted-path changes (``{"tests.weighing.points[2].indication": "5 kgs"}``)."""
    data = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        *parents, last = re.findall(r"[^.\[\]]+", dotted.replace("__", "."))
        node: Any = data
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        if last.isdigit():
            node[int(last)] = value
        elif value is None:
            del node[last]
        else:
            node[last] = value
    return data


# -- examples ------------------------------------------------------------------------------------------------------
def test_there_are_four_examples() -> None:
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_verdict_is_the_one_stated(path: Path) -> None:
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    stated = re.fullmatch(r"# Expected verdict: (PASS|FAIL)\b.*", first_line)
    assert stated is not None, "the first line states the expected verdict"
    data = load_verification_record(path)
    assert data.expected_verdict == stated.group(1).lower()
    assert evaluate(data).verdict.value == data.expected_verdict


def test_failing_example_fails_for_the_stated_reason() -> None:
    data = load_verification_record(ROOT / "examples/verification/balance-class-ii-eccentricity-fail.yaml")
    result = evaluate(data)
    assert [(f.test, f.point.label) for f in result.failing_points] == [("eccentricity", "front-right")]
    point = result.failing_points[0].point
    assert (point.load_kg, point.error_kg, point.mpe_kg) == (D("2.050"), D("0.00021"), D("0.00015"))
    assert "A.4.7" in point.rule
    # in service the MPE doubles (R 76-1 3.5.2) and the same readings pass
    assert evaluate(data, stage="in-service").verdict is Verdict.PASS


def test_truck_scale_eccentricity_load_rounded_down_within_ts007() -> None:
    data = load_verification_record(ROOT / "examples/verification/truck-scale-class-iii-pass.yaml")
    ecc = evaluate(data).test("eccentricity")
    load_check = ecc.points[0]
    assert load_check.check is Check.TEST_LOAD
    assert load_check.limit_kg == D(60000) / 7 - 400  # 20 e = 400 kg allowance
    assert len(ecc.points) == 9


def test_certificate_correction_is_applied_to_the_reference_value() -> None:
    data = load_verification_record(ROOT / "examples/verification/balance-class-ii-eccentricity-fail.yaml")
    weighing = evaluate(data).test("weighing")
    five_kg = weighing.points[5]
    # I = 5000.08 g; E2 5 kg by certificate, conventional mass 5 kg + 3.2 mg -> E = 0.0768 g
    assert five_kg.error_kg == D("0.0000768")


# -- DERIVED cases through the whole chain --------------------------------------------------------------------------
# L, I, dL, E (g), MPE (g), verdict: standards.md 1.4 DERIVED cases, class III e = d = 5 g
DERIVED_CASES = [
    ("5000 g", "5005 g", "0.5 g", "7.0", "5", Verdict.FAIL),
    ("1000 g", "1005 g", "5 g", "2.5", "2.5", Verdict.PASS),
]


@pytest.mark.parametrize("row", DERIVED_CASES)
def test_derived_cases_with_real_mpe(row: tuple[str, str, str, str, str, Verdict]) -> None:
    load, indication, change_point, error_g, mpe_g, verdict = row
    point = {"load": load, "indication": indication, "change_point": change_point}
    result = evaluate(parse_verification_record(record(tests={"weighing": {"points": [point]}})))
    (checked,) = result.test("weighing").points
    assert checked.error_kg == D(error_g) / 1000
    assert checked.mpe_kg == D(mpe_g) / 1000
    assert checked.verdict is verdict


def test_worked_example_with_zero_error() -> None:
    # L = I = 1 000 g, dL = 1.5 g; E0 = +0.5 g from a zero reading at 10 e (I = L = 50 g, dL = 2 g): Ec = 0.5 g
    weighing = {
        "zero": {"load": "50 g", "indication": "50 g", "change_point": "2 g"},
        "points": [{"load": "1000 g", "indication": "1000 g", "change_point": "1.5 g"}],
    }
    result = evaluate(parse_verification_record(record(tests={"weighing": weighing})))
    (point,) = result.test("weighing").points
    assert (point.error_kg, point.corrected_error_kg, point.mpe_kg) == (D("0.0010"), D("0.0005"), D("0.0025"))


def test_rules_and_stage_overrides() -> None:
    data = parse_verification_record(record())
    point = evaluate(data, stage="in-service").test("weighing").points[2]
    assert point.mpe_kg == D("0.010")  # 1 000 e, class III: 1 e initial, 2 e in service
    assert "3.5.2" in point.rule
    jjg = evaluate(data, rules="jjg539").test("weighing").points[2]
    assert jjg.mpe_kg == D("0.005")
    assert "JJG 539" in jjg.rule


# -- errors name the field path -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "path", "reason"),
    [
        (
            {"tests.weighing.points[2].indication": "5 kgs"},
            "tests.weighing.points[2].indication",
            "unknown mass unit 'kgs'",
        ),
        ({"tests.weighing.points[1].load": "-1 kg"}, "tests.weighing.points[1].load", "must not be negative"),
        ({"tests.weighing.points[0].load": "heavy"}, "tests.weighing.points[0].load", "expected a mass"),
        ({"tests.weighing.points[0].load": 100}, "tests.weighing.points[0].load", "a mass needs a unit"),
        ({"operator": None}, "operator", "required field is missing"),
        ({"instrument.specification.maxx": "15 kg"}, "instrument.specification.maxx", "unknown field"),
        ({"instrument.specification.class": "V"}, "instrument.specification.class", "'I', 'II', 'III' or 'IIII'"),
        ({"stage": "yearly"}, "stage", "unknown stage 'yearly'"),
        ({"rules": "hb44"}, "rules", "unknown rule set 'hb44'"),
        ({"format": "something-else"}, "format", "hengqi.verification-record"),
        ({"version": 2}, "version", "unsupported version 2"),
        ({"tests": {}}, "tests", "no test recorded"),
        ({"date": "yesterday"}, "date", "date"),
        ({"instrument.specification.max": "0 kg"}, "instrument.specification.max", "greater than zero"),
    ],
)
def test_record_errors_name_the_field(changes: dict[str, Any], path: str, reason: str) -> None:
    with pytest.raises(RecordError) as caught:
        parse_verification_record(record(**changes))
    assert caught.value.path == path
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("changes", "path", "reason"),
    [
        ({"instrument.specification.max": "100 kg"}, "instrument.specification.max", "exceeds 10000 for class III"),
        ({"instrument.specification.e": "3 g"}, "instrument.specification.e", "not 1, 2 or 5 x 10^k"),
        ({"tests.weighing.points[2].load": "16 kg"}, "tests.weighing.points[2].load", "above Max + 9 e"),
        (
            {"tests.weighing.points[2].change_point": "6 g"},
            "tests.weighing.points[2].change_point",
            "at most one scale interval",
        ),
        (
            {"tests.weighing.points[2].weights": ["W5"]},
            "tests.weighing.points[2].weights[0]",
            "unknown reference weight 'W5'",
        ),
        (
            {"reference_weights": [{"id": "W2", "class": "M1", "nominal": "2 kg"}],
             "tests.weighing.points[2].weights": ["W2"]},
            "tests.weighing.points[2].weights",
            "add up to 2 kg, not the load 5 kg",
        ),
        (
            {"reference_weights": [{"id": "W3", "class": "M1", "nominal": "3 kg"}]},
            "reference_weights[0].nominal",
            "not a nominal value",
        ),
        (
            {"tests": {"eccentricity": {"load": "5 kg", "points": [{"position": "centre", "indication": "5 kg"}]}},
             "instrument.specification.supports": None},
            "instrument.specification.supports",
            "number of supports",
        ),
        (
            {"tests": {"discrimination": {"points": [
                {"load": "1 kg", "indication": "1 kg", "indication_after": "1.005 kg", "extra_load": "5 g"}]}}},
            "tests.discrimination.points[0].extra_load",
            "1.4 d = 7 g",
        ),
    ],
)  # fmt: skip
def test_inconsistent_records_name_the_field(changes: dict[str, Any], path: str, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        evaluate(parse_verification_record(record(**changes)))
    assert caught.value.path == path
    assert reason in caught.value.reason


def test_specification_error_keeps_its_rule() -> None:
    with pytest.raises(SpecificationError) as caught:
        instrument_specification(
            parse_verification_record(record(**{"instrument.specification.max": "1 kg"})).instrument.specification
        )
    assert caught.value.path == "instrument.specification.max"
    assert "Table 3" in caught.value.rule


def test_malformed_yaml_names_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "format: hengqi.verification-record\nversion: 1\ninstrument: {id: x\noperator: me\n", encoding="utf-8"
    )
    with pytest.raises(RecordError, match=r"bad\.yaml: line \d+, column \d+: "):
        load_verification_record(bad)


def test_duplicate_key_is_refused(tmp_path: Path) -> None:
    dup = tmp_path / "dup.yaml"
    dup.write_text("format: a\nversion: 1\nversion: 2\n", encoding="utf-8")
    with pytest.raises(RecordError, match=r"line 3, column 1: duplicate key 'version' \(first at line 2\)"):
        load_verification_record(dup)


@pytest.mark.parametrize(("text", "reason"), [("", "got empty"), ("- a\n- b\n", "got a list")])
def test_not_a_mapping(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RecordError, match=reason):
        load_verification_record(path)


def test_missing_file() -> None:
    with pytest.raises(RecordError, match="no such file"):
        load_verification_record("/nonexistent/record.yaml")


# -- JSON result and schema -----------------------------------------------------------------------------------------
def test_result_document_contract() -> None:
    data = load_verification_record(ROOT / "examples/verification/balance-class-ii-eccentricity-fail.yaml")
    spec = instrument_specification(data.instrument.specification)
    result = evaluate(data)
    doc = json.loads(json.dumps(result_document(data, spec, result, rules="oiml-r76", stage=data.stage)))
    assert doc["verdict"] == "fail"
    assert (doc["rules"], doc["stage"]) == ("oiml-r76", "subsequent")
    assert doc["instrument"]["max_kg"] == 6.2
    assert doc["instrument"]["class"] == "II"
    assert [t["name"] for t in doc["tests"]][:2] == ["weighing", "eccentricity"]
    ecc = doc["tests"][1]
    assert ecc["verdict"] == "fail"
    front_right = next(p for p in ecc["points"] if p["label"] == "front-right")
    assert (front_right["load_kg"], front_right["error_kg"], front_right["mpe_kg"]) == (2.05, 0.00021, 0.00015)
    assert doc["failing_points"][0]["test"] == "eccentricity"


def test_committed_schema_equals_generated() -> None:
    committed = (ROOT / "docs/schemas/verification-record.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text("verification-record")


def test_schema_registry() -> None:
    assert "verification-record" in record_kinds()
    assert record_model("verification-record").__name__ == "VerificationRecord"
    with pytest.raises(InputError, match="unknown record kind 'nope'"):
        record_model("nope")
    schema = json.loads(schema_text("verification-record"))
    assert schema["properties"]["format"]["const"] == "hengqi.verification-record"
    mass = schema["$defs"]["WeighingPointModel"]["properties"]["load"]
    assert mass["type"] == "string"


# -- bad input never crashes ------------------------------------------------------------------------------------
FIELDS = [
    "instrument.specification.class",
    "instrument.specification.max",
    "instrument.specification.e",
    "instrument.specification.d",
    "instrument.specification.min",
    "instrument.specification.kind",
    "instrument.specification.ranges",
    "instrument.specification.supports",
    "tests.weighing.points[0].load",
    "tests.weighing.points[1].indication",
    "tests.weighing.points[2].change_point",
    "tests.weighing.points[2].direction",
    "tests.weighing.points[2].weights",
    "tests.weighing.zero",
    "tests.weighing.points",
    "reference_weights",
    "stage",
    "rules",
    "date",
    "version",
    "tests",
]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["5 kg", "-5 g", "0 g", "1e400 kg", "nan kg", "5 kgs", "III", "multi-interval", "", "⚖", "7"]),
    st.lists(st.sampled_from(["W1", "5 g", 3]), max_size=3),
    st.fixed_dictionaries({"max": st.sampled_from(["6 kg", "x"]), "e": st.sampled_from(["2 g", "0 g"])}).map(
        lambda item: [item]
    ),
    st.fixed_dictionaries({"load": st.sampled_from(["0 g", "50 g"]), "change_point": st.sampled_from(["2 g", "9 g"])}),
)


@settings(max_examples=300, deadline=None)
@given(changes=st.dictionaries(st.sampled_from(FIELDS), VALUES, min_size=1, max_size=4))
def test_any_bad_record_is_an_input_error_never_a_crash(changes: dict[str, Any]) -> None:
    try:
        data = record(**{key: value for key, value in changes.items() if value is not None})
    except (KeyError, IndexError, TypeError):  # a change addressing into a replaced value: nothing to test
        return
    outcome = ""
    try:
        outcome = evaluate(parse_verification_record(data)).verdict.value
    except InputError as err:  # the only exception allowed: one line, naming what is wrong
        outcome = str(err)
    assert outcome
    assert "\n" not in outcome
