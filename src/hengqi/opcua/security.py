"""Security of ``hengqi opcua serve``: which endpoints, which identities, the server certificate, the users.

* On a loopback address (``127.0.0.0/8``, ``::1``, ``localhost``) the server offers the ``None`` endpoint with
  anonymous sessions (and, when users are configured, also Basic256Sha256 sign-and-encrypt with user names).
* On any other address it offers only Basic256Sha256 with ``SignAndEncrypt`` (OPC 10000-7 security policy
  ``http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256``) and user-name identity tokens; it refuses to
  start without configured users.  ``require_security`` gives the same behaviour on loopback.
* The server's application instance certificate is self-signed and generated on first start into the PKI
  directory (RSA 2048, one year, subjectAltName URI = the ApplicationUri and DNS = the host name; OPC 10000-6
  6.2.2), and kept for later starts.
* Passwords are checked against argon2 hashes (argon2-cffi); a failed check is logged without the password.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from asyncua.crypto.permission_rules import User, UserRole

from hengqi.errors import InputError

#: The server's ApplicationUri (also in its certificate).
SERVER_APPLICATION_URI = "urn:hengqi:opcua:server"

_log = logging.getLogger(__name__)
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash for the ``users:`` section of the configuration."""
    if not password:
        raise InputError("password", "must not be empty")
    return _hasher.hash(password)


def is_loopback(host: str) -> bool:
    """True for a loopback host: ``localhost`` or an address in 127.0.0.0/8 or ::1.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0"), is_loopback("localhost")
    (True, True, False, True)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class SecuritySettings:
    """What the server offers: anonymous on the None endpoint, and/or Basic256Sha256 sign-and-encrypt."""

    anonymous: bool
    secure: bool


def settings_for(host: str, users: Mapping[str, str], *, require_security: bool = False) -> SecuritySettings:
    """The security settings for a listening host; :class:`InputError` where it would be open to the network.

    >>> settings_for("127.0.0.1", {})
    SecuritySettings(anonymous=True, secure=False)
    >>> settings_for("0.0.0.0", {})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hengqi.errors.InputError: --host: refusing to serve OPC UA on 0.0.0.0 without security: configure users ...
    """
    if require_security or not is_loopback(host):
        if not users:
            raise InputError(
                "--host", f"refusing to serve OPC UA on {host} without security: configure users (see docs/opcua.md)"
            )
        return SecuritySettings(anonymous=False, secure=True)
    return SecuritySettings(anonymous=True, secure=bool(users))


class PasswordUserManager:
    """asyncua user manager: anonymous allowed only when ``anonymous``; user names checked against argon2 hashes."""

    def __init__(self, users: Mapping[str, str], *, anonymous: bool) -> None:
        self._users = dict(users)
        self._anonymous = anonymous

    def get_user(
        self, iserver: Any, username: str | None = None, password: str | None = None, certificate: Any = None
    ) -> User | None:
        if username is None:
            return User(role=UserRole.User, name="anonymous") if self._anonymous else None
        hashed = self._users.get(username)
        if hashed is None or password is None:
            _log.warning("OPC UA login refused for user %r", username)
            return None
        try:
            _hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            _log.warning("OPC UA login refused for user %r", username)
            return None
        return User(role=UserRole.User, name=username)


async def client_certificate_validator(trust: Path | None) -> Any:
    """The check of client application certificates on the secure endpoint (asyncua ``CertificateValidator``).

    Always: validity period and ApplicationUri in subjectAltName (OPC 10000-4 6.1.3).  With a ``trust`` folder of
    DER/PEM certificates, also: the client certificate (or its issuer) is in that folder and not revoked.
    """
    from asyncua.crypto.truststore import TrustStore
    from asyncua.crypto.validator import CertificateValidator, CertificateValidatorOptions

    options = CertificateValidatorOptions
    if trust is None:
        return CertificateValidator(options.BASIC_VALIDATION | options.PEER_CLIENT)
    if not trust.is_dir():
        raise InputError("--trust", f"{trust} is not a folder of trusted client certificates")
    store = TrustStore([trust], [])
    await store.load()
    return CertificateValidator(options.BASIC_VALIDATION | options.TRUSTED | options.PEER_CLIENT, store)


async def server_certificate(pki: Path) -> tuple[Path, Path]:
    """The server certificate (DER) and key (PEM) in ``pki``, generated (self-signed) when missing or invalid."""
    from asyncua.crypto.cert_gen import setup_self_signed_certificate
    from cryptography.x509.oid import ExtendedKeyUsageOID

    try:
        pki.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as err:
        raise InputError("--pki", f"cannot create {pki}: {err.strerror or err}") from err
    key, cert = pki / "server-key.pem", pki / "server-cert.der"
    await setup_self_signed_certificate(
        key,
        cert,
        SERVER_APPLICATION_URI,
        socket.gethostname(),
        [ExtendedKeyUsageOID.SERVER_AUTH],
        {"commonName": "hengqi OPC UA for Scales"},
    )
    key.chmod(0o600)
    return cert, key
