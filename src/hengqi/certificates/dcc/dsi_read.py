"""Reading D-SI quantities (``si:real``, ``si:realListXMLList``) in the current and the deprecated forms.

D-SI 2.2.1 writes uncertainties as ``si:measurementUncertaintyUnivariate/si:expandedMU`` (and the ``XMLList``
variants); D-SI 2.0.0 / DCC 3.0.0 files use the deprecated ``si:expandedUnc`` (``si:uncertainty``,
``si:coverageFactor``) and ``si:expandedUncXMLList`` (PTB ``SI_Format.xsd`` 2.2.1, elements marked deprecated;
PTB's silicon-sphere DCC 3.0.0).  Both are read here into one shape.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from hengqi.certificates.dcc.vocabulary import DCC_NS, SI_NS
from hengqi.certificates.errors import DccFormatError

Element = etree._Element
NS = {"dcc": DCC_NS, "si": SI_NS}


@dataclass(frozen=True, slots=True)
class RealValue:
    """One ``si:real`` as written: value text, unit, and the expanded uncertainty (``U``, ``k``) if any."""

    value: str
    unit: str
    expanded_u: str | None = None
    coverage_factor: str | None = None
    coverage_probability: str | None = None


@dataclass(frozen=True, slots=True)
class RealList:
    """One ``si:realListXMLList``: value texts, units (one per value), labels, expanded uncertainties and k."""

    values: tuple[str, ...]
    units: tuple[str, ...]
    labels: tuple[str, ...] = ()
    expanded_u: tuple[str, ...] = ()
    coverage_factors: tuple[str, ...] = ()


def where(el: Element) -> str:
    """An XPath-like location for messages, with the line."""
    tree = el.getroottree()
    path = tree.getpath(el)
    return f"{path} (line {el.sourceline})" if el.sourceline else path


def _text(el: Element | None, name: str, *, parent: Element) -> str:
    if el is None or el.text is None or not el.text.strip():
        raise DccFormatError(where(parent), f"missing {name}")
    return el.text.strip()


def read_real(real: Element) -> RealValue:
    value = _text(real.find("si:value", NS), "si:value", parent=real)
    unit = _text(real.find("si:unit", NS), "si:unit", parent=real)
    mu = real.find("si:measurementUncertaintyUnivariate/si:expandedMU", NS)
    if mu is not None:
        return RealValue(
            value,
            unit,
            _text(mu.find("si:valueExpandedMU", NS), "si:valueExpandedMU", parent=mu),
            _text(mu.find("si:coverageFactor", NS), "si:coverageFactor", parent=mu),
            _text(mu.find("si:coverageProbability", NS), "si:coverageProbability", parent=mu),
        )
    old = real.find("si:expandedUnc", NS)
    if old is not None:
        return RealValue(
            value,
            unit,
            _text(old.find("si:uncertainty", NS), "si:uncertainty", parent=old),
            _text(old.find("si:coverageFactor", NS), "si:coverageFactor", parent=old),
            _text(old.find("si:coverageProbability", NS), "si:coverageProbability", parent=old),
        )
    return RealValue(value, unit)


def _broadcast(items: list[str], n: int, what: str, el: Element) -> tuple[str, ...]:
    if len(items) == n:
        return tuple(items)
    if len(items) == 1:
        return tuple(items * n)
    raise DccFormatError(where(el), f"{what} has {len(items)} entries for {n} values")


def read_real_list(lst: Element) -> RealList:
    values = _text(lst.find("si:valueXMLList", NS), "si:valueXMLList", parent=lst).split()
    units = _broadcast(
        _text(lst.find("si:unitXMLList", NS), "si:unitXMLList", parent=lst).split(), len(values), "unitXMLList", lst
    )
    label_el = lst.find("si:labelXMLList", NS)
    labels = tuple(label_el.text.split()) if label_el is not None and label_el.text else ()
    mu = lst.find("si:measurementUncertaintyUnivariateXMLList/si:expandedMUXMLList", NS)
    u_tag = "si:valueExpandedMUXMLList"
    if mu is None:
        mu = lst.find("si:expandedUncXMLList", NS)
        u_tag = "si:uncertaintyXMLList"
    if mu is None:
        return RealList(tuple(values), units, labels)
    u = _broadcast(_text(mu.find(u_tag, NS), u_tag, parent=mu).split(), len(values), u_tag, mu)
    k_tag = "si:coverageFactorXMLList"
    k = _broadcast(_text(mu.find(k_tag, NS), k_tag, parent=mu).split(), len(values), k_tag, mu)
    return RealList(tuple(values), units, labels, u, k)
