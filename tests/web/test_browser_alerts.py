"""In a real browser: a regulator works through the field alert queue of ``hengqi serve --demo`` (whose simulated
field has a remote resistor on a weighbridge, an opened case, cheat firmware and offline periods): filters the queue,
opens an alert with its weight curve, acknowledges it, orders an inspection and closes it as confirmed fraud, closes
another as a false alarm; then the same in Chinese; the measured precision follows.  Same server and Chromium as
``test_browser.py``."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from .browser_support import browser_fixtures
from .conftest import Served
from .test_browser import _shot, _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


_no_csp_violations, served, browser = browser_fixtures("browser-alerts")


def _open_first(page: Page, detector: str) -> None:
    """From the queue filtered to ``detector`` and new alerts, open the first one."""
    page.get_by_test_id("nav-alerts").click()
    page.select_option("[data-testid=filter-detector]", detector)
    page.select_option("[data-testid=filter-state]", "new")
    page.get_by_test_id("filter-apply").click()
    expect(page).to_have_url(re.compile(rf"detector={detector}"))
    rows = page.locator(f"[data-testid=alert-row][data-detector={detector}][data-state=new]")
    expect(rows.first).to_be_visible()
    rows.first.locator("a").first.click()
    expect(page.get_by_test_id("alert-summary")).to_be_visible()


def _close(page: Page, reason: str, note: str) -> None:
    page.select_option("[data-testid=close-reason]", reason)
    page.fill("[data-testid=close-note]", note)
    page.get_by_test_id("close").click()
    expect(page.get_by_test_id("alert-workflow")).to_have_count(0)


def test_regulator_closes_fraud_and_false_alarm_in_english_and_chinese(browser: Browser, served: Served) -> None:
    page = _sign_in(browser, served, "regulator")
    # English: the remote resistor on the weighbridge, with its weight curve; acknowledged, inspected, confirmed
    _open_first(page, "weighbridge")
    expect(page.get_by_test_id("finding").first).to_contain_text("cell_step_without_partner")
    expect(page.get_by_test_id("evidence-plot").first.locator("svg polyline").first).to_be_attached()
    _shot(page, "alert-weighbridge")
    page.get_by_test_id("to-acknowledged").click()
    expect(page.get_by_test_id("alert-state")).to_have_text("acknowledged")
    page.get_by_test_id("to-inspection_ordered").click()
    expect(page.get_by_test_id("alert-state")).to_have_text("inspection ordered")
    expect(page.get_by_test_id("inspection-run")).to_contain_text("#")
    _close(page, "confirmed_fraud", "resistor found on cell 0")
    expect(page.get_by_test_id("alert-state")).to_have_text("closed: confirmed fraud")
    trail = page.get_by_test_id("alert-trail")
    for action in ("alert.open", "alert.acknowledged", "alert.inspect", "alert.closed"):
        expect(trail).to_contain_text(action)
    # an offline alert closed straight away as a false alarm
    _open_first(page, "availability")
    _close(page, "false_alarm", "planned network maintenance")
    expect(page.get_by_test_id("alert-state")).to_have_text("closed: false alarm")

    # 中文：封印告警确认作弊，另一条离线告警为误报
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("nav-alerts")).to_have_text("告警")
    _open_first(page, "seal")
    _close(page, "confirmed_fraud", "机壳被打开，无工单")
    expect(page.get_by_test_id("alert-state")).to_have_text("已关闭: 确认作弊")
    _open_first(page, "availability")
    _close(page, "false_alarm", "网络维护")
    expect(page.get_by_test_id("alert-state")).to_have_text("已关闭: 误报")

    # closed alerts measure each detector
    page.get_by_test_id("nav-alerts").click()
    expect(page.get_by_test_id("precision-weighbridge")).to_contain_text("100")
    expect(page.get_by_test_id("precision-seal")).to_contain_text("100")
    availability = page.get_by_test_id("precision-availability")
    expect(availability.locator("td").nth(3)).to_have_text("2")
    expect(availability.locator("td").nth(5)).to_have_text("0")
    _shot(page, "alert-queue-zh")
