"""The two-range example put in place of a guided run's record, for the web pages of multiple-range instruments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.server.test_results_ranges import _example

from hengqi.server.db.guided import GuidedRun
from hengqi.server.db.models import Instrument, Run

from .conftest import Demo


def run_and_instrument(session: Session, run_url: str) -> tuple[Run, Instrument]:
    """The run record and the instrument of the guided run at ``run_url``."""
    row = session.scalars(select(GuidedRun).where(GuidedRun.run_id == run_url.rsplit("/", 1)[-1])).one()
    run = session.get(Run, row.run_record_id)
    instrument = session.get(Instrument, row.instrument_id)
    assert run is not None
    assert instrument is not None
    return run, instrument


def two_range_run(demo: Demo, run_url: str) -> Any:
    """Replace the record of the guided run at ``run_url`` by the two-range example
    (``examples/calibration/two-range-scale-15kg.yaml``: class III, Max 6 / 15 kg, e 2 / 5 g) and register its
    instrument with those two ranges; returns the example's calibration result."""
    _record, result, two_range = _example()
    with demo.app.state.hengqi.database.write_session() as session:
        run, instrument = run_and_instrument(session, run_url)
        run.raw_data, run.results = two_range.raw_data, two_range.results
        instrument.accuracy_class, instrument.kind = "III", "multiple-range"
        instrument.max_kg, instrument.e_kg, instrument.d_kg = Decimal(15), Decimal("0.002"), Decimal("0.002")
        instrument.min_kg = Decimal("0.04")
        instrument.ranges = [{"max_kg": "6", "e_kg": "0.002"}, {"max_kg": "15", "e_kg": "0.005"}]
        session.commit()
    return result
