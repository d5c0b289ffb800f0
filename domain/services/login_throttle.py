"""Login throttling: failed password attempts slow down the one who fails.

Failures are counted under two keys: the username together with the client address,
and the address alone. The first is strict (a few failures, then lockouts that double
up to a ceiling): an attacker guessing one user's password is slowed, while that user,
from any other address, is not affected at all. The second is generous, and only stops
one address from spraying guesses over many usernames; the many users behind one proxy
or NAT are never throttled for one another's typos. The counts live in the database,
so every worker and instance sees the same ones.

Attempts refused during a lockout do not count and are not verified (no slow hash is
spent on them), so a lockout ends when it says it will. Once a key has reached its
limit, each further attempt is counted, and locks the key again, before it is verified,
so guesses sent in parallel gain nothing. A success clears the username and address's
count. A count starts again once a window has passed since its last failure or lockout.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta

from domain.access import Principal
from domain.errors import TooManyAttempts, Unauthenticated
from domain.model import LoginFailures
from domain.ports import Clock, PasswordHasher, UnitOfWork
from domain.services.users import authenticate_password, verify_password


@dataclass(frozen=True)
class ThrottlePolicy:
    """The numbers; a limit of 0 turns that key's throttling off."""

    failures_per_user: int = 5
    failures_per_address: int = 100
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=1)
    max_lockout: timedelta = timedelta(minutes=15)

    def lockout_after(self, failures: int, limit: int) -> timedelta | None:
        """How long a key is locked out after its ``failures``-th failure: ``lockout``
        at the limit, doubling with each failure past it, at most ``max_lockout``."""
        if limit <= 0 or failures < limit:
            return None
        doublings = min(failures - limit, 32)
        return min(self.lockout * 2**doublings, self.max_lockout)


@dataclass(frozen=True)
class Attempt:
    """Who tries to log in, from where (the client address as the server sees it)."""

    username: str
    address: str

    @property
    def user_key(self) -> str:
        return _key("user", self.username.casefold(), self.address)

    @property
    def address_key(self) -> str:
        return _key("address", self.address)


def _key(*parts: str) -> str:
    # Hashed: a username of any length (or bytes) makes a fixed-size key.
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def login(
    reader: UnitOfWork,
    writer: UnitOfWork,
    hasher: PasswordHasher,
    clock: Clock,
    policy: ThrottlePolicy,
    *,
    attempt: Attempt,
    password: str,
) -> Principal:
    """The user whose password this is, unless the attempt is throttled.

    ``reader`` only reads (the check runs on every request with a password, twine's many
    files included); ``writer`` records failures. Raises ``TooManyAttempts`` during a
    lockout, ``Unauthenticated`` for a wrong username or password."""
    if policy.failures_per_user <= 0 and policy.failures_per_address <= 0:
        return authenticate_password(reader, hasher, username=attempt.username, password=password)
    with reader:  # one read for both: this runs on every request with a password
        records = reader.login_failures.get_many([attempt.user_key, attempt.address_key])
        user = reader.users.get(attempt.username)
    record = _allowed(records, clock, attempt)
    claimed = record is not None and _claim_on_probation(
        reader, writer, clock, policy, attempt, record
    )
    try:
        principal = verify_password(hasher, user, password)
    except Unauthenticated:
        record_failure(writer, clock, policy, attempt, user_counted=claimed)
        raise
    if record is not None:
        with writer:
            writer.login_failures.clear(attempt.user_key)
            writer.commit()
    return principal


def check_allowed(uow: UnitOfWork, clock: Clock, attempt: Attempt) -> LoginFailures | None:
    """Raise ``TooManyAttempts`` while either key is locked out; else the username and
    address's record of failures, if any (a success then clears it)."""
    with uow:
        records = uow.login_failures.get_many([attempt.user_key, attempt.address_key])
    return _allowed(records, clock, attempt)


def _allowed(records: list[LoginFailures], clock: Clock, attempt: Attempt) -> LoginFailures | None:
    now = clock.now()
    blocked = [r.blocked_until for r in records if r.blocked_until and r.blocked_until > now]
    if blocked:
        retry_after = max(1, math.ceil((max(blocked) - now).total_seconds()))
        raise TooManyAttempts(
            f"Too many failed logins: try again in {retry_after} seconds.",
            retry_after=retry_after,
        )
    return next((r for r in records if r.key_hash == attempt.user_key), None)


def _claim_on_probation(
    reader: UnitOfWork,
    writer: UnitOfWork,
    clock: Clock,
    policy: ThrottlePolicy,
    attempt: Attempt,
    record: LoginFailures,
) -> bool:
    """Once the username and address reached their limit (within the window), count the
    attempt and lock the key again before verifying it: attempts that arrive together
    then get one verification between them, not one each. (Below the limit attempts are
    verified first and counted when they fail, so honest parallel requests, uv fetching
    from a private index, never race each other into a lockout.) Whether it claimed."""
    now, limit = clock.now(), policy.failures_per_user
    if limit <= 0 or record.failures < limit:
        return False
    if (record.blocked_until or record.last_failure_at) < now - policy.window:
        return False  # stale: the count starts again, as for a new key
    lockout = policy.lockout_after(record.failures + 1, limit) or policy.lockout
    with writer:
        claimed = writer.login_failures.claim(attempt.user_key, now, now + lockout)
        writer.commit()
    if claimed is None:
        check_allowed(reader, clock, attempt)  # another attempt claimed first: its lockout
    return claimed is not None


def record_failure(
    uow: UnitOfWork,
    clock: Clock,
    policy: ThrottlePolicy,
    attempt: Attempt,
    *,
    user_counted: bool = False,
) -> None:
    """Count a failed attempt under both keys (the username and address's already, if it
    was claimed) and lock out whichever reached its limit."""
    now = clock.now()
    restart_before = now - policy.window
    limits = [(attempt.address_key, policy.failures_per_address)]
    if not user_counted:
        limits.insert(0, (attempt.user_key, policy.failures_per_user))
    with uow:
        for key, limit in limits:
            if limit <= 0:
                continue
            failures = uow.login_failures.add_failure(key, now, restart_before)
            lockout = policy.lockout_after(failures, limit)
            if lockout is not None:
                uow.login_failures.block(key, now + lockout)
        uow.login_failures.delete_stale(restart_before)
        uow.commit()
