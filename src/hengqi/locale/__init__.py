"""hengqi's message catalogues: gettext ``.po`` files read with Babel, and numbers and dates per locale.

Every user-visible text is written in English in the source, marked for extraction (``_("Sign in")`` in
templates; :func:`gettext`, :func:`pgettext`, :func:`N_`, :func:`NP_` in Python); Babel extracts them
(``scripts/i18n.py extract``, ``babel.cfg``) into ``hengqi.pot`` and the translators' ``zh_CN/LC_MESSAGES/hengqi.po``
holds the Chinese.  The msgid is the English text (the usual gettext way: a template reads as the page does, the
English needs no catalogue, and a changed English text shows up as a new, untranslated message); where one English
word has two Chinese renderings (an instrument *withdrawn* from service 已报废 vs a certificate *withdrawn* 已撤回)
a context (``msgctxt``) tells them apart.

The ``.po`` file is read once per process (:func:`babel.messages.pofile.read_po`, on first use) rather
than a compiled ``.mo``: one source of truth in git, no binary that can go stale against it, nothing to build for
an editable install; ``scripts/i18n.py compile`` still compiles and checks a ``.mo`` (for gettext tools).

The interface languages are ``en`` (the source texts) and ``zh`` (Simplified Chinese, locale ``zh_CN``).

>>> gettext("zh", "Sign in"), gettext("en", "Sign in"), pgettext("zh", "instrument status", "withdrawn")
('登录', 'Sign in', '已报废')
>>> format_date(date(2026, 12, 7), "zh"), format_date(date(2026, 12, 7), "en")
('2026年12月7日', 'Dec 7, 2026')
>>> format_decimal(Decimal("12345.678"), "zh")
'12,345.678'
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Final

import babel.dates
import babel.numbers
from babel.messages.pofile import read_po

__all__ = [
    "DOMAIN",
    "LANGUAGES",
    "NP_",
    "N_",
    "Message",
    "catalogue",
    "format_date",
    "format_datetime",
    "format_decimal",
    "gettext",
    "ngettext",
    "pgettext",
    "po_path",
    "record_misses",
    "translate_message",
]

DOMAIN: Final = "hengqi"
HERE: Final = Path(__file__).resolve().parent
#: interface language -> gettext/Babel locale (``en`` is the source language and has no catalogue)
LANGUAGES: Final[dict[str, str]] = {"en": "en", "zh": "zh_CN"}
_BABEL_LOCALE: Final = {"en": "en", "zh": "zh_Hans_CN"}


@dataclass(frozen=True, slots=True)
class Message:
    """A text marked for translation but translated later (where the reader's language is known)."""

    text: str
    context: str | None = None


def N_(text: str) -> Message:  # noqa: N802 (the gettext convention for a deferred translation)
    """Mark ``text`` for extraction; translate it later with :func:`translate_message`."""
    return Message(text)


def NP_(context: str, text: str) -> Message:  # noqa: N802
    """Mark ``text`` with a ``msgctxt`` for extraction (one English word, two meanings)."""
    return Message(text, context)


def po_path(lang: str) -> Path:
    """The catalogue file of an interface language (``zh`` -> ``zh_CN/LC_MESSAGES/hengqi.po``)."""
    return HERE / LANGUAGES[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=4)
def catalogue(lang: str) -> dict[tuple[str | None, str], str]:
    """(msgctxt, msgid) -> translation, for every translated, non-fuzzy message of ``lang``'s ``.po`` file."""
    if lang not in LANGUAGES or lang == "en":
        return {}
    with po_path(lang).open("rb") as handle:
        po = read_po(handle, locale=LANGUAGES[lang], domain=DOMAIN)
    out: dict[tuple[str | None, str], str] = {}
    for message in po:
        if not message.id or message.fuzzy:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, (list, tuple)) else (message.string or "",)
        text = strings[0] if strings else ""
        if text:
            out[(message.context, msgid)] = text
    return out


#: open probes of :func:`record_misses` (process-wide: a test client serves pages in another thread)
_PROBES: list[set[tuple[str | None, str]]] = []
_PROBES_LOCK = threading.Lock()


@contextmanager
def record_misses() -> Iterator[set[tuple[str | None, str]]]:
    """Collect, while the block runs, every (context, msgid) looked up without a translation (the tests' probe)."""
    misses: set[tuple[str | None, str]] = set()
    with _PROBES_LOCK:
        _PROBES.append(misses)
    try:
        yield misses
    finally:
        with _PROBES_LOCK:
            _PROBES.remove(misses)


def _lookup(lang: str, context: str | None, text: str) -> str:
    if lang == "en" or not text:
        return text
    found = catalogue(lang).get((context, text))
    if found is None:
        if _PROBES:
            with _PROBES_LOCK:
                for misses in _PROBES:
                    misses.add((context, text))
        return text
    return found


def gettext(lang: str, text: str) -> str:
    """``text`` (English) in ``lang``; the English itself where the catalogue has no translation."""
    return _lookup(lang, None, text)


def pgettext(lang: str, context: str, text: str) -> str:
    """:func:`gettext` of ``text`` in ``context`` (``msgctxt``)."""
    return _lookup(lang, context, text)


def ngettext(lang: str, singular: str, plural: str, n: int) -> str:
    """The singular or plural form (Chinese has one form: the catalogue keeps the singular's translation)."""
    return _lookup(lang, None, singular if n == 1 else plural)


def translate_message(lang: str, message: Message) -> str:
    """A deferred :class:`Message` in ``lang``."""
    return _lookup(lang, message.context, message.text)


def format_date(value: date | datetime | str | None, lang: str, form: str = "medium") -> str:
    """A date as the locale writes it (CLDR through Babel): ``2026年12月7日`` / ``Dec 7, 2026``; ``—`` for none.

    An ISO text (``2026-12-07``, as records store dates) is read first; any other text is shown as it is.
    """
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value[:10])
        except ValueError:
            return value
    else:
        day = value.date() if isinstance(value, datetime) else value
    return str(babel.dates.format_date(day, format=form, locale=_BABEL_LOCALE.get(lang, "en")))


def format_datetime(value: datetime | None, lang: str, form: str = "medium") -> str:
    """A moment as the locale writes it (in the zone it carries); ``—`` for none."""
    if value is None:
        return "—"
    return str(babel.dates.format_datetime(value, format=form, locale=_BABEL_LOCALE.get(lang, "en")))


def format_decimal(value: Decimal | float | int | None, lang: str) -> str:
    """A count or plain number with the locale's digit grouping; every digit of the value is kept.

    Measured values with their resolution are *not* formatted here: a reading keeps the digits of its scale
    interval d (:mod:`hengqi.metrology.reporting`).
    """
    if value is None:
        return "—"
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    digits = max(0, -int(number.as_tuple().exponent)) if number.is_finite() else 0
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return str(babel.numbers.format_decimal(number, format=pattern, locale=_BABEL_LOCALE.get(lang, "en")))
