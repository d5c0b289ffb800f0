"""A cheap, deterministic password hasher for unit tests (argon2 is for production)."""

from __future__ import annotations

import hashlib

from domain.ports import PasswordHasher


class FakePasswordHasher(PasswordHasher):
    def hash(self, password: str) -> str:
        return "fake$" + hashlib.sha256(password.encode()).hexdigest()

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == self.hash(password)
