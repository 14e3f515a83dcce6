"""MQTT broker addresses: ``mqtt://[user[:password]@]host[:port]`` (pure parsing).

>>> parse_broker_url("mqtt://SC-0001:s3cret@127.0.0.1:18830")
BrokerAddress(host='127.0.0.1', port=18830, username='SC-0001', password='s3cret')
>>> parse_broker_url("mqtt://localhost").port
1883
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from hengqi.errors import InputError


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where the broker is and whom to connect as (the password is never printed by :meth:`display`)."""

    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None

    def display(self) -> str:
        """The address without the password."""
        user = f"{self.username}@" if self.username else ""
        return f"mqtt://{user}{self.host}:{self.port}"


def parse_broker_url(url: str, *, path: str = "--broker") -> BrokerAddress:
    """Parse a broker URL; :class:`InputError` naming ``path`` for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise InputError(path, f"not a broker URL: {err}") from None
    if parts.scheme != "mqtt":
        raise InputError(path, f"use mqtt://host[:port], got {url.rsplit('@', maxsplit=1)[-1][:80]!r}")
    if not parts.hostname:
        raise InputError(path, "the broker URL names no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InputError(path, "the broker URL takes no path, query or fragment")
    return BrokerAddress(
        host=parts.hostname,
        port=port or 1883,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )
