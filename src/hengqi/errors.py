"""One exception tree for the whole project, with structured fields.

Every error hengqi raises derives from :class:`HengqiError`.  Errors caused by bad input derive from
:class:`InputError` (also a :class:`ValueError`), carry the *path* of the offending field (``"tests.weighing[2].load"``)
and a *reason*, so that the CLI can print one clear line and exit 2 and the server can answer 4xx.
Foreign errors are translated at the boundary with ``raise ... from err``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class HengqiError(Exception):
    """Root of every error hengqi raises.

    ``code`` is a stable machine-readable identifier (used in JSON error bodies); ``details`` holds structured
    fields for whoever reports the error.
    """

    code: str = "hengqi_error"

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its fields rather than by calling ``__init__`` again (whose arguments differ from class to
        class), so that an error raised in another process (:mod:`hengqi.server.rendering`) reaches the caller
        whole, with its class, path and details."""
        return (_rebuilt, (type(self), self.args, dict(self.__dict__)))


def _rebuilt(cls: type[HengqiError], args: tuple[Any, ...], fields: dict[str, Any]) -> HengqiError:
    """The error pickled by :meth:`HengqiError.__reduce__`."""
    err = cls.__new__(cls)
    err.args = args
    err.__dict__.update(fields)
    return err


class InputError(HengqiError, ValueError):
    """Malformed or inconsistent input, naming the field path and the reason.

    >>> str(InputError("load", "must not be negative"))
    'load: must not be negative'
    """

    code = "invalid_input"

    def __init__(self, path: str, reason: str, *, details: Mapping[str, Any] | None = None) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}" if path else reason, details=details)

    def at(self, prefix: str) -> InputError:
        """The same error, with ``prefix`` put in front of its field path (for nested records)."""
        path = f"{prefix}.{self.path}" if self.path and not self.path.startswith("[") else f"{prefix}{self.path}"
        err = type(self).__new__(type(self))
        err.__dict__.update(self.__dict__)  # keep subclass fields (e.g. SpecificationError.rule)
        InputError.__init__(err, path, self.reason, details=self.details)
        return err


class UnitError(InputError):
    """A quantity with a unit that is unknown or of the wrong kind.

    ``template`` and ``params``, where given, are the reason as a catalogue text (as :class:`FieldError`'s), shown
    in the reader's language by :func:`hengqi.locale.error_text`; ``reason`` is the English text as given.
    """

    code = "invalid_unit"

    def __init__(
        self,
        path: str,
        reason: str,
        *,
        template: str | None = None,
        params: Mapping[str, str] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self.template = template
        self.params = dict(params or {})
        super().__init__(path, reason, details=details)


def N_(text: str) -> str:  # noqa: N802 (the gettext convention)
    """Mark an English text for the catalogue's extraction (:mod:`hengqi.locale`); it is returned unchanged.

    The core below the server raises its errors in English; a text marked here, with its parameters, lets a page
    show the error in the reader's language (:func:`hengqi.locale.error_text`).
    """
    return text


class SpecificationError(InputError):
    """An instrument specification that breaks a rule of its accuracy class; ``rule`` names the clause.

    ``template`` and ``params``, where given, are the reason as a catalogue text (English msgid with ``{name}``
    placeholders, marked with :func:`N_`) and its values; ``reason`` is that text filled in.
    """

    code = "invalid_specification"

    def __init__(
        self,
        path: str,
        reason: str,
        *,
        rule: str,
        template: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> None:
        self.rule = rule
        self.template = template
        self.params = dict(params or {})
        super().__init__(path, f"{reason} ({rule})", details={"rule": rule})


class FieldError(InputError):
    """A field's value refused for a common reason (required, not a number, not one of the choices, a date in the
    future), the reason as a catalogue text: ``template`` (English msgid with ``{name}`` placeholders, marked with
    :func:`N_`) and ``params``; ``reason`` is that text filled in (shown in the reader's language by
    :func:`hengqi.locale.error_text`).

    >>> str(FieldError("max", template="not a number"))
    'max: not a number'
    """

    def __init__(self, path: str, *, template: str, params: Mapping[str, str] | None = None) -> None:
        self.template = template
        self.params = dict(params or {})
        super().__init__(path, template.format(**self.params))


class RecordError(InputError):
    """A record file (test record, model file, configuration) that cannot be read or is invalid."""

    code = "invalid_record"


class RuleSetError(InputError):
    """An unknown rule set, or a request the chosen rule set does not cover."""

    code = "unknown_rule_set"


class NotCoveredError(InputError):
    """A value outside the range a table or rule covers (e.g. a weight nominal value R 111 does not define)."""

    code = "not_covered"
