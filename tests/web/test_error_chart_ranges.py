"""The error chart's ``± MPE`` envelope follows the range in use: on a multiple-range instrument one envelope per
range its points were read in, each with the e of that range (OIML R 76-1:2006, 3.5.1 Table 6); a single-range
chart is drawn byte for byte as before."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

from hengqi.metrology.classes import InstrumentSpecification
from hengqi.metrology.mpe import mpe
from hengqi.server.web.charts import error_curve_svg, mpe_envelopes
from hengqi.server.web.pages import envelope_ranges, mpe_function, point_ranges

from .conftest import Demo
from .two_range import run_and_instrument, two_range_run

BALANCE = "SIM-BAL-0001"
G = Decimal("0.001")
SINGLE = re.compile(r'<polyline points="[^"]+" class="mpe"/>')


def test_a_single_range_chart_is_drawn_as_before() -> None:
    """The SHA-256 of this chart as drawn before envelopes per range existed (commit 2ab7c09)."""
    spec = InstrumentSpecification.create(accuracy_class="III", max="15 kg", e="5 g")
    points = [
        (Decimal(2), Decimal("0.002"), 0.0012),
        (Decimal(10), Decimal("-0.003"), 0.0015),
        (Decimal(15), 5 * G, 0.002),
    ]
    svg = error_curve_svg(
        points,
        lambda load: mpe(load, spec),
        max_kg=Decimal(15),
        d_kg=5 * G,
        labels=("error E", "± U (k≈2)", "± MPE (initial verification)"),
    )
    assert (
        hashlib.sha256(svg.encode()).hexdigest() == "08f36ec527fb98e8a7baf1e8e8397870854664164d49047fe91f6e7642ee73e4"
    )
    assert "data-range" not in svg


def test_the_two_range_chart_draws_the_mpe_of_each_range_in_use(demo: Demo) -> None:
    """Two-range example (``examples/calibration/two-range-scale-15kg.yaml``): class III, Max 6 kg / 15 kg,
    e 2 g / 5 g.  R 76-1:2006 3.5.1 Table 6, class III, initial verification: 0.5 e up to 500 e, 1 e up to
    2000 e, 1.5 e up to 10000 e.  Range 1 (e = 2 g): 500 e = 1 kg, 2000 e = 4 kg, so 1 g at 0.6 kg, 2 g at 3 kg,
    3 g at 6 kg.  Range 2 (e = 5 g): 500 e = 2.5 kg, 2000 e = 10 kg, so 2.5 g at 1.5 kg, 5 g at 7.5 kg, 7.5 g at
    15 kg."""
    technician = demo.user("technician")
    run_url = technician.start(BALANCE)
    technician.advance(run_url)
    single = technician.client.get(f"{run_url}/results").text
    assert len(SINGLE.findall(single)) == 2  # upper and lower
    assert "data-range" not in single  # a single range: one envelope, as before
    two_range_run(demo, run_url)
    with demo.app.state.hengqi.database.read_session() as session:
        run, instrument = run_and_instrument(session, run_url)
        session.expunge(instrument)
        results = dict(run.results)
    assert sorted(r or 0 for r in point_ranges(results)) == [1, 1, 2, 2, 2, 2, 2]
    ranges = envelope_ranges(instrument, point_ranges(results))
    assert ranges == [(1, Decimal(6)), (2, Decimal(15))]
    envelopes = dict(mpe_envelopes(mpe_function(instrument), instrument.max_kg, ranges))
    first, second = dict(envelopes[1]), dict(envelopes[2])
    assert max(first) == Decimal(6)  # range 1's envelope ends at its Max
    assert max(second) == Decimal(15)
    assert [first[Decimal(x)] for x in ("0.6", "3", "6")] == [1 * G, 2 * G, 3 * G]
    assert [second[Decimal(x)] for x in ("1.5", "7.5", "15")] == [Decimal("2.5") * G, 5 * G, Decimal("7.5") * G]
    assert first[Decimal("0.99")] == 1 * G  # 495 e: still 0.5 e
    assert first[Decimal("1.02")] == 2 * G  # 510 e: 1 e
    assert second[Decimal("2.4")] == Decimal("2.5") * G  # 480 e of range 2: 0.5 e = 2.5 g, not range 1's 2 g
    page = technician.client.get(f"{run_url}/results")
    assert page.status_code == 200, page.text
    drawn = re.findall(r'<polyline points="([^"]+)" class="mpe" data-range="(\d)"/>', page.text)
    assert [number for _, number in drawn] == ["1", "1", "2", "2"]
    # range 1's envelope stops at 6 kg, range 2's at 15 kg: each drawn over its own range
    last_x = [float(points.split()[-1].split(",")[0]) for points, _ in drawn]
    assert last_x[0] == last_x[1] < last_x[2] == last_x[3]
    assert not SINGLE.findall(page.text)
