"""The long renders of the web routes go to a rendering process (:mod:`hengqi.server.rendering`, issue 19): label
sheets (5.2 s of CPU for 500 labels, measured in process), list exports as XLSX (2.4 s for 10 000 rows), the
reading of an imported workbook (1.1 s for 10 000 rows), the statistics downloads.  Each route's module is watched
at its ``off_process`` (the real one still runs), and what comes back is checked as a file."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

import pytest
from openpyxl import load_workbook
from tests.web.conftest import Demo
from tests.web.test_imports_xlsx import upload, workbook

from hengqi.server import rendering
from hengqi.server.api import statistics as api_statistics
from hengqi.server.services import instrument_import
from hengqi.server.web import labels, tables
from hengqi.server.web import statistics as web_statistics


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions the routes send to a rendering process, with the process that ran each."""
    names: list[str] = []

    def watched(function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        names.append(function.__name__)
        return rendering.off_process(function, *args, **kwargs)

    for module in (labels, tables, web_statistics, api_statistics, instrument_import):
        monkeypatch.setattr(module, "off_process", watched)
    return names


def test_labels_exports_imports_and_statistics_render_in_a_rendering_process(demo: Demo, sent: list[str]) -> None:
    tech = demo.user("technician")
    sheet = tech.client.get("/web/labels.pdf?size=L7160")
    assert sheet.status_code == 200, sheet.text
    assert sheet.content.startswith(b"%PDF-")
    book = load_workbook(io.BytesIO(tech.client.get("/web/registry/instruments?export=xlsx").content), read_only=True)
    header = next(book.worksheets[0].iter_rows(values_only=True))
    assert header[:2] == ("id", "make")
    page = upload(tech, workbook([["Acme", "X-30", "RP-1", "III", 30, 0.01, "in-service", None]]))
    assert "RP-1" in page.text  # type: ignore[attr-defined]
    assert sent == ["render_sheet", "write_cells", "read_xlsx"]
    viewer = demo.user("quality-manager")
    for fmt, magic in (("pdf", b"%PDF-"), ("xlsx", b"PK")):
        answer = viewer.client.get(f"/web/statistics/export?format={fmt}&group_by=maker")
        assert answer.status_code == 200, answer.text
        assert answer.content.startswith(magic)
    assert sent[3:] == ["to_pdf", "to_xlsx"]


def test_a_refusal_raised_in_the_rendering_process_reaches_the_page(demo: Demo, sent: list[str]) -> None:
    """A damaged workbook is refused in the rendering process; the refusal (an ``InputError``) comes back whole and
    the page names it, and the rendering process stays (an error that could not be unpickled broke the pool)."""
    tech = demo.user("technician")
    process = rendering.off_process(os.getpid)
    damaged = workbook([["Acme", "X-30", "RP-2", "III", 30, 0.01, "in-service", None]])[:-40]
    answer = upload(tech, damaged)
    assert answer.status_code == 422  # type: ignore[attr-defined]
    assert "file" in answer.text  # type: ignore[attr-defined]
    assert sent == ["read_xlsx"]
    assert rendering.off_process(os.getpid) == process
