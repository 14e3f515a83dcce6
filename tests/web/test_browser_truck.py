"""In a real browser: the demo truck scale (class III, Max 60 t, e = 20 kg) is verified with its 13.1 t weighbridge
test set, the loads above the set built by substitution (OIML R 76-1:2006 3.7.3 as cited, issue 11), and the
verification passes with its draft certificate.  Same server and Chromium as ``test_browser.py``, except that the
demo's simulators settle in 0.05 s (as in the tests without a browser): the run reads 40 indications and finds 37
change points, each by adding small weights one by one with a stable reading after each.

The run has about 140 steps of eight kinds.  Chromium clicks the first step of each kind, every substitution, and
the last step (the way to the results); the other steps, repeats of a kind Chromium has already done, are the same
form posts the page makes (its hidden fields read from the page, the technician's session cookies), sent with
httpx to the same server, each checked to land on the run's next step as the click does.  ``test_truck_verification``
drives the whole run over HTTP without a browser and checks the record."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from .browser_support import browser_fixtures
from .conftest import Served
from .test_browser import _shot, _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


_no_csp_violations, served, browser = browser_fixtures("browser-truck", settling_s=0.05)

STEP_KIND = re.compile(r'data-testid="step" data-step-kind="([^"]+)"')
PROGRESS = re.compile(r"Step (\d+) of (\d+)")
STEP_FORM = re.compile(r'<form method="post" action="([^"]+/step)"[^>]*>(.*?)</form>', re.S)
FIELD = re.compile(r'<input (?:type="hidden" )?name="([^"]+)"(?: value="([^"]*)")?')


def _session(page: Page, served: Served) -> httpx.Client:
    """An HTTP client with the browser's session: its cookies, the same server."""
    cookies = httpx.Cookies()
    for cookie in page.context.cookies():
        cookies.set(cookie["name"], cookie["value"], domain=cookie["domain"], path=cookie["path"])
    return httpx.Client(base_url=served.base, cookies=cookies, timeout=60)


def _post_step(client: httpx.Client, html: str) -> str:
    """Submit the page's ``do-step`` form as the browser would (every field it has, typed-in ones empty); where the
    server sent the technician next."""
    forms = [(action, body) for action, body in STEP_FORM.findall(html) if 'data-testid="do-step"' in body]
    assert len(forms) == 1, html
    ((action, body),) = forms
    answer = client.post(unescape(action), data={name: unescape(value) for name, value in FIELD.findall(body)})
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


@pytest.mark.timeout(600)  # about 140 steps; Chromium clicks 12 of them (about 1.5 min on a 2-core machine)
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
    run_path = run_url.removeprefix(served.base)
    client = _session(technician, served)

    kinds: list[str] = []
    clicked: list[str] = []
    on_page = True  # the browser shows the pending step (no step was posted over HTTP since it last loaded)
    posted = ""  # the progress before the step last posted over HTTP
    for _ in range(400):
        html = client.get(run_path).text
        if posted:  # that post went on to the next step, as a click must (below)
            assert PROGRESS.search(html) is None or posted not in html, html
        found = STEP_KIND.search(html)
        assert found is not None, html
        kind = found.group(1)
        if kind == "end":
            break
        kinds.append(kind)
        assert kind != "decide", html  # nothing fails
        progress = PROGRESS.search(html)
        assert progress is not None, html
        step, total = int(progress.group(1)), int(progress.group(2))
        if kind in clicked and kind != "substitute" and step < total:  # a repeat: the page's form post
            assert _post_step(client, html) == run_path  # no notice: nothing refused, held or failed
            posted, on_page = progress.group(0), False
            continue
        posted = ""
        if not on_page:
            technician.goto(run_url)
        clicked.append(kind)
        expect(technician.get_by_test_id("step")).to_have_attribute("data-step-kind", kind)
        if kind == "substitute" and kinds.count("substitute") == 1:
            expect(technician.get_by_test_id("step")).to_contain_text("substitute")
            _shot(technician, "truck-substitution")
        before = technician.get_by_test_id("progress").inner_text()
        technician.get_by_test_id("do-step").click()
        expect(technician.get_by_test_id("progress").or_(technician.get_by_test_id("verdict"))).not_to_have_text(before)
        on_page = True
        if "/results" in technician.url:
            break
    else:
        pytest.fail("the run did not end")
    client.close()
    assert sorted(set(clicked)) == sorted(set(kinds))  # Chromium did a step of every kind in the run
    assert kinds.count("substitute") == 4  # 13.1, 26.2, 39.3, 52.4 t: established once, reused by later tests
    assert "/results" in technician.url  # Chromium made the last step and went on to the results
    technician.goto(f"{run_url}/results")
    expect(technician.get_by_test_id("verdict")).to_have_attribute("data-verdict", "pass")
    groups = technician.get_by_test_id("test-group")
    for test in ("weighing", "eccentricity", "repeatability", "discrimination"):
        expect(groups.and_(technician.locator(f"[data-test={test}]"))).to_have_attribute("data-verdict", "pass")
    expect(technician.get_by_test_id("certificate-status")).to_have_text("draft")
    _shot(technician, "truck-verification-results")
