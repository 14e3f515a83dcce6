"""Credentials: argon2 password hashes, API tokens stored as SHA-256, signed session cookies, CSRF tokens.

* Passwords: argon2id (RFC 9106) through argon2-cffi with its default parameters.
* API tokens: 32 random bytes (``secrets.token_urlsafe``) prefixed ``hq_``; only their SHA-256 is stored, so a
  stolen database yields no usable token.
* Browser sessions: a cookie signed with the secret key (itsdangerous, timed), holding the user id and the
  session's CSRF token; unsafe methods must echo that token in the ``X-CSRF-Token`` header (double-submit: the same
  token is also readable in the ``hengqi_csrf`` cookie).

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
from dataclasses import dataclass
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeTimedSerializer

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


@dataclass(frozen=True, slots=True)
class SessionData:
    """What a session cookie says: whose session, and its CSRF token."""

    user_id: int
    csrf: str


class SessionSigner:
    """Signs and reads session cookies with the server's secret key.

    >>> signer = SessionSigner("k" * 32, max_age_s=60)
    >>> signer.read(signer.sign(SessionData(7, "abc")))
    SessionData(user_id=7, csrf='abc')
    >>> signer.read("forged") is None
    True
    """

    def __init__(self, secret_key: str, *, max_age_s: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="hengqi.session")
        self.max_age_s = max_age_s

    def sign(self, data: SessionData) -> str:
        return self._serializer.dumps({"uid": data.user_id, "csrf": data.csrf})

    def read(self, cookie: str) -> SessionData | None:
        try:
            payload = self._serializer.loads(cookie, max_age=self.max_age_s)
        except BadSignature:
            return None
        if not isinstance(payload, dict):
            return None
        uid, csrf = payload.get("uid"), payload.get("csrf")
        if not isinstance(uid, int) or not isinstance(csrf, str):
            return None
        return SessionData(uid, csrf)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_matches(expected: str, header: str | None, cookie: str | None) -> bool:
    """Double-submit check: the header and the cookie both equal the token bound to the signed session."""
    if not header or not cookie:
        return False
    return hmac.compare_digest(expected, header) and hmac.compare_digest(expected, cookie)
