"""A mass that cannot be read is refused in the reader's language on the web (the core's refusal carries its
catalogue text, :class:`~hengqi.errors.FieldError`, shown through :func:`hengqi.locale.error_text`), with the
offending text quoted; the CLI and the API keep their English text."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from tests.server.conftest import INSTRUMENT as API_INSTRUMENT
from tests.server.conftest import Platform, Store

from hengqi.cli import cli
from hengqi.errors import FieldError, UnitError
from hengqi.locale import error_text
from hengqi.metrology.quantities import parse_mass
from hengqi.procedures.steps import FindChangeover, check_answer

from .conftest import Demo
from .test_manage import INSTRUMENT

BALANCE = "SIM-BAL-0001"
ENGLISH_ABC = "value: expected a mass such as '220 g' or '0.1 mg', got 'abc'"
CHINESE_ABC = "value: 应为质量，例如 '220 g' 或 '0.1 mg'，收到的是 'abc'"


def _notice(text: str) -> str:
    return html.unescape(" ".join(re.findall(r"<small[^>]*>([^<]*)", text)))


def test_a_malformed_step_answer_is_refused_in_chinese_with_the_text_quoted(demo: Demo) -> None:
    technician = demo.user("technician")
    run_url = technician.start(BALANCE, mode="manual")
    technician.advance(run_url, 5)  # prompt, conditions, remove, zero, place: now a reading to type in
    pending = technician.pending(run_url)
    assert pending is not None
    assert pending[1] == "enter"
    technician.client.cookies.set("hengqi_lang", "zh")
    for value, shown in (
        ("abc", CHINESE_ABC),
        ("1,005 kg", "value: '1,005 kg' 有歧义（是小数逗号还是千位分隔符？）；请写作 1.005 或 1005"),
        ("100 parsecs", "value: 未知的质量单位 'parsecs'（已知："),
    ):
        answer = technician.post(f"{run_url}/step", step_id=pending[0], action="enter", value=value)
        assert answer.headers["location"].endswith("?notice=invalid"), value
        page = html.unescape(technician.client.get(answer.headers["location"]).text)
        assert shown in page, (value, _notice(page))
        assert "expected a mass" not in page
        assert "is ambiguous" not in page
    technician.client.cookies.set("hengqi_lang", "en")
    answer = technician.post(f"{run_url}/step", step_id=pending[0], action="enter", value="abc")
    assert ENGLISH_ABC in html.unescape(technician.client.get(answer.headers["location"]).text)


def test_a_registry_form_refuses_a_malformed_mass_in_chinese(demo: Demo) -> None:
    qm = demo.user("quality-manager")
    qm.client.cookies.set("hengqi_lang", "zh")
    page = qm.post("/web/registry/instruments", **{**INSTRUMENT, "serial": "ZH-MASS", "max": "abc"})
    assert page.status_code == 422
    assert "max: 应为质量，例如 '220 g' 或 '0.1 mg'，收到的是 'abc'" in html.unescape(page.text)
    qm.client.cookies.set("hengqi_lang", "en")
    page = qm.post("/web/registry/instruments", **{**INSTRUMENT, "serial": "ZH-MASS", "max": "abc"})
    assert page.status_code == 422
    assert "max: expected a mass such as '220 g' or '0.1 mg', got 'abc'" in html.unescape(page.text)


def test_the_core_keeps_its_english_text_and_carries_the_catalogue_text() -> None:
    step = FindChangeover(load_kg=parse_mass("1 kg"), step_kg=parse_mass("0.1 g"), interval_kg=parse_mass("1 g"))
    with pytest.raises(FieldError) as found:
        check_answer(step, "abc")
    assert str(found.value) == "answer: expected a mass such as '220 g' or '0.1 mg', got 'abc'"
    assert error_text("zh", found.value) == "answer: 应为质量，例如 '220 g' 或 '0.1 mg'，收到的是 'abc'"
    with pytest.raises(UnitError) as unit:
        parse_mass(5)
    assert (str(unit.value), unit.value.code) == ("mass: a mass needs a unit, such as '5 g' or '5 kg'", "invalid_unit")
    assert error_text("zh", unit.value) == "mass: 质量需要单位，例如 '5 g' 或 '5 kg'"
    with pytest.raises(FieldError) as negative:
        parse_mass("-1 g")
    assert (str(negative.value), negative.value.code) == ("mass: must not be negative, got '-1 g'", "invalid_input")


def test_the_cli_and_the_api_answer_in_english_as_before(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert cli(["mpe", "--class", "III", "--e", "5 g", "--load", "abc"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "hengqi: error: --load: expected a mass such as '220 g' or '0.1 mg', got 'abc'"
    )
    store = Store("sqlite", tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'hengqi.sqlite3'}")
    platform = Platform(store)
    try:
        _, tech = platform.user("tech", "technician", platform.organisation("A"))
        answer = platform.client.post(
            "/api/v1/instruments",
            json={**API_INSTRUMENT, "max": "abc"},
            headers={**tech, "Accept-Language": "zh-CN"},
        )
        assert answer.status_code == 422
        body = answer.json()["error"]
        assert body["code"] == "invalid_input"
        assert "mass: expected a mass such as '220 g' or '0.1 mg', got 'abc'" in body["message"], body
        assert "应为质量" not in answer.text
    finally:
        platform.close()
