"""``scripts/i18n_import_tables.py``: texts written the earlier way (key -> (English, Chinese) tables) move into
the catalogue and the key index, keep showing by their key, and a second run changes nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # copies src/ and runs the script three times: 2-7 s on a loaded machine
def test_leftover_entries_move_into_the_catalogue_once(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "scripts", tmp_path / "scripts")
    lab = tmp_path / "src/hengqi/server/web/lab_messages.py"
    lab.write_text(
        lab.read_text(encoding="utf-8").replace(
            "LAB_MESSAGES: Final[dict[str, tuple[str, str]]] = {}",
            'LAB_MESSAGES: Final[dict[str, tuple[str, str]]] = {\n    "zz.title": ("Reminder digest", "提醒摘要"),\n'
            '    "zz.why": ("Reason", "缘由"),\n    "nav.dashboard": ("Dashboard", "概览"),\n'
            '    "reg.saved": ("Saved!", "已保存！"),\n}',
        ),
        encoding="utf-8",
    )
    field = tmp_path / "src/hengqi/server/field/pages.py"
    field.write_text(
        field.read_text(encoding="utf-8").replace(
            "TEXTS: Final[dict[str, tuple[str, str]]] = {}",
            'TEXTS: Final[dict[str, tuple[str, str]]] = {"alarm": ("Alarm", "报警")}',
        ),
        encoding="utf-8",
    )
    script = [sys.executable, str(tmp_path / "scripts/i18n_import_tables.py")]

    def run(*args: str) -> str:
        done = subprocess.run([*script, *args], capture_output=True, text=True, timeout=120, check=True)
        return done.stdout

    report = run()  # a dry run
    assert "4 new texts for the catalogue, 3 new keys for the index, 1 keys with a new English text" in report
    assert "changed key reg.saved: 'Saved.' -> 'Saved!'" in report
    assert "src/hengqi/server/web/templates/user.html" in report  # where 'Saved.' is written out
    assert "4 new texts" in run("--prune")
    po = (tmp_path / "src/hengqi/locale/zh_CN/LC_MESSAGES/hengqi.po").read_text(encoding="utf-8")
    assert 'msgid "Reminder digest"\nmsgstr "提醒摘要"' in po
    assert 'msgctxt "zz.why"\nmsgid "Reason"\nmsgstr "缘由"' in po  # "Reason" had another Chinese already
    assert 'msgid "Alarm"\nmsgstr "报警"' in po
    terms = (tmp_path / "src/hengqi/server/web/terms.py").read_text(encoding="utf-8")
    assert '"zz.title": N_("Reminder digest")' in terms
    assert '"field.alarm": N_("Alarm")' in terms
    assert '"reg.saved": N_("Saved!")' in terms
    assert '"reg.saved": N_("Saved.")' not in terms
    assert "提醒摘要" not in lab.read_text(encoding="utf-8")
    assert "报警" not in field.read_text(encoding="utf-8")
    before = {p: p.read_bytes() for p in (tmp_path / "src").rglob("*") if p.is_file()}
    assert "0 new texts for the catalogue, 0 new keys for the index, 0 keys" in run("--prune")
    assert before == {p: p.read_bytes() for p in (tmp_path / "src").rglob("*") if p.is_file()}
    check = (
        "from hengqi.locale import catalogue; c = catalogue('zh'); print(c[('zz.why', 'Reason')], c[(None, 'Alarm')])"
    )
    shown = subprocess.run(
        [sys.executable, "-c", check],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={"PYTHONPATH": str(tmp_path / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert shown.stdout.split() == ["缘由", "报警"]
