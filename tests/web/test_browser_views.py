"""In a real browser: a quality manager filters the instruments list, saves the filter and sort as a view shared
with the organisation, reloads the list, picks the view again; a technician of the organisation sees and opens the
shared view; the same in Chinese.  Same server and Chromium as ``test_browser.py``."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from .browser_support import browser_fixtures
from .conftest import Served
from .test_browser import _shot, _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


_no_csp_violations, served, browser = browser_fixtures("browser-views")


def _save_filtered_view(page: Page, served: Served, name: str, *, shared: bool) -> None:
    page.goto(f"{served.base}/web/registry/instruments")
    filters = page.get_by_test_id("registry-filters")
    filters.locator("select[name=accuracy_class]").select_option("I")
    filters.locator("select[name=sort]").select_option("-max_kg")
    filters.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"accuracy_class=I(&|$)"))
    page.get_by_test_id("view-name").fill(name)
    if shared:
        page.get_by_test_id("view-shared").check()
    page.get_by_test_id("save-view").click()
    expect(page).to_have_url(re.compile(r"view=\d+"))


def _pick(page: Page, served: Served, name: str) -> None:
    page.goto(f"{served.base}/web/registry/instruments")  # reloaded: no filter in the address
    expect(page.locator("select[name=accuracy_class]")).to_have_value("")
    page.get_by_test_id("saved-view").filter(has_text=name).click()
    expect(page).to_have_url(re.compile(r"accuracy_class=I(&|$)"))
    expect(page.locator("select[name=accuracy_class]")).to_have_value("I")
    expect(page.locator("select[name=sort]")).to_have_value("-max_kg")


def test_save_reload_and_pick_a_view_in_english_and_chinese(browser: Browser, served: Served) -> None:
    qm = _sign_in(browser, served, "quality-manager")
    _save_filtered_view(qm, served, "Class I by capacity", shared=True)
    _pick(qm, served, "Class I by capacity")
    expect(qm.get_by_test_id("saved-view").filter(has_text="Class I by capacity")).to_contain_text("shared")
    _shot(qm, "saved-views", doc=True)

    tech = _sign_in(browser, served, "technician")
    _pick(tech, served, "Class I by capacity")
    expect(tech.get_by_test_id("view-shared")).to_have_count(0)  # a technician may not share

    qm.click("[data-testid=lang-switch]")
    expect(qm.get_by_test_id("saved-views")).to_contain_text("已保存的视图")
    _save_filtered_view(qm, served, "一级秤", shared=False)
    _pick(qm, served, "一级秤")
    expect(qm.get_by_test_id("saved-views")).to_contain_text("将当前筛选和排序保存为")
    qm.get_by_test_id("manage-views").click()
    expect(qm.get_by_test_id("views-table")).to_contain_text("一级秤")
    _shot(qm, "saved-views-manage-zh", doc=True)
    qm.get_by_test_id("view-row").filter(has_text="一级秤").get_by_test_id("delete-view").click()
    expect(qm.get_by_test_id("views-table")).not_to_contain_text("一级秤")
    expect(tech.get_by_test_id("saved-views")).not_to_contain_text("一级秤")


@pytest.mark.parametrize(
    ("path", "form", "choices"),
    [
        ("/web/due?days=3650", "due-filters", {"status": "overdue", "sort": "-name"}),
        ("/web/certificates", "certificate-filters", {"kind": "verification", "sort": "-number"}),
    ],
)
def test_due_and_certificates_lists_keep_a_view(
    browser: Browser, served: Served, path: str, form: str, choices: dict[str, str]
) -> None:
    """The due list and the certificates list: filter and sort with the form, save the view, reload the bare
    list, pick the view: the form shows the filter and sort again, and the export link carries them."""
    qm = _sign_in(browser, served, "quality-manager")
    qm.goto(f"{served.base}{path}")
    filters = qm.get_by_test_id(form)
    for name, value in choices.items():
        filters.locator(f"select[name={name}]").select_option(value)
    filters.locator("button[type=submit]").click()
    expect(qm).to_have_url(re.compile(r"sort=-"))
    name = f"Mine {form}"
    qm.get_by_test_id("view-name").fill(name)
    qm.get_by_test_id("save-view").click()
    expect(qm).to_have_url(re.compile(r"view=\d+"))
    qm.goto(f"{served.base}{path.partition('?')[0]}")
    expect(qm.locator("select[name=sort]")).not_to_have_value(choices["sort"])
    qm.get_by_test_id("saved-view").filter(has_text=name).click()
    for field, value in choices.items():
        expect(qm.locator(f"select[name={field}]")).to_have_value(value)
    href = qm.get_by_test_id("export-csv").get_attribute("href") or ""
    assert all(f"{field}={value}" in href for field, value in choices.items()), href
