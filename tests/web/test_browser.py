"""In a real browser: a technician calibrates a simulated balance, a reviewer approves, the certificate validates.

``hengqi serve --demo`` runs in a child process on a loopback port with a fresh data directory; Debian's
Chromium (``/usr/bin/chromium``, installed by ``scripts/ensure-system-packages.sh``) is driven headless by
Playwright (never ``playwright install``: the machine has no network).  Screenshots of the main screens are saved
under ``test-artifacts/web/``; with ``HENGQI_UPDATE_SCREENSHOTS=1`` those of the dashboard, the guided run and
the results are also copied to ``docs/screenshots/``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from hengqi.certificates.schema import validate_dcc

from .conftest import ROOT, Served, schema_dir, start_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "web"
DOC_SHOTS = ROOT / "docs" / "screenshots"
TABLET = {"width": 1180, "height": 820}
#: What the browser reported as blocked by the Content-Security-Policy (the pages must need nothing it forbids).
CSP_VIOLATIONS: list[str] = []


@pytest.fixture(autouse=True)
def _no_csp_violations() -> Iterator[None]:
    CSP_VIOLATIONS.clear()
    yield
    assert CSP_VIOLATIONS == []


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``hengqi serve --demo`` on a free loopback port, with the demo passwords it printed."""
    server = start_server(tmp_path_factory.mktemp("browser") / "data")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def _shot(page: Page, name: str, *, doc: bool = False) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if doc and os.environ.get("HENGQI_UPDATE_SCREENSHOTS") == "1":
        DOC_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOC_SHOTS / f"{name}.png")


def _sign_in(browser: Browser, served: Served, role: str) -> Page:
    context = browser.new_context(viewport=TABLET, accept_downloads=True, locale="en-GB")
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.on(
        "console",
        lambda message: CSP_VIOLATIONS.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(f"{served.base}/web/")
    expect(page).to_have_url(re.compile(r"/web/login"))
    page.fill("input[name=username]", f"demo-{role}")
    page.fill("input[name=password]", served.passwords[role])
    page.click("button[type=submit]")
    expect(page.get_by_test_id("user")).to_contain_text(f"Demo {role}")
    return page


def test_calibration_in_the_browser_from_sign_in_to_a_valid_certificate(
    browser: Browser, served: Served, tmp_path: Path
) -> None:
    technician = _sign_in(browser, served, "technician")
    expect(technician.get_by_test_id("due")).to_be_visible()
    _shot(technician, "dashboard", doc=True)

    technician.click("text=Instruments")
    technician.fill("input[name=q]", "Analytical")
    technician.click("button:has-text('Filter')")
    technician.click("text=Hengqi Sim Analytical balance AB 220")
    expect(technician.get_by_test_id("live")).to_have_attribute("data-state", "stable")
    _shot(technician, "instrument")
    technician.get_by_test_id("start-run").click()
    expect(technician.get_by_test_id("step")).to_be_visible()
    run_url = technician.url

    shot_taken = False
    for _ in range(200):
        step = technician.get_by_test_id("step")
        kind = step.get_attribute("data-step-kind")
        if kind == "end":
            break
        rows = technician.get_by_test_id("live-results").locator("tbody tr").count()
        if not shot_taken and kind == "place" and rows >= 2:
            expect(technician.get_by_test_id("live")).to_have_attribute("data-state", re.compile("stable|unstable"))
            _shot(technician, "guided-run", doc=True)
            shot_taken = True
        if kind == "conditions":  # typed in at the start and the end of the run
            technician.get_by_test_id("temperature").fill("20.3")
            technician.get_by_test_id("pressure").fill("1008.2")
            technician.get_by_test_id("humidity").fill("45")
        before = technician.get_by_test_id("progress").inner_text()
        technician.get_by_test_id("do-step").click()
        expect(technician.get_by_test_id("progress").or_(technician.get_by_test_id("error-curve"))).not_to_have_text(
            before
        )
        if "/results" in technician.url:
            break
    else:
        pytest.fail("the run did not end")
    assert shot_taken
    technician.goto(f"{run_url}/results")
    expect(technician.get_by_test_id("error-curve")).to_be_visible()
    expect(technician.get_by_test_id("certificate-status")).to_have_text("draft")
    expect(technician.get_by_test_id("approve")).to_have_count(0)  # four eyes: not offered to a technician

    reviewer = _sign_in(browser, served, "reviewer")
    reviewer.goto(f"{run_url}/results")
    reviewer.get_by_test_id("approve").click()  # the confirmation page: what is signed, every warning
    reviewer.get_by_test_id("have-read").check()
    reviewer.get_by_test_id("sign").click()
    expect(reviewer.get_by_test_id("notice")).to_have_attribute("data-notice", "approved")
    expect(reviewer.get_by_test_id("certificate-status")).to_have_text("issued")
    # the class I balance with the conditions entered: U below the MPE at every load (the buoyancy term from the
    # measured air density, not the worst case); the screenshot in docs/ shows this very table
    points = reviewer.get_by_test_id("point")
    assert points.count() >= 5
    for index in range(points.count()):
        row = points.nth(index)
        u, limit = Decimal(row.get_attribute("data-u") or "NaN"), Decimal(row.get_attribute("data-mpe") or "NaN")
        assert u < limit, (row.get_attribute("data-load"), u, limit)
    _shot(reviewer, "results", doc=True)

    with reviewer.expect_download() as pdf_download:
        reviewer.get_by_test_id("download-pdf").click()
    pdf = tmp_path / "certificate.pdf"
    pdf_download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    with reviewer.expect_download() as dcc_download:
        reviewer.get_by_test_id("download-dcc").click()
    dcc = tmp_path / "certificate.dcc.xml"
    dcc_download.value.save_as(dcc)
    report = validate_dcc(dcc, schema_dir())
    assert report.valid, report.issues

    reviewer.get_by_test_id("lang-switch").click()
    expect(reviewer.locator("h1")).to_contain_text("结果")
    _shot(reviewer, "results-zh")


def test_a_tablet_in_portrait_shows_the_run_screen_without_sideways_scrolling(browser: Browser, served: Served) -> None:
    page = _sign_in(browser, served, "quality-manager")
    page.set_viewport_size({"width": 768, "height": 1024})
    page.goto(f"{served.base}/web/instruments?q=Retail")
    page.click("text=Hengqi Sim Retail scale RS 15")
    page.get_by_test_id("start-run").click()
    expect(page.get_by_test_id("do-step")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 768
    second_window = page.context.new_page()  # the same run open in a second window, on the same step
    second_window.goto(page.url)
    page.get_by_test_id("do-step").click()  # the opening instruction
    expect(page.get_by_test_id("step")).to_have_attribute("data-step-kind", "conditions")
    second_window.get_by_test_id("do-step").click()  # late: that step is done already
    expect(second_window.get_by_test_id("notice")).to_have_attribute("data-notice", "already")
    expect(second_window.get_by_test_id("step")).to_have_attribute("data-step-kind", "conditions")
    _shot(page, "run-portrait")
