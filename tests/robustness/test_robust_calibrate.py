"""Robustness of ``hengqi calibrate`` (calibration records, ``--plot``).

Defects found and fixed (regression tests below):
* ``eccentricity.load: 1e-400 g`` crashed with ``ZeroDivisionError`` (the mass became 0.0 as a float), and
  ``instrument.max: 1e400 g`` printed a numpy ``RuntimeWarning`` and blamed ``eccentricity``; masses outside
  1e-18 kg to 1e12 kg are now refused where they are written;
* the YAML reader defects of ``test_robust_verify`` (alias bomb, deep nesting, long integers) hit this
  command too;
* NaN and infinite temperatures or pressure were accepted and made ``--json`` print ``NaN`` (invalid JSON);
  temperatures below absolute zero were accepted;
* ``--plot`` wrote the PNG in place; it is now written through a temporary file (never half a PNG).
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hengqi.cli import cli

from .conftest import EXAMPLES, GARBAGE, Hengqi, billion_laughs

RECORD = EXAMPLES / "calibration" / "bench-balance-6kg.yaml"


def _record(tmp_path: Path, change: dict[tuple[str | int, ...], Any]) -> Path:
    data = yaml.safe_load(RECORD.read_text(encoding="utf-8"))
    for path, value in change.items():
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    file = tmp_path / "cal.yaml"
    file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return file


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_garbage_files_are_refused_with_one_line(hengqi: Hengqi, tmp_path: Path, name: str) -> None:
    bad = tmp_path / f"{name}.yaml"
    bad.write_bytes(GARBAGE[name])
    hengqi("calibrate", bad).refused()


def test_alias_bomb_is_refused(hengqi: Hengqi, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_bytes(billion_laughs(9))
    hengqi("calibrate", bomb).refused("alias bomb")


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        (("eccentricity", "load"), "1e-400 g", "eccentricity.load: out of range"),
        (("instrument", "max"), "1e400 g", "instrument.max: out of range"),
        (("points", 0, "indication"), "NaN g", "points[0].indication"),
        (("points", 0, "indication"), "5 KG", "unknown mass unit 'KG'"),
        (("date",), "2026-02-30", "date"),
        (("weights", 0, "class"), "Z9", "weights[0].class"),
        (("repeatability", 0, "readings"), "3 kg", "repeatability[0].readings"),
    ],
)
def test_wrong_values_name_the_field(hengqi: Hengqi, tmp_path: Path, path: tuple[Any, ...], value: Any,
                                     needle: str) -> None:  # fmt: skip
    hengqi("calibrate", _record(tmp_path, {path: value})).refused(needle)


def test_plot_into_a_missing_folder_or_a_folder_is_refused(hengqi: Hengqi, tmp_path: Path) -> None:
    hengqi("calibrate", RECORD, "--plot", tmp_path / "no" / "p.png").refused("--plot", "No such file")
    assert not (tmp_path / "no").exists()
    plot = tmp_path / "p.png"
    assert hengqi("calibrate", RECORD, "--plot", plot).rc == 0
    assert plot.read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.png"]  # no temporary file left behind


_MASS = st.one_of(
    st.sampled_from(["1e-18 kg", "1e12 kg", "0 g", "-0 g", "1e-15 g", "5 KG", "1e400 g", "NaN g", "", "x"]),
    st.builds(
        lambda n, u: f"{n} {u}",
        st.decimals(allow_nan=False, allow_infinity=False, places=6),
        st.sampled_from(["g", "kg", "mg", "t"]),
    ),
)
_PATHS = [
    ("instrument", "max"), ("instrument", "d"), ("instrument", "e"), ("eccentricity", "load"),
    ("points", 0, "load"), ("points", 0, "indication"), ("repeatability", 0, "readings", 0),
    ("eccentricity", "positions", 0, "indication"), ("weights", 0, "nominal"),
]  # fmt: skip


@given(path=st.sampled_from(_PATHS), value=_MASS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_calibrate_never_crashes_on_any_mass_anywhere(tmp_path: Path, path: tuple[Any, ...], value: str) -> None:
    record = _record(tmp_path, {path: value})
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning is a crash waiting to happen
        rc = cli(["calibrate", str(record), "--json"])
    assert rc in (0, 2), err.getvalue()
    if rc == 2:
        assert len(err.getvalue().strip().splitlines()) == 1
    else:
        json.loads(out.getvalue(), parse_constant=_no_constant)  # valid JSON: no NaN, no Infinity


def _no_constant(name: str) -> None:
    raise AssertionError(f"the JSON document holds {name}")


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("temperature_start", float("nan"), "finite number"),
        ("temperature_end", float("inf"), "finite number"),
        ("pressure", float("inf"), "finite number"),
        ("temperature_start", -300.0, "-273.15"),
    ],
)
def test_environment_refuses_nan_infinity_and_below_absolute_zero(
    hengqi: Hengqi, tmp_path: Path, key: str, value: float, needle: str
) -> None:
    # before the fix NaN and infinity were accepted and the --json report held NaN (not JSON at all)
    hengqi("calibrate", _record(tmp_path, {("environment", key): value}), "--json").refused(
        f"environment.{key}", needle
    )
