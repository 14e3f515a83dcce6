"""Typed errors of the instrument layer, all under :class:`hengqi.errors.HengqiError`.

Each error names the instrument address (``url``) it concerns, so that one line on the command line says which
device failed and why.  Replies a balance gives in its own words (MT-SICS ``I``, ``+``, ``-``, ``ES``, ``ET``,
``EL``; SBI ``Stat`` lines; A&D ``OL`` and ``EC`` lines) become the subclasses of :class:`ScaleCommandError`;
silence, partial lines and stray bytes become :class:`TransportTimeout` or :class:`ScaleReplyError`.

>>> err = ScaleOverloadError("tcp://127.0.0.1:4001", "S", "S +")
>>> isinstance(err, ScaleRangeError), str(err)
(True, "tcp://127.0.0.1:4001: overload (weighing range exceeded) in reply to 'S': 'S +'")
>>> isinstance(TransportTimeout("loop://", "no reply within 1 s"), TimeoutError)
True
"""

from __future__ import annotations

from typing import Any

from hengqi.errors import HengqiError, InputError


class AddressError(InputError):
    """An instrument address (URL) that cannot be understood: unknown scheme, bad option, bad value."""

    code = "invalid_instrument_address"


class FrameError(HengqiError, ValueError):
    """A protocol codec could not decode a line or frame (raised by the pure codecs, which know no address).

    Drivers translate it into :class:`ScaleReplyError` naming the instrument.
    """

    code = "frame_error"

    def __init__(self, message: str, raw: str | bytes = "") -> None:
        self.raw = raw if isinstance(raw, str) else raw.decode("latin-1")
        super().__init__(f"{message}: {self.raw!r}" if self.raw else message, details={"raw": self.raw})


class ScaleError(HengqiError):
    """Anything that went wrong while talking to a scale at ``url``."""

    code = "scale_error"

    def __init__(self, url: str, message: str, **details: Any) -> None:
        self.url = url
        super().__init__(f"{url}: {message}" if url else message, details={"url": url, **details})


class TransportError(ScaleError, OSError):
    """The line to the instrument cannot be opened, broke, or was closed."""

    code = "transport_error"


class LineSettingsError(TransportError):
    """The port exists but refuses the requested baud rate, data bits, parity or stop bits (``termios`` refusal)."""

    code = "line_settings_refused"


class TransportTimeout(TransportError, TimeoutError):
    """No (complete) reply within the read timeout; ``partial`` holds any bytes that did arrive."""

    code = "transport_timeout"

    def __init__(self, url: str, message: str, *, partial: bytes = b"") -> None:
        self.partial = partial
        super().__init__(url, message, partial=partial.decode("latin-1"))


class TransportClosed(TransportError, ConnectionError):
    """The peer closed the connection (or the port vanished)."""

    code = "transport_closed"


class ScaleReplyError(ScaleError):
    """A reply that cannot be decoded: garbage, stray bytes, a line that is too long, a wrong field."""

    code = "scale_reply_error"

    def __init__(self, url: str, message: str, *, raw: str = "") -> None:
        self.raw = raw
        super().__init__(url, f"{message}: {raw!r}" if raw else message, raw=raw)


class ProtocolMismatchError(ScaleReplyError):
    """The device answers, but not in the protocol the address names (wrong protocol or line settings)."""

    code = "protocol_mismatch"


class ScaleCommandError(ScaleError):
    """The instrument refused or could not execute a command; ``command`` and the ``reply`` are kept."""

    code = "scale_command_error"
    meaning = "command refused"

    def __init__(self, url: str, command: str, reply: str, meaning: str | None = None) -> None:
        self.command = command
        self.reply = reply
        text = meaning or self.meaning
        super().__init__(url, f"{text} in reply to {command!r}: {reply!r}", command=command, reply=reply)


class ScaleNotExecutableError(ScaleCommandError):
    """MT-SICS status ``I``: command understood but not executable now (busy, not ready)."""

    code = "scale_not_executable"
    meaning = "command not executable (balance busy or not ready)"


class ScaleUnstableError(ScaleNotExecutableError):
    """No stable reading within the time allowed (MT-SICS ``S I`` after the stability timeout)."""

    code = "scale_unstable"
    meaning = "no stable reading within the stability timeout"


class ScaleLogicalError(ScaleCommandError):
    """MT-SICS status ``L`` or general error ``EL``: parameter not allowed / logical error."""

    code = "scale_logical_error"
    meaning = "logical error (parameter not allowed)"


class ScaleSyntaxError(ScaleCommandError):
    """MT-SICS ``ES``: command not known to the instrument."""

    code = "scale_syntax_error"
    meaning = "syntax error (command unknown)"


class ScaleTransmissionError(ScaleCommandError):
    """MT-SICS ``ET``: the instrument received a garbled command (parity, framing, buffer overflow)."""

    code = "scale_transmission_error"
    meaning = "transmission error"


class ScaleNotSupportedError(ScaleCommandError):
    """The protocol offers no such command (e.g. clearing the tare over Sartorius SBI)."""

    code = "scale_not_supported"
    meaning = "not supported by this protocol"


class ScaleRangeError(ScaleCommandError):
    """The load lies outside the weighing (or zero-setting) range."""

    code = "scale_range_error"


class ScaleOverloadError(ScaleRangeError):
    """MT-SICS ``+``, A&D ``OL``, Toledo out-of-range flag with positive sign: above the weighing range."""

    code = "scale_overload"
    meaning = "overload (weighing range exceeded)"


class ScaleUnderloadError(ScaleRangeError):
    """MT-SICS ``-``: below the weighing range (e.g. the pan is not in place)."""

    code = "scale_underload"
    meaning = "underload (below the weighing range, e.g. pan not in place)"
