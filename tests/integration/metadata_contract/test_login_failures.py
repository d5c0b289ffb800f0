"""Failed logins per throttling key: counted atomically, restarted after the window,
cleared, and forgotten when stale."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from domain.ports import UnitOfWork
from tests.integration.metadata_contract.support import POSTGRES, T0, UowFactory

WINDOW = timedelta(minutes=15)


def _fail(uow: UnitOfWork, key: str, at=T0) -> int:
    with uow:
        count = uow.login_failures.add_failure(key, at, at - WINDOW)
        uow.commit()
    return count


def _records(uow: UnitOfWork, *keys: str) -> dict:
    with uow:
        return {r.key_hash: r for r in uow.login_failures.get_many(keys)}


def test_failures_count_up_and_a_lockout_is_kept(uow: UnitOfWork) -> None:
    assert [_fail(uow, "k", T0 + timedelta(seconds=n)) for n in range(3)] == [1, 2, 3]
    with uow:
        uow.login_failures.block("k", T0 + timedelta(minutes=1))
        uow.commit()
    assert _fail(uow, "k", T0 + timedelta(minutes=2)) == 4  # within the window of the lockout
    record = _records(uow, "k", "absent")["k"]
    assert (record.failures, record.blocked_until) == (4, T0 + timedelta(minutes=1))
    assert record.last_failure_at == T0 + timedelta(minutes=2)
    assert list(_records(uow, "k", "absent")) == ["k"]


def test_the_count_restarts_once_the_window_passed_after_the_lockout(uow: UnitOfWork) -> None:
    _fail(uow, "k")
    with uow:
        uow.login_failures.block("k", T0 + timedelta(minutes=10))
        uow.commit()
    assert _fail(uow, "k", T0 + timedelta(minutes=20)) == 2  # 10 min after the lockout
    assert _fail(uow, "k", T0 + timedelta(minutes=40)) == 1  # 20 min after it: restarted
    assert _records(uow, "k")["k"].blocked_until is None


def test_clear_and_stale_keys_are_forgotten(uow: UnitOfWork) -> None:
    for key in ("old", "locked", "recent", "cleared"):
        _fail(uow, key)
    _fail(uow, "recent", T0 + timedelta(hours=1))
    with uow:
        uow.login_failures.block("locked", T0 + timedelta(hours=2))
        uow.login_failures.clear("cleared")
        assert uow.login_failures.delete_stale(T0 + timedelta(minutes=30)) == 1
        uow.commit()
    assert set(_records(uow, "old", "locked", "recent", "cleared")) == {"locked", "recent"}


@pytest.mark.parametrize("new_uow", ["sqlite", POSTGRES], indirect=True)
def test_failures_recorded_at_once_each_count(new_uow: UowFactory) -> None:
    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(lambda _: _fail(new_uow(), "k"), range(40)))
    assert sorted(counts) == list(range(1, 41))


def test_a_claim_counts_and_locks_unless_locked_or_absent(uow: UnitOfWork) -> None:
    with uow:
        assert uow.login_failures.claim("absent", T0, T0 + timedelta(minutes=1)) is None
        uow.commit()
    _fail(uow, "k")
    with uow:
        assert uow.login_failures.claim("k", T0, T0 + timedelta(minutes=1)) == 2
        assert uow.login_failures.claim("k", T0 + timedelta(seconds=59), T0) is None
        assert (
            uow.login_failures.claim("k", T0 + timedelta(minutes=1), T0 + timedelta(hours=1)) == 3
        )
        uow.commit()
    record = _records(uow, "k")["k"]
    assert (record.failures, record.blocked_until) == (3, T0 + timedelta(hours=1))


@pytest.mark.parametrize("new_uow", ["sqlite", POSTGRES], indirect=True)
def test_of_claims_made_at_once_exactly_one_wins(new_uow: UowFactory) -> None:
    _fail(new_uow(), "k")

    def claim(_: int) -> int | None:
        uow = new_uow()
        with uow:
            won = uow.login_failures.claim("k", T0, T0 + timedelta(minutes=1))
            uow.commit()
        return won

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(claim, range(24)))
    assert [r for r in results if r is not None] == [2]
