"""Failed logins of ``FakeUnitOfWork``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from domain import ports
from domain.model import LoginFailures
from tests.fakes.metadata_repositories import FakeRepository


class FakeLoginFailureRepository(FakeRepository, ports.LoginFailureRepository):
    def get_many(self, key_hashes: Sequence[str]) -> list[LoginFailures]:
        found = (self._db.login_failures.get(key) for key in key_hashes)
        return [replace(record) for record in found if record is not None]

    def add_failure(self, key_hash: str, at: datetime, restart_before: datetime) -> int:
        record = self._db.login_failures.get(key_hash)
        if record is None or _ended(record) < restart_before:
            record = LoginFailures(key_hash, 0, at)
            self._db.login_failures[key_hash] = record
        record.failures += 1
        record.last_failure_at = at
        return record.failures

    def block(self, key_hash: str, until: datetime) -> None:
        self._db.login_failures[key_hash].blocked_until = until

    def claim(self, key_hash: str, at: datetime, blocked_until: datetime) -> int | None:
        record = self._db.login_failures.get(key_hash)
        if record is None or (record.blocked_until is not None and record.blocked_until > at):
            return None
        record.failures += 1
        record.last_failure_at, record.blocked_until = at, blocked_until
        return record.failures

    def clear(self, key_hash: str) -> None:
        self._db.login_failures.pop(key_hash, None)

    def delete_stale(self, before: datetime) -> int:
        stale = [k for k, r in self._db.login_failures.items() if _ended(r) < before]
        for key in stale:
            del self._db.login_failures[key]
        return len(stale)


def _ended(record: LoginFailures) -> datetime:
    return max(record.last_failure_at, record.blocked_until or record.last_failure_at)
