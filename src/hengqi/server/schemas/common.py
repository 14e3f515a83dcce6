"""Types shared by the API's schemas: exact masses, pages, errors."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema

from hengqi.metrology.quantities import parse_mass
from hengqi.server.db.types import plain_decimal

#: What the database keeps exactly (PostgreSQL NUMERIC(38, 18)): at most 18 decimals and 20 integer digits.
MAX_DECIMALS = 18
MAX_MAGNITUDE = Decimal(10) ** 12


def storable(value: Decimal) -> Decimal:
    """``value`` if the database can keep it exactly; else :class:`ValueError` (never a silent rounding).

    >>> storable(Decimal("0.000000001"))
    Decimal('1E-9')
    >>> storable(Decimal("1E-19"))
    Traceback (most recent call last):
    ...
    ValueError: more than 18 decimal places cannot be stored exactly
    """
    exponent = plain_decimal(value).as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMALS:
        raise ValueError(f"more than {MAX_DECIMALS} decimal places cannot be stored exactly")
    if abs(value) >= MAX_MAGNITUDE:
        raise ValueError(f"magnitude must be below {MAX_MAGNITUDE:,}")
    return value


def _mass_in(value: object) -> Decimal:
    return storable(parse_mass(value, path="mass", default_unit="kg"))


def _signed_mass_in(value: object) -> Decimal:
    return storable(parse_mass(value, path="mass", default_unit="kg", allow_negative=True))


def _decimal_in(value: object) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, str) and not value.isascii():  # Decimal() reads other scripts' digits ("١٠٠") too
        raise ValueError(f"not a decimal number written with the digits 0-9: {value!r}")
    try:
        result = Decimal(str(value)) if isinstance(value, int | float | str) else Decimal(value)  # type: ignore[arg-type]
    except Exception as err:
        raise ValueError(f"not a decimal number: {value!r}") from err
    if not result.is_finite():
        raise ValueError("must be finite")
    return storable(result)


def _exact_out(value: Decimal) -> str:
    return format(plain_decimal(value), "f")


_IN_SCHEMA = WithJsonSchema(
    {
        "anyOf": [
            {"type": "number", "minimum": 0},
            {"type": "string", "pattern": r"^\d{1,9}(\.\d{1,9})?( ?(kg|g|mg|t))?$"},
        ],
        "description": "a mass in kilograms, or text with a unit ('220 g'); kept exact",
    },
    mode="validation",
)
_SIGNED_IN_SCHEMA = WithJsonSchema(
    {
        "anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^-?\d{1,9}(\.\d{1,9})?( ?(kg|g|mg))?$"}],
        "description": "a signed mass in kilograms, or text with a unit ('-0.2 mg'); kept exact",
    },
    mode="validation",
)
_OUT = PlainSerializer(_exact_out, return_type=str, when_used="json")
_OUT_SCHEMA = WithJsonSchema({"type": "string", "description": "exact decimal (kg for masses)"}, mode="serialization")

#: A non-negative mass in kg; JSON input number or text with unit, JSON output exact decimal text.
Mass = Annotated[Decimal, BeforeValidator(_mass_in), _OUT, _IN_SCHEMA, _OUT_SCHEMA]
#: A stored mass in kg in a response body: the value read from the database (exact, checked when it was written)
#: is taken as it is, without :data:`Mass`'s parsing of client input (which cost most of a list's time: six masses
#: per instrument); JSON output as :data:`Mass`, exact decimal text.
MassOut = Annotated[Decimal, _OUT, _OUT_SCHEMA]
#: A signed mass (a correction), kg.
SignedMass = Annotated[Decimal, BeforeValidator(_signed_mass_in), _OUT, _SIGNED_IN_SCHEMA, _OUT_SCHEMA]
#: An exact decimal number (coordinates, coverage factors).
ExactNumber = Annotated[
    Decimal,
    BeforeValidator(_decimal_in),
    _OUT,
    WithJsonSchema(
        {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^-?\d{1,9}(\.\d{1,12})?$"}]}, mode="validation"
    ),
    _OUT_SCHEMA,
]

#: The id of a record (a 32-bit positive integer, as every backend stores it).
RecordId = Annotated[int, Field(ge=1, le=2**31 - 1)]

Text100 = Annotated[str, Field(min_length=1, max_length=100)]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]


class Schema(BaseModel):
    """Base of request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


#: The version of a record as read (its ETag without quotes); a change naming an older one is refused (412).
RowVersion = Annotated[
    int,
    Field(
        ge=1,
        le=2**31 - 1,
        description="the row_version the change is based on (as read); refused with 412 when no longer current",
    ),
]


class VersionedUpdate(Schema):
    """Base of change requests: ``row_version`` (optional, like ``If-Match``) refuses a change to a newer version."""

    row_version: RowVersion | None = None


class PublicSchema(BaseModel):
    """Base of response bodies, read from ORM objects."""

    model_config = ConfigDict(from_attributes=True)


class OwnedPublic(PublicSchema):
    id: int
    organisation_id: int
    row_version: int
    created_at: datetime
    updated_at: datetime


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list, with the total number of matching items."""

    items: list[T]
    total: int
    limit: int
    offset: int


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    """Every error answer: ``{"error": {"code": ..., "message": ..., "details": ...}}``."""

    error: ErrorBody
