"""The catalogues are complete: every text the sources mark is in the zh-CN ``.po`` with a translation, the ``.po``
has no text the sources no longer mark, and no text lives outside the catalogue (the earlier hand-kept tables)."""

from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog

from hengqi.locale import LANGUAGES, catalogue
from hengqi.locale.tools import extract, problems


@pytest.fixture(scope="module")
def template() -> Catalog:
    return extract()


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_every_extracted_text_is_translated_and_none_is_obsolete(template: Catalog, lang: str) -> None:
    found = problems(lang, template)
    assert found.missing == (), "run: scripts/i18n.py update, then translate"
    assert found.untranslated == ()
    assert found.obsolete == (), "run: scripts/i18n.py update"
    assert found.format_errors == ()
    assert not found


def test_the_extraction_sees_templates_python_and_the_key_index(template: Catalog) -> None:
    places = {filename for m in template for filename, _ in m.locations}
    assert any(p.endswith("templates/base.html") for p in places)
    assert any(p.endswith("templates/field_instrument.html") for p in places)
    assert "server/web/terms.py" in places
    assert "server/web/runs.py" in places  # gettext(lang, "...") in Python
    assert len(template) > 350


def test_every_translation_is_loaded() -> None:
    loaded = catalogue("zh")
    assert loaded[(None, "Sign in")] == "登录"
    assert loaded[("certificate status", "withdrawn")] != loaded[("instrument status", "withdrawn")]
    assert all(text.strip() for text in loaded.values())


def test_no_text_lives_outside_the_catalogue() -> None:
    """The earlier key -> (English, Chinese) tables are empty: after a merge that brings entries written the
    earlier way, ``scripts/i18n_import_tables.py --prune`` moves them into the catalogue."""
    from hengqi.server.field.pages import TEXTS
    from hengqi.server.web.i18n import MESSAGES
    from hengqi.server.web.lab_messages import LAB_MESSAGES

    assert (MESSAGES, LAB_MESSAGES, TEXTS) == ({}, {}, {}), "run: scripts/i18n_import_tables.py --prune"


def test_templates_translate_into_the_page_language() -> None:
    """Jinja2's i18n extension as installed on the web templates: ``_``, ``pgettext``, ``{% trans %}`` (also in a
    macro) follow the page's ``lang``; dates and numbers are formatted per locale."""
    import datetime

    from jinja2 import Environment

    from hengqi.server.web import i18n

    env = Environment(autoescape=True)
    i18n.install(env)
    page = env.from_string(
        "{% trans %}Sign in{% endtrans %}|{{ _('Sign out') }}|{{ pgettext('navigation', 'Field') }}|"
        "{% macro m() %}{{ _('Dashboard') }}{% endmacro %}{{ m() }}|{{ d|format_date }}|{{ n|format_decimal }}"
    )
    day, n = datetime.date(2026, 12, 7), 1234567
    assert page.render(lang="zh", d=day, n=n) == "登录|退出|现场|概览|2026年12月7日|1,234,567"
    assert page.render(lang="en", d="2026-12-07", n=n) == "Sign in|Sign out|Field|Dashboard|Dec 7, 2026|1,234,567"


def test_the_extraction_sees_procedure_and_certificate_texts(template: Catalog) -> None:
    """Guided-run instructions, plausibility findings and the certificates' paragraphs are catalogue texts: a
    split text with the formatter's trailing comma (``NP_("c", "a" "b",)``) is extracted too."""
    places = {filename for m in template for filename, _ in m.locations}
    for module in (
        "procedures/instructions.py",
        "procedures/plausibility.py",
        "procedures/calibration.py",
        "procedures/verification.py",
        "certificates/pdf/render.py",
        "certificates/pdf/verification.py",
        "certificates/pdf/blocks.py",
    ):
        assert module in places, module
    ids = {(m.context, m.id) for m in template}
    assert (None, "Read the stable indication ({purpose}, load {load}).") in ids
    assert (None, "{indication} is far from the load {load}") in ids
    assert ("certificate", "End of certificate") in ids
    assert (
        "certificate",
        "The results relate only to the item calibrated, at the time of calibration. This certificate shall not be "
        "reproduced except in full without the written approval of the laboratory.",
    ) in ids


def test_the_check_fails_on_a_procedure_text_without_translation(template: Catalog) -> None:
    """A new instruction in a plan (a msgid the .po lacks) makes the catalogue incomplete."""
    grown = Catalog(project="hengqi", domain="hengqi", charset="utf-8")
    for message in template:
        if message.id:
            grown.add(message.id, None, list(message.locations), context=message.context)
    grown.add("Level the instrument with its feet.", None, [("procedures/instructions.py", 1)])
    found = problems("zh", grown)
    assert found.missing == ("Level the instrument with its feet.",)
    assert found
