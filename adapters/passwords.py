"""Password hashing with argon2id (argon2-cffi), the OWASP-recommended slow hash."""

from __future__ import annotations

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
