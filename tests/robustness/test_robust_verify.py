"""Robustness of ``hengqi verify`` and ``hengqi schema``, and of the YAML record reader under every record command.

Defects found and fixed (regression tests below):
* a YAML alias bomb ("billion laughs") was accepted by the reader and expanded later (``hengqi run`` was killed
  for memory); the reader now refuses documents whose aliases expand them beyond 100 000 values, and recursive
  aliases;
* deeply nested YAML (``[[[[...]]]]``) crashed with ``RecursionError``;
* an integer of 10 000 digits crashed with ``ValueError`` (Python's int conversion limit);
* a NUL or other control character printed a three-line PyYAML message (not one line);
* ``hengqi schema KIND -o missing/dir/file`` crashed with ``FileNotFoundError``; it now says so (exit 2) and
  writes through a temporary file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hengqi.errors import RecordError
from hengqi.records.loading import MAX_EXPANDED_NODES, parse_yaml_text
from hengqi.records.verification import load_verification_record, parse_verification_record

from .conftest import EXAMPLES, GARBAGE, Hengqi, billion_laughs

RECORD = EXAMPLES / "verification" / "retail-scale-class-iii-pass.yaml"


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_garbage_files_are_refused_with_one_line(hengqi: Hengqi, tmp_path: Path, name: str) -> None:
    bad = tmp_path / f"{name}.yaml"
    bad.write_bytes(GARBAGE[name])
    hengqi("verify", bad).refused()


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("deep-list", "nested too deeply"),
        ("deep-map", "nested too deeply"),
        ("long-int", "too long"),
        ("nul", "U+0000"),
        ("invalid-utf8", "not UTF-8"),
        ("duplicate-key", "duplicate key 'format'"),
        ("recursive-alias", "recursive alias"),
        ("python-tag", "could not determine a constructor"),
    ],
)
def test_reader_names_what_is_wrong_with_the_file(hengqi: Hengqi, tmp_path: Path, name: str, needle: str) -> None:
    bad = tmp_path / "r.yaml"
    bad.write_bytes(GARBAGE[name])
    hengqi("verify", bad).refused(str(bad), needle)


def test_alias_bomb_is_refused_before_it_expands(hengqi: Hengqi, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_bytes(billion_laughs(9))
    hengqi("verify", bomb).refused(str(bomb), "alias bomb")
    with pytest.raises(RecordError, match="alias"):
        parse_yaml_text(billion_laughs(6).decode())


def test_aliases_within_reason_and_large_plain_documents_are_read() -> None:
    assert parse_yaml_text("w: &w [1 kg, 2 kg]\na: *w\nb: *w\n") == {"w": ["1 kg", "2 kg"]} | {
        "a": ["1 kg", "2 kg"],
        "b": ["1 kg", "2 kg"],
    }
    many = "\n".join(f"- {i} g" for i in range(MAX_EXPANDED_NODES + 10))  # big, but nothing is multiplied
    assert len(parse_yaml_text(many)) == MAX_EXPANDED_NODES + 10


@pytest.mark.parametrize("where", ["missing", "folder"])
def test_missing_or_folder_record(hengqi: Hengqi, tmp_path: Path, where: str) -> None:
    path = tmp_path / "absent.yaml" if where == "missing" else tmp_path
    hengqi("verify", path).refused(str(path))


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"date": "2026-02-30"}, "date"),
        ({"stage": "final"}, "stage"),
        ({"rules": "oiml-r99"}, "rules"),
        ({"instrument": []}, "instrument"),
        ({"tests": "weighing"}, "tests"),
        ({"operator": "x" * 100_000, "date": None}, "date"),
        ({"environment": {"temperature_start": -300}}, "environment.temperature_start"),
    ],
)
def test_wrong_values_name_the_field(hengqi: Hengqi, tmp_path: Path, change: dict[str, Any], needle: str) -> None:
    data = yaml.safe_load(RECORD.read_text(encoding="utf-8"))
    data.update(change)
    bad = tmp_path / "r.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    hengqi("verify", bad).refused(needle)


def test_huge_mass_in_a_record_is_refused_naming_its_path(hengqi: Hengqi, tmp_path: Path) -> None:
    data = yaml.safe_load(RECORD.read_text(encoding="utf-8"))
    data["tests"]["weighing"]["points"][1]["indication"] = "1e400 g"
    bad = tmp_path / "r.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    hengqi("verify", bad).refused("tests.weighing.points[1].indication", "out of range")


def test_bad_option_values(hengqi: Hengqi) -> None:
    hengqi("verify", RECORD, "--rules", "x").refused("--rules")
    hengqi("verify", RECORD, "--stage", "x").refused("--stage")
    hengqi("schema", "bogus").refused("bogus")


def test_schema_output_into_a_missing_folder_is_refused(hengqi: Hengqi, tmp_path: Path) -> None:
    hengqi("schema", "verification-record", "-o", tmp_path / "no" / "x.json").refused("--output", "No such file")
    kept = tmp_path / "kept.json"
    kept.write_text("old", encoding="utf-8")
    assert hengqi("schema", "verification-record", "-o", kept).rc == 0
    assert kept.read_text(encoding="utf-8").startswith("{")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.json"]  # no temporary file left behind


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_yaml_reader_answers_any_text_with_data_or_a_record_error(text: str) -> None:
    try:
        parse_yaml_text(text, source="fuzz.yaml")
    except RecordError as err:
        refusal: RecordError | None = err
    else:
        refusal = None
    if refusal is not None:
        assert refusal.path == "fuzz.yaml"
        assert "\n" not in str(refusal)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@given(path=st.sampled_from(["instrument", "instrument.specification", "tests", "tests.weighing", "reference_weights",
                             "tests.eccentricity", "environment", "date"]), value=_JSON)  # fmt: skip
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_verification_record_refuses_any_wrong_value_with_a_record_error(path: str, value: object) -> None:
    data = yaml.safe_load(RECORD.read_text(encoding="utf-8"))
    *parents, last = path.split(".")
    target = data
    for key in parents:
        target = target[key]
    target[last] = value
    try:
        parse_verification_record(data)
    except RecordError as err:
        message = str(err)
    else:
        message = ""
    assert "\n" not in message


def test_example_still_reads(tmp_path: Path) -> None:
    assert load_verification_record(RECORD).instrument.id == "SHOP-0042"
