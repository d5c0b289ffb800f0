"""Failed password attempts per throttling key: the shared state of login throttling.

Each failure is one atomic upsert, so failures recorded at once by several workers or
instances each count (PostgreSQL locks the row; SQLite serializes writers)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    CursorResult,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    update,
)

from adapters.sql.base import SqlRepository
from adapters.tables import login_failures as table
from domain.model import LoginFailures
from domain.ports import LoginFailureRepository


@functools.cache
def _by_keys(count: int) -> Select:
    """Read on every request that carries a password: built once per number of keys, with
    plain bound parameters (an expanding IN would be rendered again on every call)."""
    return select(table).where(table.c.key_hash.in_([bindparam(f"k{n}") for n in range(count)]))


class SqlLoginFailureRepository(SqlRepository, LoginFailureRepository):
    def get_many(self, key_hashes: Sequence[str]) -> list[LoginFailures]:
        params = {f"k{n}": key for n, key in enumerate(key_hashes)}
        return [
            LoginFailures(row.key_hash, row.failures, row.last_failure_at, row.blocked_until)
            for row in self._execute(_by_keys(len(params)), params)
        ]

    def add_failure(self, key_hash: str, at: datetime, restart_before: datetime) -> int:
        statement = self._insert(table).values(
            key_hash=key_hash, failures=1, last_failure_at=at, blocked_until=None
        )
        restart = func.coalesce(table.c.blocked_until, table.c.last_failure_at) < restart_before
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key_hash],
            set_={
                "failures": case((restart, 1), else_=table.c.failures + 1),
                "blocked_until": case((restart, None), else_=table.c.blocked_until),
                "last_failure_at": at,
            },
        )
        return self._execute(statement.returning(table.c.failures)).scalar_one()

    def block(self, key_hash: str, until: datetime) -> None:
        self._execute(update(table).where(table.c.key_hash == key_hash).values(blocked_until=until))

    def claim(self, key_hash: str, at: datetime, blocked_until: datetime) -> int | None:
        # One UPDATE: PostgreSQL re-reads the row after a concurrent claim commits (and
        # finds its lockout); SQLite runs one writer at a time.
        statement = (
            update(table)
            .where(
                table.c.key_hash == key_hash,
                or_(table.c.blocked_until.is_(None), table.c.blocked_until <= at),
            )
            .values(failures=table.c.failures + 1, last_failure_at=at, blocked_until=blocked_until)
            .returning(table.c.failures)
        )
        return self._execute(statement).scalar()

    def clear(self, key_hash: str) -> None:
        self._execute(delete(table).where(table.c.key_hash == key_hash))

    def delete_stale(self, before: datetime) -> int:
        statement = delete(table).where(
            and_(
                table.c.last_failure_at < before,
                or_(table.c.blocked_until.is_(None), table.c.blocked_until < before),
            )
        )
        deleted = self._execute(statement)
        return deleted.rowcount if isinstance(deleted, CursorResult) else 0
