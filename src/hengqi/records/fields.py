"""Field types shared by record models: masses written with their units, held as exact kilograms.

A mass field accepts text such as ``"220 g"``, ``"0.1 mg"``, ``"60 kg"`` or ``"30 t"`` (parsed exactly by
:func:`hengqi.metrology.quantities.parse_mass`); a bare number is refused because its unit would be a guess.
The reason given by the parser becomes the validation message, so that the error names the field and the
reason (``tests.weighing.points[2].indication: unknown mass unit 'kgs' ...``).  Serialised back, a mass is
written in the largest unit that keeps its number at least 1.

>>> from pydantic import TypeAdapter
>>> TypeAdapter(Mass).validate_python("220 g")
Decimal('0.220')
>>> TypeAdapter(SignedMass).validate_python("-5 g")
Decimal('-0.005')
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from hengqi.errors import InputError
from hengqi.metrology.quantities import format_mass, parse_mass

_EXAMPLES = ["220 g", "0.1 mg", "15 kg", "30 t"]

#: Characters XML 1.0 cannot hold (W3C XML 1.0, 2.2 Characters: Char production): C0 controls other than tab,
#: line feed and carriage return, lone surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def refuse_unwritable_text(value: Any) -> Any:
    """``value`` unchanged, or :class:`ValueError` if a text in it (or in a list or mapping of it) holds a character
    that a certificate (XML 1.0, W3C XML 1.0 section 2.2) cannot hold; for use as a pydantic ``after`` validator.

    >>> refuse_unwritable_text(["ok", "tab\\tok"])
    ['ok', 'tab\\tok']
    >>> refuse_unwritable_text("bell\\x07")
    Traceback (most recent call last):
    ...
    ValueError: contains the control character U+0007, which a certificate cannot hold
    """
    texts = [value] if isinstance(value, str) else []
    if isinstance(value, list | tuple):
        texts = [item for item in value if isinstance(item, str)]
    elif isinstance(value, dict):
        texts = [item for pair in value.items() for item in pair if isinstance(item, str)]
    for text in texts:
        found = _NOT_XML.search(text)
        if found is not None:
            raise ValueError(
                f"contains the control character U+{ord(found.group()):04X}, which a certificate cannot hold"
            )
    return value


def _mass_validator(*, allow_negative: bool, positive: bool) -> Callable[[Any], Decimal]:
    def validate(value: Any) -> Decimal:
        try:
            kg = parse_mass(value, path="", allow_negative=allow_negative)
        except InputError as err:
            raise PydanticCustomError("mass", "{reason}", {"reason": err.reason}) from None
        if positive and kg <= 0:
            raise PydanticCustomError("mass", "must be greater than zero, got {value}", {"value": str(value)})
        return kg

    return validate


def _schema(description: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "description": description, "examples": _EXAMPLES})


_SERIALIZE = PlainSerializer(format_mass, return_type=str)

#: A mass that is zero or more (a load), written with its unit.
Mass = Annotated[
    Decimal,
    PlainValidator(_mass_validator(allow_negative=False, positive=False)),
    _schema("A mass with its unit (t, kg, g, mg, µg, lb, oz), zero or more, e.g. '220 g'."),
    _SERIALIZE,
]
#: A mass greater than zero (Max, e, a nominal value, an uncertainty), written with its unit.
PositiveMass = Annotated[
    Decimal,
    PlainValidator(_mass_validator(allow_negative=False, positive=True)),
    _schema("A mass with its unit (t, kg, g, mg, µg, lb, oz), greater than zero, e.g. '5 g'."),
    _SERIALIZE,
]
#: A mass that may be negative (an indication, a correction), written with its unit.
SignedMass = Annotated[
    Decimal,
    PlainValidator(_mass_validator(allow_negative=True, positive=False)),
    _schema("A mass with its unit (t, kg, g, mg, µg, lb, oz), may be negative, e.g. '-5 g'."),
    _SERIALIZE,
]
