"""Fixtures for the certificate tests: PTB's XSDs beside the checkout, the example records, test keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from hengqi.certificates.signing import KeyFiles, make_test_keys

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT.parent / "shared" / "dcc" / "xsd"
SHARED_EXAMPLES = ROOT.parent / "shared" / "dcc" / "examples"
CALIBRATION_RECORDS = sorted((ROOT / "examples" / "calibration").glob("*.yaml"))
ADMIN_YAML = ROOT / "examples" / "certificates" / "ADMIN.yaml"


@pytest.fixture(scope="session")
def schema_dir() -> Path:
    assert (SCHEMA_DIR / "dcc-3.3.0" / "dcc.xsd").is_file(), f"PTB XSDs expected in {SCHEMA_DIR}"
    return SCHEMA_DIR


@pytest.fixture(scope="session")
def test_keys(tmp_path_factory: pytest.TempPathFactory) -> KeyFiles:
    return make_test_keys(tmp_path_factory.mktemp("keys") / "lab", cn="Li Wei", org="Hengqi Mass Laboratory")


@pytest.fixture(scope="session")
def other_keys(tmp_path_factory: pytest.TempPathFactory) -> KeyFiles:
    return make_test_keys(tmp_path_factory.mktemp("keys") / "other", cn="Mallory", org="Elsewhere")
