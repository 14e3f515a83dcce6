"""Which instrument addresses the server may store and open (the CLI, run by a local user, keeps them all).

A URL stored through the server is opened by the server process, with its rights on the file system and the
network, whenever someone asks for a live reading.  pyserial's URL handlers reach much further than an instrument
(``spy://`` writes a log to any file the process may write, ``loop://`` and ``alt://`` are no instruments,
``socket://``/``hwgrep://`` pick arbitrary targets), so the server accepts three forms only:

* ``serial:///dev/...``: a serial port (``/dev/tty*``, ``/dev/pts/N``, ``/dev/rfcommN``, ``/dev/cu.*``, or a link
  under ``/dev/serial/`` to one) that exists as a character device under ``/dev/`` (after resolving links);
* ``tcp://HOST:PORT`` and ``rfc2217://HOST:PORT``: HOST on the organisation's allow-list
  (:attr:`~hengqi.server.db.models.Organisation.instrument_hosts`: IP addresses, networks in CIDR notation, or host
  names matched literally; host names are never resolved to be compared with networks);

with no user name, password, path or pyserial options in the URL, and a read timeout of at most
:data:`MAX_TIMEOUT_S` seconds.  Everything else is refused with an :class:`~hengqi.errors.InputError` naming why.

>>> check_url("tcp://127.0.0.1:4001?protocol=mt-sics", parse_hosts("127.0.0.1")).port
4001
>>> check_url("spy:///dev/null?file=/tmp/x", ())  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
hengqi.errors.InputError: url: scheme 'spy' is not accepted by the server (allowed: serial, tcp, rfc2217)
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit

from hengqi.errors import InputError
from hengqi.instruments.transport import Address, parse_address

#: Schemes a URL stored through the server may have.
SERVER_SCHEMES: Final = ("serial", "tcp", "rfc2217")
#: Longest read timeout (seconds) a stored URL may ask for: a silent instrument holds a worker no longer.
MAX_TIMEOUT_S: Final = 10.0
#: Most entries on one organisation's host allow-list.
MAX_HOSTS: Final = 100
_SERIAL_DEVICE: Final = re.compile(r"^/dev/(tty[A-Za-z0-9._-]+|pts/[0-9]+|rfcomm[0-9]+|cu\.[A-Za-z0-9._-]+)$")
_HOSTNAME: Final = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


def parse_hosts(text: str | Iterable[str]) -> tuple[str, ...]:
    """The entries of a host allow-list (comma, space or newline separated), normalised; InputError if one is not
    an IP address, a network in CIDR notation or a host name.

    >>> parse_hosts("127.0.0.1, 10.1.0.0/16  Scale-1.lab.example")
    ('127.0.0.1', '10.1.0.0/16', 'scale-1.lab.example')
    """
    items = re.split(r"[\s,]+", text) if isinstance(text, str) else list(text)
    found: list[str] = []
    for item in items:
        entry = item.strip().lower()
        if not entry:
            continue
        if not entry.isascii():
            raise InputError("instrument_hosts", f"{item!r} is not an IP address, network or host name")
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            if not _HOSTNAME.match(entry):
                raise InputError("instrument_hosts", f"{item!r} is not an IP address, network or host name") from None
            normal = entry
        else:
            normal = str(network.network_address) if network.num_addresses == 1 else str(network)
        if normal not in found:
            found.append(normal)
    if len(found) > MAX_HOSTS:
        raise InputError("instrument_hosts", f"at most {MAX_HOSTS} entries, got {len(found)}")
    return tuple(found)


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    """True if ``host`` (from a URL) is on the allow-list: an IP literal inside a listed network or equal to a listed
    address, or a host name equal to a listed one (case-insensitive).

    >>> host_allowed("10.1.2.3", ["10.1.0.0/16"]), host_allowed("10.2.0.1", ["10.1.0.0/16"])
    (True, False)
    >>> host_allowed("scale.lab", ["SCALE.lab"]), host_allowed("scale.lab.evil", ["scale.lab"])
    (True, False)
    """
    name = host.strip().lower().removeprefix("[").removesuffix("]")
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(name)
    except ValueError:
        address = None
    for entry in allowed:
        text = entry.strip().lower()
        if address is None:
            if text == name:
                return True
            continue
        try:
            if address in ipaddress.ip_network(text, strict=False):
                return True
        except ValueError:
            continue
    return False


def _check_device(url: str, device: str) -> None:
    if not device.startswith("/dev/") or not (_SERIAL_DEVICE.match(device) or device.startswith("/dev/serial/")):
        raise InputError("url", f"{url}: a serial port must be a device under /dev/, e.g. serial:///dev/ttyUSB0")
    real = os.path.realpath(device)
    if not _SERIAL_DEVICE.match(real):
        raise InputError("url", f"{url}: {device} is not a serial port under /dev/")
    try:
        mode = os.stat(real).st_mode
    except OSError:
        raise InputError("url", f"{url}: there is no device {device} on the server") from None
    if not stat.S_ISCHR(mode):
        raise InputError("url", f"{url}: {device} is not a character device (a serial port)")


def check_url(url: str, allowed_hosts: Iterable[str]) -> Address:
    """The parsed address if the server may store and open ``url`` for an organisation allowing ``allowed_hosts``;
    otherwise :class:`~hengqi.errors.InputError` (path ``url``) saying why.
    """
    text = url.strip()
    if "://" not in text:
        raise InputError("url", f"{url}: write the address as a URL, e.g. serial:///dev/ttyUSB0 or tcp://HOST:PORT")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in text) or not text.isascii():
        raise InputError("url", "an instrument address may hold printable ASCII characters only")
    scheme = text.split("://", 1)[0].lower()
    if scheme not in SERVER_SCHEMES:
        raise InputError(
            "url", f"scheme {scheme!r} is not accepted by the server (allowed: {', '.join(SERVER_SCHEMES)})"
        )
    try:
        address = parse_address(text)
    except InputError as err:  # AddressError: its path is the URL; the form's field is "url"
        raise InputError("url", f"{err.path}: {err.message}") from err
    if address.passthrough:
        names = ", ".join(sorted({key for key, _ in address.passthrough}))
        raise InputError("url", f"{url}: options {names} are not accepted by the server")
    if address.timeout > MAX_TIMEOUT_S:
        raise InputError("url", f"{url}: timeout {address.timeout:g} s is longer than {MAX_TIMEOUT_S:g} s")
    parts = urlsplit(text)
    if address.scheme == "serial":
        if parts.netloc:
            raise InputError("url", f"{url}: write a serial port as serial:///dev/NAME (three slashes)")
        _check_device(url, address.target)
        return address
    if parts.username is not None or parts.password is not None:
        raise InputError("url", f"{url}: user names and passwords are not accepted in an instrument address")
    if parts.path not in ("", "/"):
        raise InputError("url", f"{url}: a network address has no path (tcp://HOST:PORT)")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or not port:
        raise InputError("url", f"{url}: a network address needs a host and a port, e.g. tcp://192.0.2.10:4001")
    if not host_allowed(parts.hostname, allowed_hosts):
        raise InputError(
            "url",
            f"{url}: host {parts.hostname} is not on this organisation's instrument host allow-list "
            "(an administrator sets it)",
        )
    return address
