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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, TypeAlias

import babel.dates
import babel.numbers
from babel.messages.pofile import read_po

from hengqi.errors import InputError

__all__ = [
    "DOMAIN",
    "LANGUAGES",
    "NP_",
    "N_",
    "Message",
    "Param",
    "bilingual",
    "catalogue",
    "error_text",
    "format_date",
    "format_datetime",
    "format_decimal",
    "gettext",
    "message_from_json",
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


#: A parameter of a :class:`Message`: a value shown as it is (a name, a mass with its unit) or a message itself
#: (a word translated with the text around it).
Param: TypeAlias = "str | Message"


@dataclass(frozen=True, slots=True)
class Message:
    """A text marked for translation but translated later (where the reader's language is known).

    ``text`` is the English (the msgid), with ``{name}`` placeholders filled from ``params`` after translation;
    a parameter that is itself a :class:`Message` is translated too.  Stored data keeps a message in its JSON
    form (:meth:`as_json`, :func:`message_from_json`): the English and its parameters, translated when shown.

    >>> start = N_("Place {load} on the load receptor, {where}.").format(
    ...     load="5 kg", where=NP_("load receptor position", "centre"))
    >>> start.english()
    'Place 5 kg on the load receptor, centre.'
    >>> message_from_json(start.as_json()) == start
    True
    """

    text: str
    context: str | None = None
    params: tuple[tuple[str, Param], ...] = ()

    def format(self, **params: Param) -> Message:
        """This message with its placeholders' values (``{load}`` -> ``load="5 kg"``)."""
        return Message(self.text, self.context, tuple(sorted(params.items())))

    def english(self) -> str:
        """The text in the source language, parameters filled in."""
        return translate_message("en", self)

    def as_json(self) -> dict[str, Any]:
        """Plain JSON form: ``msgid``, ``msgctxt`` where given, ``params`` where given (nested messages as objects)."""
        data: dict[str, Any] = {"msgid": self.text}
        if self.context is not None:
            data["msgctxt"] = self.context
        if self.params:
            data["params"] = {
                name: value.as_json() if isinstance(value, Message) else value for name, value in self.params
            }
        return data


def message_from_json(data: object, *, path: str = "message") -> Message:
    """A message read back from :meth:`Message.as_json`; :class:`~hengqi.errors.InputError` names what is wrong."""
    if not isinstance(data, Mapping) or not isinstance(data.get("msgid"), str):
        raise InputError(path, "expected an object with a text msgid")
    context = data.get("msgctxt")
    if context is not None and not isinstance(context, str):
        raise InputError(f"{path}.msgctxt", "expected text")
    raw = data.get("params", {})
    if not isinstance(raw, Mapping):
        raise InputError(f"{path}.params", "expected an object")
    params: list[tuple[str, Param]] = []
    for name, value in raw.items():
        if isinstance(value, str):
            params.append((str(name), value))
        else:
            params.append((str(name), message_from_json(value, path=f"{path}.params.{name}")))
    return Message(str(data["msgid"]), context, tuple(sorted(params)))


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
    """A deferred :class:`Message` in ``lang``, its parameters filled in (translated where they are messages).

    A translation whose placeholders do not match the English (a catalogue error ``scripts/i18n.py check``
    reports) falls back to the English rather than failing the page.
    """
    text = _lookup(lang, message.context, message.text)
    if not message.params:
        return text
    values = {
        name: translate_message(lang, value) if isinstance(value, Message) else value for name, value in message.params
    }
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):
        return message.text.format(**values)


def bilingual(message: Message, separator: str = " ") -> str:
    """English, ``separator``, then Chinese (from the catalogue): how a bilingual certificate prints a text.

    >>> bilingual(NP_("certificate", "pass"))
    'pass 合格'
    """
    return translate_message("en", message) + separator + translate_message("zh", message)


def error_text(lang: str, error: Exception) -> str:
    """A domain error as a reader sees it in ``lang``: the reason from the catalogue where the error carries it as
    a catalogue text (``template`` and ``params``, e.g. :class:`~hengqi.errors.SpecificationError`), its field path
    and the rule it names kept as they are; any other error as its English text.

    >>> from hengqi.errors import SpecificationError
    >>> err = SpecificationError("max", "Min = 1 g is below the lower limit 2 g for class II", rule="R 76 3.2",
    ...     template="Min = {min} is below the lower limit {lower} for class {cls}",
    ...     params={"min": "1 g", "lower": "2 g", "cls": "II"})
    >>> error_text("en", err) == str(err)
    True
    >>> error_text("zh", err)
    'max: Min = 1 g 低于 II 级的下限 2 g (R 76 3.2)'
    """
    template = getattr(error, "template", None)
    params = getattr(error, "params", None)
    if not isinstance(template, str) or not isinstance(params, Mapping):
        return str(error)
    reason = translate_message(
        lang, Message(template, None, tuple(sorted((str(k), str(v)) for k, v in params.items())))
    )
    rule = getattr(error, "rule", None)
    if rule:
        reason = f"{reason} ({rule})"
    path = getattr(error, "path", "")
    return f"{path}: {reason}" if path else reason


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
