"""MQTT broker addresses: ``mqtt://[user[:password]@]host[:port]`` or, over TLS,
``mqtts://[user[:password]@]host[:port]?ca=CA.pem[&cert=DEVICE.pem&key=DEVICE.key]`` (pure parsing).

With TLS the client checks the broker's certificate against ``ca`` (host name included); ``cert`` and ``key`` are
the device's client certificate, for a broker that requires one (Mosquitto ``require_certificate true``; with
``use_identity_as_username true`` the certificate's common name is the user name its ACL knows, so a device
certificate's CN is the device id).

>>> a = parse_broker_url("mqtt://SC-0001:s3cret@127.0.0.1:18830")
>>> a.host, a.port, a.username, a.password, a.tls
('127.0.0.1', 18830, 'SC-0001', 's3cret', False)
>>> parse_broker_url("mqtt://localhost").port
1883
>>> a = parse_broker_url("mqtts://platform.example?ca=/etc/hq/ca.pem&cert=/etc/hq/SC-1.pem&key=/etc/hq/SC-1.key")
>>> a.port, a.tls, a.display()
(8883, True, 'mqtts://platform.example:8883')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from hengqi.errors import InputError


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where the broker is and whom to connect as (the password is never printed by :meth:`display`)."""

    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    tls: bool = False

    def display(self) -> str:
        """The address without the password (nor the files)."""
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"

    def tls_arguments(self) -> dict[str, Any]:
        """Keyword arguments for paho's ``Client.tls_set`` (the adapters call it when :attr:`tls` is set)."""
        return {"ca_certs": self.ca_file, "certfile": self.cert_file, "keyfile": self.key_file}


def parse_broker_url(url: str, *, path: str = "--broker") -> BrokerAddress:
    """Parse a broker URL; :class:`InputError` naming ``path`` for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise InputError(path, f"not a broker URL: {err}") from None
    if parts.scheme not in ("mqtt", "mqtts"):
        raise InputError(path, f"use mqtt://host[:port], got {url.rsplit('@', maxsplit=1)[-1][:80]!r}")
    if not parts.hostname:
        raise InputError(path, "the broker URL names no host")
    tls = parts.scheme == "mqtts"
    if parts.path not in ("", "/") or parts.fragment or (parts.query and not tls):
        raise InputError(path, "the broker URL takes no path or fragment (and a query only with mqtts://)")
    files = parse_qs(parts.query, keep_blank_values=True) if parts.query else {}
    unknown = sorted(set(files) - {"ca", "cert", "key"})
    if unknown or any(len(v) != 1 or not v[0] for v in files.values()):
        raise InputError(path, "mqtts:// takes ?ca=FILE&cert=FILE&key=FILE, each at most once and not empty")
    ca, cert, key = (files.get(k, [None])[0] for k in ("ca", "cert", "key"))
    if (cert is None) != (key is None):
        raise InputError(path, "a client certificate needs both cert= and key=")
    return BrokerAddress(
        host=parts.hostname,
        port=port or (8883 if tls else 1883),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        ca_file=ca,
        cert_file=cert,
        key_file=key,
        tls=tls,
    )
