"""Checks on a statement's parameters made before it reaches the driver."""

from __future__ import annotations

from collections.abc import Mapping

from hengqi.errors import InputError


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_has_nul(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


def refuse_nul_parameters(parameters: object) -> None:
    """:class:`~hengqi.errors.InputError` if a statement's parameters hold text with a NUL character (U+0000):
    PostgreSQL cannot store it, and SQLite would store text that a C reader sees cut short
    (:func:`hengqi.server.db.engine._refuse_nul` calls this before every statement; :mod:`hengqi.server.db.direct`
    before each of its own).

    >>> refuse_nul_parameters({"name": "a\\x00b"})
    Traceback (most recent call last):
    ...
    hengqi.errors.InputError: text: a NUL character (U+0000) is not accepted in text
    """
    if parameters and _has_nul(parameters):
        raise InputError("text", "a NUL character (U+0000) is not accepted in text")
