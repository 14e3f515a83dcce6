"""Deprecated: the lab management screens' texts are in the gettext catalogue (:mod:`hengqi.locale`).

:data:`LAB_MESSAGES` (key -> (English, Chinese)) remains as the compatibility path for code written against the
earlier tables: an entry added here still shows, in both languages, through ``translate``/``t()``, until
``scripts/i18n_import_tables.py`` moves it into the catalogue and empties this table (docs/web.md, "Translations").

>>> from hengqi.server.web.i18n import translate
>>> translate("zh", "reg.customers")
'客户'
"""

from __future__ import annotations

from typing import Final

from hengqi.server.web.i18n import MESSAGES

#: key -> (English, Chinese): deprecated, see the module's docstring
LAB_MESSAGES: Final[dict[str, tuple[str, str]]] = {}

MESSAGES.update(LAB_MESSAGES)
