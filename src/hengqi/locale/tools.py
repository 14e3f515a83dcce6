"""Keeping the catalogues: Babel extraction from the sources, update of the ``.po`` files, compile and check.

``scripts/i18n.py extract|update|compile|check`` calls these; the catalogue test calls :func:`problems`.
Extraction follows ``babel.cfg`` at the top of the repository (Python with Babel's extractor, the templates with
Jinja2's ``babel_extract``) with the keywords below: the Python helpers take the language first
(``gettext(lang, "Text")``), the template callables do not (``_('Text')``), so each keyword is matched by its
number of arguments.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from hengqi.locale import DOMAIN, LANGUAGES, po_path

PACKAGE: Final = Path(__file__).resolve().parents[1]
#: keyword -> {number of arguments: Babel's spec (1-based message positions, ``(n, "c")`` the context)}
KEYWORDS: Final[dict[str, Any]] = {
    "_": {1: (1,)},
    "gettext": {1: (1,), 2: (2,)},
    "ngettext": {3: (1, 2), 4: (2, 3)},
    "pgettext": {2: ((1, "c"), 2), 3: ((2, "c"), 3)},
    "npgettext": {4: ((1, "c"), 2, 3)},
    "N_": {1: (1,), 2: (1,)},
    "NP_": {2: ((1, "c"), 2), 3: ((1, "c"), 2)},
}
# Babel counts a trailing comma as one more argument (``NP_("c", "long text",)`` has three): the deferred
# markers take no further argument, so their one-more counts are that comma (the formatter puts it after a text
# split over lines).
PO_WIDTH: Final = 120


def mapping_file() -> Path:
    """``babel.cfg`` (at the repository's top, two levels above ``src/hengqi``)."""
    return PACKAGE.parents[1] / "babel.cfg"


def extract() -> Catalog:
    """Every marked text of ``src/hengqi`` (a ``.pot`` template, locations relative to ``src/hengqi``)."""
    with mapping_file().open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    template = Catalog(project="hengqi", domain=DOMAIN, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PACKAGE), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def read(lang: str) -> Catalog:
    with po_path(lang).open("rb") as handle:
        return read_po(handle, locale=LANGUAGES[lang], domain=DOMAIN)


def write(lang: str, catalogue: Catalog) -> None:
    buffer = io.BytesIO()
    write_po(
        buffer,
        catalogue,
        width=PO_WIDTH,
        sort_output=True,
        ignore_obsolete=True,
        include_previous=False,
        include_lineno=False,  # file names only: a moved line does not change the catalogue
    )
    po_path(lang).write_bytes(buffer.getvalue())


def update(lang: str) -> Catalog:
    """Merge the sources' texts into ``lang``'s ``.po``: new ones untranslated, vanished ones dropped."""
    catalogue = read(lang)
    created = catalogue.creation_date
    catalogue.update(extract(), no_fuzzy_matching=True, update_header_comment=False)
    catalogue.creation_date = created  # the header stays as it was: no change in git when no text changed
    catalogue.obsolete.clear()
    write(lang, catalogue)
    return catalogue


def compile_mo(lang: str, target: Path) -> Path:
    """``lang``'s ``.mo`` under ``target`` (``<lang>/LC_MESSAGES/hengqi.mo``), for gettext tools."""
    catalogue = read(lang)
    out = target / LANGUAGES[lang] / "LC_MESSAGES" / f"{DOMAIN}.mo"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as handle:
        write_mo(handle, catalogue, use_fuzzy=False)
    return out


@dataclass(frozen=True, slots=True)
class Problems:
    """What keeps a catalogue from being complete; all empty when it is."""

    missing: tuple[str, ...]  # in the sources, not in the .po
    untranslated: tuple[str, ...]  # in the .po with an empty msgstr (or fuzzy)
    obsolete: tuple[str, ...]  # in the .po, no longer in the sources
    format_errors: tuple[str, ...]  # msgstr placeholders that differ from the msgid's

    def __bool__(self) -> bool:
        return bool(self.missing or self.untranslated or self.obsolete or self.format_errors)


def _name(context: str | None, msgid: str) -> str:
    return f"{context}|{msgid}" if context else msgid


def problems(lang: str, template: Catalog | None = None) -> Problems:
    """Compare ``lang``'s ``.po`` with what the sources mark (``template``, extracted when not given)."""
    template = template if template is not None else extract()
    catalogue = read(lang)

    def keys(c: Catalog) -> set[tuple[str | None, str]]:
        return {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in c if m.id}

    wanted, have = keys(template), keys(catalogue)
    untranslated, errors = [], []
    for m in catalogue:
        if not m.id:
            continue
        msgid = m.id if isinstance(m.id, str) else m.id[0]
        strings = tuple(m.string) if isinstance(m.string, (list, tuple)) else (m.string or "",)
        if m.fuzzy or not all(s.strip() for s in strings):
            untranslated.append(_name(m.context, msgid))
        for s in strings:
            if _placeholders(msgid) != _placeholders(s):
                errors.append(f"{_name(m.context, msgid)}: placeholders differ")
    return Problems(
        missing=tuple(sorted(_name(c, i) for c, i in wanted - have)),
        untranslated=tuple(sorted(untranslated)),
        obsolete=tuple(sorted(_name(c, i) for c, i in have - wanted)),
        format_errors=tuple(sorted(errors)),
    )


def _placeholders(text: str) -> list[str]:
    """The ``{name}`` and ``%(name)s`` placeholders of a text, sorted."""
    return sorted(re.findall(r"\{[a-z_]*\}|%\([a-z_]+\)[sd]", text))
