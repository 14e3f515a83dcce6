"""One line of text for an XML syntax error, to put in a refusal.

libxml2's messages may carry line breaks (e.g. ``Char 0x0 out of allowed range\\n, line 767, column 44``): a
refusal is one line on a terminal, in a log and in an HTTP answer, so the message's whitespace is collapsed.

>>> from lxml import etree
>>> try:
...     etree.fromstring(b"<a>\\x00</a>")
... except etree.XMLSyntaxError as err:
...     "\\n" in xml_syntax_text(err)
False
"""

from __future__ import annotations

from lxml import etree


def xml_syntax_text(err: etree.XMLSyntaxError) -> str:
    """``err``'s message on one line (runs of whitespace, line breaks included, become one space)."""
    return " ".join(str(err).split())
