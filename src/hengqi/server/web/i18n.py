"""The web interface's languages, English and Simplified Chinese (zh-CN), through the gettext catalogue.

The language comes from the ``hengqi_lang`` cookie (set by the switch in the page header), else from the
browser's ``Accept-Language``, else English.  Texts are translated by :mod:`hengqi.locale` (the ``.po``
catalogue); templates call ``_('English')`` / ``pgettext(context, 'English')`` through Jinja2's
``jinja2.ext.i18n`` (installed by :func:`install`), with ``format_date`` / ``format_datetime`` /
``format_decimal`` filters formatting per locale.

``translate(lang, key)`` and the templates' ``t(key)`` turn a *key* into text (keys that travel as data,
:mod:`hengqi.server.web.terms`).  :data:`MESSAGES` is the compatibility path for code written against the earlier
hand-kept key -> (English, Chinese) tables: an entry added there still shows, in both languages, until
``scripts/i18n_import_tables.py`` moves it into the catalogue (see docs/web.md, "Translations").

>>> negotiate(None, "zh-CN,zh;q=0.9,en;q=0.8"), negotiate("en", "zh-CN"), negotiate(None, "fr")
('zh', 'en', 'en')
>>> translate("zh", "nav.instruments"), translate("en", "no.such.key")
('衡器', 'no.such.key')
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from hengqi import locale
from hengqi.server.web.terms import TERMS

LANG_COOKIE: Final = "hengqi_lang"
LANGUAGES: Final = ("en", "zh")

#: Deprecated compatibility path: key -> (English, Chinese).  Empty in the catalogue's world; an entry that code
#: written the earlier way adds still works, and ``scripts/i18n_import_tables.py`` moves it into the catalogue.
MESSAGES: Final[dict[str, tuple[str, str]]] = {}


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The interface language: the cookie's if known, else the first known one of ``Accept-Language``."""
    if cookie in LANGUAGES:
        return str(cookie)
    for part in (accept_language or "").split(","):
        tag = part.split(";", 1)[0].strip().lower()
        primary = tag.split("-", 1)[0]
        if primary in LANGUAGES:
            return primary
    return "en"


def translate(lang: str, key: str) -> str:
    """The text of ``key`` in ``lang`` (the key itself, recorded as a miss, where no text has that key)."""
    legacy = MESSAGES.get(key)
    if legacy is not None:
        english, chinese = legacy
        if lang != "zh":
            return english
        found = locale.catalogue(lang)
        return found.get((key, english)) or found.get((None, english)) or chinese
    message = TERMS.get(key)
    if message is None:
        return locale.translate_message(lang, locale.Message(key, "unknown key")) if lang != "en" else key
    return locale.translate_message(lang, message)


def gettext(lang: str, text: str) -> str:
    """``text`` (English) in ``lang`` (:func:`hengqi.locale.gettext`)."""
    return locale.gettext(lang, text)


def _lang(context: Context) -> str:
    return str(context.get("lang") or "en")


@pass_context
def _gettext(context: Context, text: str) -> str:
    return locale.gettext(_lang(context), text)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return locale.ngettext(_lang(context), singular, plural, n)


@pass_context
def _pgettext(context: Context, message_context: str, text: str) -> str:
    return locale.pgettext(_lang(context), message_context, text)


@pass_context
def _npgettext(context: Context, message_context: str, singular: str, plural: str, n: int) -> str:
    return locale.pgettext(_lang(context), message_context, singular if n == 1 else plural)


@pass_context
def _format_date(context: Context, value: date | datetime | str | None, form: str = "medium") -> str:
    return locale.format_date(value, _lang(context), form)


@pass_context
def _format_datetime(context: Context, value: datetime | None, form: str = "medium") -> str:
    return locale.format_datetime(value, _lang(context), form)


@pass_context
def _format_decimal(context: Context, value: Decimal | float | int | None) -> str:
    return locale.format_decimal(value, _lang(context))


def install(env: Environment) -> None:
    """Jinja2's i18n extension on ``env``: ``_``, ``gettext``, ``ngettext``, ``pgettext`` and ``{% trans %}``
    translate into the page's ``lang``; ``format_date``, ``format_datetime`` and ``format_decimal`` filters."""
    env.add_extension("jinja2.ext.i18n")
    install_callables: Any = getattr(env, "install_gettext_callables")  # noqa: B009 (added by the extension)
    install_callables(_gettext, _ngettext, newstyle=False, pgettext=_pgettext, npgettext=_npgettext)
    env.filters.update(format_date=_format_date, format_datetime=_format_datetime, format_decimal=_format_decimal)
