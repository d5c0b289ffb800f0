"""Password hashing with argon2id (argon2-cffi), the OWASP-recommended slow hash, and a
per-process memory of recent matches."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from domain.ports import PasswordHasher


class Argon2PasswordHasher(PasswordHasher):
    def __init__(self, time_cost: int = 2, memory_cost: int = 19 * 1024, parallelism: int = 1):
        # OWASP's minimum argon2id profile (19 MiB, t=2): slow for attackers, and cheap
        # enough in memory that several workers can verify at once.
        self._argon2 = _Argon2(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism
        )

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


class RememberingPasswordHasher(PasswordHasher):
    """A slow hasher that remembers, for ``ttl`` seconds, which (stored hash, password)
    pairs matched, so a twine upload of many files pays the slow hash about once per
    worker, not once per file.

    Only the verification is remembered, never who the caller is: the caller reads the
    user row on every request and passes its stored hash in. The stored hash carries its
    own random salt, so a changed password, a deleted user or a new user given the same
    id (and the same password) never brings a remembered pair back into use. Mismatches
    are never remembered: every wrong guess pays the full hash. Entries are HMACs under a
    key that lives only in this process and never reaches a log, a file or a response;
    no password is kept (whoever can read the process's memory could read passwords as
    they arrive anyway).
    """

    def __init__(self, inner: PasswordHasher, ttl: float, size: int = 1024) -> None:
        self._inner, self._ttl, self._size = inner, ttl, size
        self._key = secrets.token_bytes(32)
        self._matched: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def hash(self, password: str) -> str:
        return self._inner.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        if self._ttl <= 0:
            return self._inner.verify(password_hash, password)
        entry = hmac.new(
            self._key, f"{password_hash}\0{password}".encode(), hashlib.sha256
        ).digest()
        with self._lock:
            expires = self._matched.get(entry)
        if expires is not None and expires > time.monotonic():
            return True
        if not self._inner.verify(password_hash, password):
            return False
        with self._lock:
            if len(self._matched) >= self._size:
                self._matched.clear()
            self._matched[entry] = time.monotonic() + self._ttl
        return True
