"""In a real browser: an administrator imports instruments from a CSV file with bad rows (named on the dry run),
imports the corrected file, finds an instrument with the list's filters and opens its label; in English and
Chinese.  Same server and Chromium as ``test_browser.py``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from .conftest import Served, start_server
from .test_browser import CHROMIUM, CHROMIUM_ARGS, CSP_VIOLATIONS, _shot, _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HEADER = "make,model,serial,accuracy_class,max,e,status,verification_due\n"


@pytest.fixture(autouse=True)
def _no_csp_violations() -> Iterator[None]:
    CSP_VIOLATIONS.clear()
    yield
    assert CSP_VIOLATIONS == []


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = start_server(tmp_path_factory.mktemp("browser-lab") / "data")
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


def test_admin_imports_instruments_and_prints_a_label(browser: Browser, served: Served, tmp_path: Path) -> None:
    rows = [f"Acme,B-30,PW-{n:04d},III,30,0.01,in-service,2027-06-30" for n in range(1000)]
    rows[10] = "Acme,B-30,PW-BAD-A,III,30,0.000001,in-service,"  # line 12: R 76-1 Table 3
    rows[500] = "Acme,B-30,PW-BAD-B,V,30,0.01,in-service,"  # line 502: no such class
    rows[900] = "Acme,B-30,PW-0001,III,30,0.01,in-service,"  # line 902: same as line 3
    bad = tmp_path / "instruments.csv"
    bad.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    admin = _sign_in(browser, served, "admin")
    admin.click("[data-testid=nav-manage]")
    admin.click("text=Import instruments")
    admin.set_input_files("input[name=file]", str(bad))
    admin.click("button:has-text('Dry run')")
    counts = admin.get_by_test_id("plan-counts")
    expect(counts).to_contain_text("create: 997")
    expect(counts).to_contain_text("refused: 3")
    table = admin.get_by_test_id("plan-table")
    expect(table.locator("tr", has_text="PW-BAD-A")).to_contain_text("R 76")
    expect(table.locator("tr", has_text="PW-BAD-B")).to_contain_text("accuracy_class")
    expect(table.locator("tr", has_text="line 3")).to_contain_text("902")
    expect(admin.get_by_test_id("commit-form")).to_have_count(0)
    _shot(admin, "import-dry-run")

    good = tmp_path / "fixed.csv"
    good.write_text(HEADER + "\n".join(r for i, r in enumerate(rows) if i not in (10, 500, 900)) + "\n")
    admin.set_input_files("input[name=file]", str(good))
    admin.click("button:has-text('Dry run')")
    expect(admin.get_by_test_id("plan-counts")).to_contain_text("refused: 0")
    admin.click("button:has-text('Import all rows')")
    expect(admin.get_by_test_id("imported")).to_contain_text("create: 997")

    admin.click("[data-testid=lab-nav] >> text=Instruments")
    admin.fill("input[name=q]", "PW-0042")
    admin.get_by_test_id("registry-filters").locator("button[type=submit]").click()
    expect(admin.get_by_test_id("record-count")).to_contain_text("1 records")
    _shot(admin, "registry-instruments")
    admin.click("text=Acme")
    expect(admin.locator("input[name=serial]")).to_have_value("PW-0042")
    expect(admin.get_by_test_id("history-table")).to_contain_text("demo-admin")
    label = admin.request.get(served.base + (admin.get_by_test_id("label").get_attribute("href") or ""))
    assert label.headers["content-type"] == "image/svg+xml"
    assert "PW-0042" in label.text()

    admin.click("[data-testid=lang-switch]")
    expect(admin.locator("h1")).to_contain_text("衡器")
    expect(admin.locator("button:has-text('保存更改')")).to_be_visible()
    assert re.search(r"/web/registry/instruments/\d+", admin.url)
