"""Small lxml builders for DCC / D-SI elements (text in several languages, ``si:real``, ``si:realListXMLList``)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from lxml import etree

from hengqi.certificates.dcc.vocabulary import COVERAGE_PROBABILITY, DCC_NS, NAMES, ONE, SI_NS, plain

Element = etree._Element


def dcc(parent: Element | None, tag: str, text: str | None = None, **attrib: str) -> Element:
    """A ``dcc:`` element (appended to ``parent`` when given)."""
    qname = f"{{{DCC_NS}}}{tag}"
    el = etree.Element(qname, attrib) if parent is None else etree.SubElement(parent, qname, attrib)
    if text is not None:
        el.text = text
    return el


def si(parent: Element, tag: str, text: str | None = None) -> Element:
    el = etree.SubElement(parent, f"{{{SI_NS}}}{tag}")
    if text is not None:
        el.text = text
    return el


def text_block(parent: Element, tag: str, texts: Mapping[str, str], *, with_lang: bool = True) -> Element:
    """``<dcc:tag><dcc:content lang="en">..</dcc:content><dcc:content lang="zh">..</dcc:content></dcc:tag>``."""
    el = dcc(parent, tag)
    for lang, value in texts.items():
        if with_lang:
            dcc(el, "content", value, lang=lang)
        else:
            dcc(el, "content", value)
    return el


def name_of(ref_type: str) -> dict[str, str]:
    en, zh = NAMES[ref_type]
    return {"en": en, "zh": zh}


def named(parent: Element, tag: str, ref_type: str, names: Mapping[str, str] | None = None) -> Element:
    """An element with ``refType`` and its bilingual ``dcc:name``."""
    el = dcc(parent, tag, refType=ref_type)
    text_block(el, "name", names or name_of(ref_type))
    return el


def expanded_mu(parent: Element, u_text: str, k: float) -> None:
    mu = si(si(parent, "measurementUncertaintyUnivariate"), "expandedMU")
    si(mu, "valueExpandedMU", u_text)
    si(mu, "coverageFactor", plain(k))
    si(mu, "coverageProbability", COVERAGE_PROBABILITY)


def real_quantity(
    parent: Element,
    ref_type: str,
    value: str,
    unit: str,
    *,
    expanded: tuple[str, float] | None = None,
    names: Mapping[str, str] | None = None,
) -> Element:
    """``dcc:quantity`` holding one ``si:real`` (with ``si:expandedMU`` when ``expanded = (U, k)``)."""
    q = named(parent, "quantity", ref_type, names)
    real = si(q, "real")
    si(real, "value", value)
    si(real, "unit", unit)
    if expanded is not None:
        expanded_mu(real, *expanded)
    return q


def list_quantity(
    parent: Element,
    ref_type: str,
    values: Sequence[str],
    unit: str,
    *,
    labels: Sequence[str] | None = None,
    expanded: tuple[Sequence[str], Sequence[float]] | None = None,
    k_texts: Sequence[str] | None = None,
    distribution: str | None = None,
) -> Element:
    """``dcc:quantity`` holding one ``si:realListXMLList`` (one unit for all values); ``expanded = (U, k)`` adds
    ``si:expandedMUXMLList`` (``k_texts`` writes k as given, ``distribution`` adds ``si:distributionXMLList``)."""
    q = named(parent, "quantity", ref_type)
    lst = si(q, "realListXMLList")
    if labels is not None:
        si(lst, "labelXMLList", " ".join(labels))
    si(lst, "valueXMLList", " ".join(values))
    si(lst, "unitXMLList", unit)
    if expanded is not None:
        u_values, ks = expanded
        mu = si(si(lst, "measurementUncertaintyUnivariateXMLList"), "expandedMUXMLList")
        si(mu, "valueExpandedMUXMLList", " ".join(u_values))
        si(mu, "coverageFactorXMLList", " ".join(k_texts) if k_texts is not None else " ".join(plain(k) for k in ks))
        si(mu, "coverageProbabilityXMLList", COVERAGE_PROBABILITY)
        if distribution is not None:
            si(mu, "distributionXMLList", distribution)
    return q


def chars_quantity(parent: Element, ref_type: str, tokens: Iterable[str]) -> Element:
    """``dcc:quantity`` holding a ``dcc:charsXMLList`` of whitespace-free tokens."""
    q = named(parent, "quantity", ref_type)
    words = list(tokens)
    for word in words:
        if not word or any(c.isspace() for c in word):
            raise ValueError(f"token {word!r} may not be empty or contain spaces")
    dcc(q, "charsXMLList", " ".join(words))
    return q


def text_quantity(parent: Element, ref_type: str, value: str) -> Element:
    """``dcc:quantity`` holding text (``dcc:noQuantity``), e.g. a load position label with spaces."""
    q = named(parent, "quantity", ref_type)
    nq = dcc(q, "noQuantity")
    dcc(nq, "content", value)
    return q


def dof_quantity(parent: Element, ref_type: str, dofs: Sequence[float]) -> Element:
    """Degrees of freedom as numbers (``si:realListXMLList`` in ``\\one``) where all are finite; D-SI numbers
    cannot be infinite, so a list with an infinite value is written as tokens (``inf``)."""
    if all(math.isfinite(d) for d in dofs):
        return list_quantity(parent, ref_type, [plain(float(d)) for d in dofs], ONE)
    return chars_quantity(parent, ref_type, [dof_token(d) for d in dofs])


def dof_token(dof: float) -> str:
    """Degrees of freedom as a token: ``inf`` for infinity (D-SI numbers cannot be infinite)."""
    return "inf" if dof == float("inf") else plain(float(dof))


def decimal_tokens(values: Iterable[Decimal]) -> list[str]:
    return [plain(v) for v in values]
