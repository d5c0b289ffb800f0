"""A cheap, deterministic password hasher for unit tests (argon2 is for production).

``verifications`` counts calls to ``verify``: tests use it to show that a code path paid
for a (here cheap, in production slow) verification."""

from __future__ import annotations

import hashlib

from domain.ports import PasswordHasher


class FakePasswordHasher(PasswordHasher):
    def __init__(self) -> None:
        self.verifications = 0

    def hash(self, password: str) -> str:
        return "fake$" + hashlib.sha256(password.encode()).hexdigest()

    def verify(self, password_hash: str, password: str) -> bool:
        self.verifications += 1
        return password_hash == "fake$" + hashlib.sha256(password.encode()).hexdigest()
