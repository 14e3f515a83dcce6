"""Column types that keep values exact and portable between SQLite and PostgreSQL.

* :class:`ExactDecimal`: masses and coordinates as exact decimals: PostgreSQL ``NUMERIC`` (exact, sortable), SQLite
  ``VARCHAR`` text (SQLite's NUMERIC affinity would turn them into binary floats).  Never a float.
* :class:`UTCDateTime`: timezone-aware UTC instants stored as naive UTC, read back aware on every backend.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import DateTime, TypeDecorator, TypeEngine


class ExactDecimal(TypeDecorator[Decimal]):
    """An exact decimal: ``NUMERIC`` on PostgreSQL, canonical text on SQLite.

    >>> ExactDecimal().process_bind_param(Decimal("0.100"), None)
    '0.100'
    """

    impl = String(64)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(precision=38, scale=18, asdecimal=True))
        return dialect.type_descriptor(String(64))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect | None) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            value = Decimal(str(value))
        if dialect is not None and dialect.name == "postgresql":
            return value
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        # NUMERIC(38, 18) pads with zeros: give back the shortest exact form on every backend.
        return plain_from_text(value if isinstance(value, str) else str(value))


@lru_cache(maxsize=8192)
def plain_from_text(text: str) -> Decimal:
    """:func:`plain_decimal` of the decimal written ``text``, remembered by its text (the same few values, 15,
    0.005, 0.1, come back in row after row of a list; a :class:`Decimal` is immutable, so one can be shared).
    Keyed by the text, not the number: ``Decimal("-0") == Decimal("0")`` but they read back differently.

    >>> plain_from_text("15.000000000000000000"), plain_from_text("-0")
    (Decimal('15'), Decimal('-0'))
    """
    return plain_decimal(Decimal(text))


def plain_decimal(value: Decimal) -> Decimal:
    """``value`` without trailing zeros and without an exponent.

    >>> plain_decimal(Decimal("10.000000")), plain_decimal(Decimal("0.50"))
    (Decimal('10'), Decimal('0.5'))
    """
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return Decimal(text)


class UTCDateTime(TypeDecorator[datetime]):
    """A UTC instant: stored naive UTC, read back timezone-aware (UTC)."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current instant in UTC (aware), to microseconds."""
    return datetime.now(UTC)
