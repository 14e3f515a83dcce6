"""Typed errors of the supervision layer, all under :class:`hengqi.errors.HengqiError`.

>>> err = TelemetryError("payload.metrics[3]", "truncated varint")
>>> isinstance(err, ValueError), err.reason_class
(True, 'malformed')
"""

from __future__ import annotations

from typing import Any

from hengqi.errors import InputError


class TelemetryError(InputError):
    """A telemetry message that cannot be accepted; ``reason_class`` is the refusal counter it belongs to.

    The classes are ``malformed`` (cannot be decoded or fails the telemetry schema), ``oversized`` (over the size
    limit), ``topic`` (a topic outside the Sparkplug B namespace or of an unknown message type).
    """

    code = "invalid_telemetry"

    def __init__(
        self, path: str, reason: str, *, reason_class: str = "malformed", details: dict[str, Any] | None = None
    ) -> None:
        self.reason_class = reason_class
        super().__init__(path, reason, details={"reason_class": reason_class, **(details or {})})
