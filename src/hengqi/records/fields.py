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

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from hengqi.errors import InputError
from hengqi.metrology.quantities import format_mass, parse_mass

_EXAMPLES = ["220 g", "0.1 mg", "15 kg", "30 t"]


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
