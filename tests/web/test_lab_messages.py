"""The texts of the lab management screens: every key the templates and the registry forms name resolves to a text
of the catalogue, in English and in Chinese."""

from __future__ import annotations

import re
from pathlib import Path

from hengqi.server.web import lab_messages
from hengqi.server.web.i18n import translate
from hengqi.server.web.terms import TERMS

TEMPLATES = Path(lab_messages.__file__).parent / "templates"
LAB_TEMPLATES = (
    "_lab_nav.html",
    "_lab_fields.html",
    "registry_list.html",
    "registry_form.html",
    "users.html",
    "user.html",
    "tokens.html",
    "audit.html",
    "audit_verify.html",
    "certificate_manage.html",
    "import.html",
    "due.html",
)
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_key_named_by_the_templates_resolves() -> None:
    named: set[str] = set()
    for name in sorted(TEMPLATES.glob("*.html")):
        named |= set(re.findall(r"(?<![\w.])t\('([a-z_.\-]+)'\)", name.read_text(encoding="utf-8")))
    missing = sorted(k for k in named if k not in TERMS)
    assert missing == []


def test_every_field_label_is_in_the_catalogue() -> None:
    from hengqi.server.web.registry_forms import KINDS

    labels = {f.label for k in KINDS.values() for f in k.fields} | {c.label for k in KINDS.values() for c in k.columns}
    labels |= {k.title for k in KINDS.values()}
    assert len(labels) > 20
    assert sorted(k for k in labels if k not in TERMS) == []
    for key in labels:
        assert CJK.search(translate("zh", key)), key
        assert not CJK.search(translate("en", key)), key


def test_no_inline_styles() -> None:
    """The Content-Security-Policy (``style-src 'self'``) would block them."""
    for name in LAB_TEMPLATES:
        assert 'style="' not in (TEMPLATES / name).read_text(encoding="utf-8"), name
