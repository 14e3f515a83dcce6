"""In a real browser: the demo truck scale (class III, Max 60 t, e = 20 kg) is verified with its 13.1 t weighbridge
test set, the loads above the set built by substitution (OIML R 76-1:2006 3.7.3 as cited, issue 11), and the
verification passes with its draft certificate.  Same server and Chromium as ``test_browser.py``."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from .browser_support import browser_fixtures
from .conftest import Served
from .test_browser import _shot, _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


_no_csp_violations, served, browser = browser_fixtures("browser-truck")


@pytest.mark.timeout(900)  # about 140 steps clicked, each a page load (the other browser tests click about 30)
def test_the_truck_scale_is_verified_by_substitution_in_the_browser(browser: Browser, served: Served) -> None:
    technician = _sign_in(browser, served, "technician")
    technician.click("text=Instruments")
    technician.fill("input[name=q]", "Truck")
    technician.click("button:has-text('Filter')")
    technician.click("text=Hengqi Sim Truck scale TS 60")
    technician.get_by_test_id("kind").select_option("verification")
    offered = technician.get_by_test_id("weight-set").locator("option", has_text="M1 test weights 10 kg - 1 t")
    expect(offered).to_contain_text("less than Max: substitution loads")
    technician.get_by_test_id("weight-set").select_option(offered.get_attribute("value"))
    technician.get_by_test_id("start-run").click()
    expect(technician.get_by_test_id("step")).to_be_visible()
    run_url = technician.url

    kinds: list[str] = []
    for _ in range(400):
        kind = technician.get_by_test_id("step").get_attribute("data-step-kind") or ""
        if kind == "end":
            break
        kinds.append(kind)
        if kind == "substitute" and kinds.count("substitute") == 1:
            expect(technician.get_by_test_id("step")).to_contain_text("substitute")
            _shot(technician, "truck-substitution")
        assert kind != "decide", technician.get_by_test_id("step").inner_text()  # nothing fails
        before = technician.get_by_test_id("progress").inner_text()
        technician.get_by_test_id("do-step").click()
        expect(technician.get_by_test_id("progress").or_(technician.get_by_test_id("verdict"))).not_to_have_text(before)
        if "/results" in technician.url:
            break
    else:
        pytest.fail("the run did not end")
    assert kinds.count("substitute") == 4  # 13.1, 26.2, 39.3, 52.4 t: established once, reused by later tests
    technician.goto(f"{run_url}/results")
    expect(technician.get_by_test_id("verdict")).to_have_attribute("data-verdict", "pass")
    groups = technician.get_by_test_id("test-group")
    for test in ("weighing", "eccentricity", "repeatability", "discrimination"):
        expect(groups.and_(technician.locator(f"[data-test={test}]"))).to_have_attribute("data-verdict", "pass")
    expect(technician.get_by_test_id("certificate-status")).to_have_text("draft")
    _shot(technician, "truck-verification-results")
