"""Shared test fixtures.

Paths to the shared reference material sit beside the checkout (``../shared``); tests that need the PTB XSDs
find them through :func:`shared_dir`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def shared_dir() -> Path:
    """The shared reference folder laid beside the checkout (``../shared``)."""
    return ROOT.parent / "shared"


@pytest.fixture
def examples_dir() -> Path:
    return EXAMPLES
