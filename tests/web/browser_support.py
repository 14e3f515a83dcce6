"""The fixtures of a browser test file with a demo server of its own: no Content-Security-Policy violation in any
test, one ``hengqi serve --demo`` and one headless Chromium per test module.  Same server and Chromium as
``test_browser.py``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright

from .conftest import Served, start_server
from .test_browser import CHROMIUM, CHROMIUM_ARGS, CSP_VIOLATIONS


def browser_fixtures(
    name: str, *, settling_s: float | None = None
) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """``(_no_csp_violations, served, browser)`` for a module; ``name`` names the server's data folder, and
    ``settling_s`` the settling time of its demo simulators (:func:`~tests.web.conftest.start_server`)."""

    @pytest.fixture(autouse=True, name="_no_csp_violations")
    def no_csp_violations() -> Iterator[None]:
        CSP_VIOLATIONS.clear()
        yield
        assert CSP_VIOLATIONS == []

    @pytest.fixture(scope="module", name="served")
    def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
        server = start_server(tmp_path_factory.mktemp(name) / "data", settling_s=settling_s)
        try:
            yield server
        finally:
            server.stop()

    @pytest.fixture(scope="module", name="browser")
    def browser() -> Iterator[Browser]:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield chromium
            chromium.close()

    return no_csp_violations, served, browser
