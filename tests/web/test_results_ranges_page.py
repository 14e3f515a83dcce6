"""The results page of a calibration of a multiple-range instrument shows, per point, the range and d it was read in
and the MPE of that range: the numbers of the certificate's PDF (OIML R 76-1:2006 3.5.1 Table 6; the two-range
example ``examples/calibration/two-range-scale-15kg.yaml``).  Pages of single-range instruments keep their columns."""

from __future__ import annotations

import re
from pathlib import Path

from tests.server.test_results_ranges import _pdf_rows

from hengqi.server.db.models import Certificate

from .conftest import Demo
from .two_range import two_range_run

BALANCE = "SIM-BAL-0001"
ROW = re.compile(
    r'data-testid="point" data-load="([^"]+)" data-error="([^"]+)" data-u="([^"]+)" data-k="([^"]+)" '
    r'data-mpe="([^"]+)"(?: data-range="([^"]*)" data-d="([^"]*)")?>'
)


def test_the_results_page_shows_range_d_and_mpe_per_point_as_the_pdf(demo: Demo, tmp_path: Path) -> None:
    technician = demo.user("technician")
    run_url = technician.start(BALANCE)
    technician.advance(run_url)
    before = technician.client.get(f"{run_url}/results").text
    assert ROW.search(before) is not None
    assert all(not m.group(6) for m in ROW.finditer(before))  # a single range: no range or d column
    assert '<th class="num">d / ' not in before
    # the run's record replaced by the two-range example, the instrument registered with its two ranges
    result = two_range_run(demo, run_url)
    page = technician.client.get(f"{run_url}/results")
    assert page.status_code == 200, page.text
    assert '<th class="num">d / g</th>' in page.text
    shown = [
        (m.group(1), m.group(6), m.group(7), m.group(2), m.group(3), m.group(4), m.group(5))
        for m in ROW.finditer(page.text)
    ]
    pdf = _pdf_rows(result, tmp_path)
    # load, range, d, E, U, k, MPE: the PDF's load, d, E, U, k and MPE; the range of each point in the record
    assert shown == [
        (r[0], str(p.range_in_use), r[3], r[4], r[5], r[6], r[7]) for r, p in zip(pdf, result.points, strict=True)
    ]
    assert [(s[0], s[1], s[2], s[6]) for s in shown][:4] == [
        ("2.000", "1", "2", "2"), ("2.000", "2", "5", "2.5"), ("5.000", "1", "2", "3"), ("5.000", "2", "5", "5")
    ]  # fmt: skip
    assert 'data-testid="point-d">5</td>' in page.text
    chinese = technician.client.get(f"{run_url}/results", headers={"Accept-Language": "zh-CN"}).text
    assert "称量范围" in chinese
    # the approval page (what will be signed) states the same range, d and MPE per point
    with demo.app.state.hengqi.database.read_session() as session:
        certificate = session.query(Certificate).one()
    sign = demo.user("reviewer").client.get(f"/web/certificates/{certificate.id}/approve").text
    cells = re.findall(r'<tr data-testid="sign-point"><td>[^<]*</td><td class="num">([^<]*)</td>'
                       r'<td class="num">([^<]*)</td><td class="num">[^<]*</td><td class="num">[^<]*</td>'
                       r'<td class="num">([^<]*)</td>', sign)  # fmt: skip
    assert cells == [(s[1], f"{s[2]} g", f"{s[6]} g") for s in shown]
