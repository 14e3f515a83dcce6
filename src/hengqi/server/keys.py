"""The session key: configured (``HENGQI_SECRET_KEY``), or generated once into the data directory.

There is no key in the code.  Where none is configured:

* on a loopback host (``127.0.0.0/8``, ``::1``, ``localhost``) a random key (48 bytes from the OS generator,
  URL-safe text) is written on the first start to ``DATA_DIR/session-key``, readable by its owner only (mode 0600),
  created atomically (written to a private temporary file, then linked into place: two servers starting at once
  end up with the same key, and a half-written key is never read), and reused on later starts;
* on any other host the server refuses to start: several servers behind a load balancer need one shared key, and
  an operator exposing the server must decide where the key lives.

Rotation: a configured ``HENGQI_SECRET_KEY_PREVIOUS`` is still accepted for reading cookies while the new key
signs them (sessions survive the change); without it, a new key ends every session.  For the generated key:
delete the file and restart (every session ends).

>>> import tempfile
>>> from hengqi.server.settings import Settings
>>> folder = Path(tempfile.mkdtemp())
>>> first = session_keys(Settings(data_dir=folder))
>>> first == session_keys(Settings(data_dir=folder)), len(first[-1]) >= 43
(True, True)
>>> oct((folder / KEY_FILE).stat().st_mode & 0o777)
'0o600'
>>> session_keys(Settings(data_dir=folder, host="0.0.0.0"))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
hengqi.server.errors.UnsafeSettingsError: secret_key: no session key configured for the non-loopback host 0.0.0.0; ...
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import stat
from pathlib import Path
from typing import Final

from hengqi.server.errors import UnsafeSettingsError
from hengqi.server.settings import MIN_SECRET_KEY_LENGTH, Settings

KEY_FILE: Final = "session-key"


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def session_keys(settings: Settings) -> tuple[str, ...]:
    """The keyring of session cookies, newest last: the configured key (and the previous one), else the key file."""
    if settings.secret_key is not None:
        current = settings.secret_key.get_secret_value()
        previous = settings.secret_key_previous
        return (previous.get_secret_value(), current) if previous is not None else (current,)
    if not is_loopback(settings.host):
        raise UnsafeSettingsError(
            "secret_key",
            f"no session key configured for the non-loopback host {settings.host}; "
            f"set HENGQI_SECRET_KEY (at least {MIN_SECRET_KEY_LENGTH} random characters)",
        )
    return (_key_file(settings.data_dir / KEY_FILE),)


def _key_file(path: Path) -> str:
    """Read the key in ``path``, making it first if there is none (mode 0600, atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        _create(path)
    try:
        info = path.stat()
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise UnsafeSettingsError(
                str(path), f"the session key file may be read by others (mode {oct(info.st_mode & 0o777)}); chmod 600"
            )
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as err:
        raise UnsafeSettingsError(str(path), f"cannot read the session key file: {err}") from err
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise UnsafeSettingsError(
            str(path), f"the session key file holds fewer than {MIN_SECRET_KEY_LENGTH} characters"
        )
    return key


def _create(path: Path) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process made the key first: theirs is used
            os.link(temporary, path)
    except OSError as err:
        raise UnsafeSettingsError(str(path), f"cannot create the session key file: {err}") from err
    finally:
        temporary.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
