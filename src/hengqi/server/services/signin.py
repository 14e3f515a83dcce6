"""Signing in with a password: throttled first, then checked on a small pool of its own, then audited.

Order of work for one attempt (:func:`sign_in`, called by the REST API's and the web interface's login):

1. the throttle (:mod:`hengqi.server.throttle`) answers a locked name or address at once with
   :class:`~hengqi.server.errors.LoginThrottledError` (HTTP 429, ``Retry-After``): no database, no hashing;
2. the password check (argon2id: tens of milliseconds and 64 MiB each) runs on a pool of ``login_workers``
   threads of its own, never on the workers that answer other requests; when more than ``login_queue`` checks
   are waiting, the attempt is answered 429 at once rather than queued (the event loop awaits the pool, so a
   waiting attempt holds no worker thread);
3. an unknown name is checked against a dummy hash (same work, same answer, same status as a wrong password);
4. every failed check is written to the audit trail (``login_failed``: the name as typed, the address, the
   reason; never the password), every success too (``login``), and a success starts a new server-side session
   (:mod:`hengqi.server.services.sessions`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import select

from hengqi.server import audit
from hengqi.server.db.engine import Database
from hengqi.server.db.models import User
from hengqi.server.errors import AuthenticationError, LoginThrottledError
from hengqi.server.security import SessionSigner, hash_password, verify_password
from hengqi.server.services.sessions import StartedSession, start_session
from hengqi.server.settings import Settings
from hengqi.server.throttle import Attempt, LoginThrottle, shared_counts

#: The one answer to a wrong name, a wrong password and an inactive account.
WRONG_CREDENTIALS = "wrong username or password"
ANONYMOUS = audit.Actor(None, "anonymous")


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A successful sign-in: the user (detached row) and the new session."""

    user: User
    session: StartedSession


class SignInGate:
    """The throttle and the password-checking pool of one app."""

    def __init__(self, settings: Settings) -> None:
        self.throttle = LoginThrottle(
            account_limit=settings.login_account_failures,
            address_limit=settings.login_address_failures,
            window_s=settings.login_window_s,
            lockout_s=settings.login_lockout_s,
            lockout_max_s=settings.login_lockout_max_s,
            shared=shared_counts("signin/"),  # several server processes: one count for the host
        )
        self._workers = settings.login_workers
        self._capacity = settings.login_workers + settings.login_queue
        self._busy = 0
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._dummy_hash: str | None = None

    def dummy_hash(self) -> str:
        """A hash made with the current parameters, checked for unknown names: they cost what known ones cost."""
        with self._lock:
            if self._dummy_hash is None:
                self._dummy_hash = hash_password("no such user: dummy password for equal timing")
            return self._dummy_hash

    def submit(self, attempt: Attempt, check: _Check) -> Future[_Outcome]:
        """Queue ``check`` on the pool, or raise 429 when the pool is full (the attempt is then not counted)."""
        with self._lock:
            if self._busy >= self._capacity:
                attempt.cancel()
                raise LoginThrottledError(1, "too many sign-ins at once; try again in 1 s")
            self._busy += 1
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self._workers, thread_name_prefix="hengqi-login", initializer=_lower_priority
                )
            pool = self._pool

        def done(future: Future[_Outcome]) -> None:
            with self._lock:
                self._busy -= 1
            if future.cancelled() or future.exception() is not None:
                attempt.cancel()
            else:
                attempt.finish(success=future.result().user is not None)

        future = pool.submit(check.run)
        future.add_done_callback(done)
        return future

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


#: How much nicer (lower CPU priority) the password-checking threads are than the rest of the server.
CHECK_NICENESS = 10


def _lower_priority() -> None:
    """Run this password-checking thread (and the argon2 lane threads it starts) at a lower CPU priority.

    On Linux the nice value belongs to the thread (setpriority(2), "a Linux-specific feature"), and threads
    inherit it from the thread that starts them; so a flood of sign-ins takes CPU only when other requests leave
    some.  Elsewhere this does nothing."""
    if sys.platform != "linux":
        return
    thread = threading.get_native_id()
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + CHECK_NICENESS))


@dataclass(frozen=True, slots=True)
class _Outcome:
    user: User | None
    session: StartedSession | None


@dataclass(frozen=True, slots=True)
class _Check:
    database: Database
    signer: SessionSigner
    dummy_hash: Callable[[], str]
    username: str
    password: str
    address: str
    replaces: str | None

    def run(self) -> _Outcome:
        user: User | None = None
        if "\x00" not in self.username:  # PostgreSQL text cannot hold NUL; no user has one in their name
            with self.database.read_session() as session:
                user = session.scalar(select(User).where(User.username == self.username))
        matches = verify_password(user.password_hash if user is not None else self.dummy_hash(), self.password)
        reason = "unknown user" if user is None else ("wrong password" if not matches else "inactive user")
        ok = user is not None and matches and user.active
        with self.database.write_session() as session:
            facts = {"username": self.username[:100], "address": self.address[:64]}
            if ok and user is not None:
                started = start_session(session, self.signer, user.id, address=self.address, replaces=self.replaces)
                audit.record(
                    session,
                    actor=audit.Actor(user.id, user.username),
                    action="login",
                    entity="users",
                    entity_id=user.id,
                    organisation_id=user.organisation_id,
                    new={**facts, "session": started.data.session_id},
                )
                session.commit()
                return _Outcome(user, started)
            audit.record(
                session,
                actor=ANONYMOUS,
                action="login_failed",
                entity="users",
                entity_id=user.id if user is not None else "",
                organisation_id=user.organisation_id if user is not None else None,
                new={**facts, "reason": reason},
            )
            session.commit()
        return _Outcome(None, None)


async def sign_in(
    gate: SignInGate,
    database: Database,
    signer: SessionSigner,
    *,
    username: str,
    password: str,
    address: str,
    replaces: str | None = None,
) -> SignedIn:
    """Check the credentials and start a session; :class:`AuthenticationError` (401, the same for every wrong
    name or password) or :class:`LoginThrottledError` (429) otherwise."""
    attempt = gate.throttle.begin(username, address)
    check = _Check(database, signer, gate.dummy_hash, username, password, address, replaces)
    outcome = await asyncio.wrap_future(gate.submit(attempt, check))
    if outcome.user is None or outcome.session is None:
        raise AuthenticationError(WRONG_CREDENTIALS)
    return SignedIn(outcome.user, outcome.session)
