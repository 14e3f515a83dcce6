"""Certificate PDFs rendered in a process of their own (``hengqi.server.rendering``, issue 19)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hengqi.server import rendering


def test_a_call_runs_in_another_process_and_its_errors_come_back() -> None:
    assert rendering.off_process(os.getpid) != os.getpid()
    with pytest.raises(ValueError, match="invalid literal"):
        rendering.off_process(int, "not a number")


def test_the_pool_can_be_turned_off_and_resized() -> None:
    try:
        rendering.configure(0)
        assert rendering.off_process(os.getpid) == os.getpid()
        rendering.configure(2)
        pids = {rendering.off_process(os.getpid) for _ in range(2)}
        assert os.getpid() not in pids
        first = rendering.off_process(os.getpid)
        rendering.configure(1)  # another size: the two-process pool is stopped, a new one made
        assert rendering.off_process(os.getpid) not in {os.getpid(), first}
        for bad in (-1, 17):
            with pytest.raises(ValueError, match="render_processes"):
                rendering.configure(bad)
        assert rendering.processes() == 1
    finally:
        rendering.configure(rendering.DEFAULT_PROCESSES)


def test_the_setting_is_validated_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from hengqi.server.settings import Settings

    assert Settings().render_processes == rendering.DEFAULT_PROCESSES
    monkeypatch.setenv("HENGQI_RENDER_PROCESSES", "0")
    assert Settings().render_processes == 0
    for bad in ("-1", "two", "17"):
        monkeypatch.setenv("HENGQI_RENDER_PROCESSES", bad)
        with pytest.raises(ValidationError, match="render_processes"):
            Settings()


def test_the_app_factory_applies_the_setting(tmp_path: Path) -> None:
    from hengqi.server.app import create_app
    from hengqi.server.settings import Settings

    try:
        create_app(Settings(data_dir=tmp_path, render_processes=0))
        assert rendering.processes() == 0
        assert rendering.off_process(os.getpid) == os.getpid()
    finally:
        rendering.configure(rendering.DEFAULT_PROCESSES)


def test_a_dead_rendering_process_is_replaced_and_the_call_still_answers() -> None:
    first = rendering.off_process(os.getpid)
    os.kill(first, signal.SIGKILL)
    answers = [rendering.off_process(os.getpid) for _ in range(3)]
    assert all(pid != first for pid in answers)  # never the dead one
    assert answers[-1] != os.getpid()  # a new pool took over
    rendering.shutdown()
    assert rendering.off_process(os.getpid) != os.getpid()  # made again after a shutdown


def test_a_certificate_pdf_renders_through_the_pool() -> None:
    from tests.certificates.sample import sample_admin, sample_result

    from hengqi.certificates.dcc import dcc_bytes
    from hengqi.certificates.pdf import render_certificate_pdf

    result, admin = sample_result(), sample_admin()
    pdf = rendering.off_process(render_certificate_pdf, result, admin, dcc_xml=dcc_bytes(result, admin), draft=True)
    assert pdf.startswith(b"%PDF-")


def test_a_rendering_process_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    """A server process killed by SIGKILL does not leave its rendering process behind."""
    script = (
        "import os, sys; from hengqi.server import rendering; "
        "sys.stdout.write(str(rendering.off_process(os.getpid)) + '\\n'); sys.stdout.flush(); "
        "import time; time.sleep(600)"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert Path(f"/proc/{child}").exists()
    finally:
        parent.kill()
        parent.wait(timeout=30)
    deadline = time.monotonic() + 20
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{child}").exists()
