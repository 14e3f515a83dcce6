"""Credentials: argon2 password hashes, API tokens stored as SHA-256, signed session cookies, CSRF tokens.

* Passwords: argon2id (RFC 9106) through argon2-cffi with its default parameters.
* API tokens: 32 random bytes (``secrets.token_urlsafe``) prefixed ``hq_``; only their SHA-256 is stored, so a
  stolen database yields no usable token.
* Browser sessions: the cookie holds a random session id (32 bytes) signed with the session key (HMAC-SHA-256,
  itsdangerous); the server stores only the id's SHA-256 with the user, the session's CSRF token and its times
  (:mod:`hengqi.server.services.sessions`), so a session ends when its row says so.  Unsafe methods must echo the
  CSRF token in the ``X-CSRF-Token`` header (double-submit: the same token is also readable in the ``hengqi_csrf``
  cookie).  The key comes from the settings or from a file generated in the data directory
  (:mod:`hengqi.server.keys`); there is no key in the code.

>>> h = hash_password("correct horse battery staple")
>>> verify_password(h, "correct horse battery staple"), verify_password(h, "wrong")
(True, False)
>>> token = new_api_token(); token.startswith("hq_") and len(token_digest(token)) == 64
True
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, Signer

SESSION_COOKIE: Final = "hengqi_session"
CSRF_COOKIE: Final = "hengqi_csrf"
CSRF_HEADER: Final = "X-CSRF-Token"
TOKEN_PREFIX: Final = "hq_"
MIN_PASSWORD_LENGTH: Final = 10

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted, self-describing)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (never raises for a wrong password or a bad hash)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_api_token() -> str:
    """A fresh random API token (shown to its owner once)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_session_id() -> str:
    """A fresh random session id (32 bytes from the OS generator); only its SHA-256 is stored."""
    return secrets.token_urlsafe(32)


class SessionSigner:
    """Signs session ids into cookie values and checks them, with a keyring (newest key last).

    Every key of the ring is accepted when reading; the newest signs.  A cookie signed with a key that is not in
    the ring (an old or guessed key) is refused.

    >>> signer = SessionSigner(("k" * 32,))
    >>> signer.read(signer.sign("abc"))
    'abc'
    >>> signer.read("forged") is None, SessionSigner(("j" * 32,)).read(signer.sign("abc")) is None
    (True, True)
    >>> SessionSigner(("j" * 32, "k" * 32)).read(signer.sign("abc"))  # the previous key, during a rotation
    'abc'
    """

    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys:
            raise ValueError("a session signer needs at least one key")
        self._signer = Signer(list(keys), salt="hengqi.session.v2", digest_method=hashlib.sha256)

    def sign(self, session_id: str) -> str:
        return self._signer.sign(session_id).decode("ascii")

    def read(self, cookie: str) -> str | None:
        """The session id in ``cookie``, or ``None`` when the signature is not one of ours."""
        try:
            value = self._signer.unsign(cookie.encode("utf-8", "replace")).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return None
        return value or None


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_matches(expected: str, header: str | None, cookie: str | None) -> bool:
    """Double-submit check: the header and the cookie both equal the token bound to the signed session."""
    if not header or not cookie:
        return False
    return hmac.compare_digest(expected, header) and hmac.compare_digest(expected, cookie)
