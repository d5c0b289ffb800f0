"""Races between real connections: counted references, one version winner, an upload
waiting on an orphan claim."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import pytest

from domain.errors import Conflict
from domain.model import (
    User,
    Version,
    VersionSource,
)
from domain.services import admin
from tests.integration.metadata_contract.support import (
    POSTGRES,
    T0,
    UowFactory,
    artifact,
    seed,
)


def _in_parallel(count: int, work: Callable[[int], object]) -> list:
    barrier = threading.Barrier(count)

    def run(index: int) -> object:
        barrier.wait()
        return work(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.concurrent
@pytest.mark.parametrize("new_uow", ["sqlite", POSTGRES], indirect=True)
def test_parallel_references_are_all_counted(new_uow: UowFactory) -> None:
    def add(_: int) -> tuple[int, bool]:
        with new_uow() as uow:
            result = uow.artifacts.add_reference(artifact(7))
            uow.commit()
        return result

    results = _in_parallel(20, add)
    assert sorted(count for count, _ in results) == list(range(1, 21))
    assert [existed for _, existed in results].count(False) == 1
    with new_uow() as uow:
        assert uow.artifacts.get(artifact(7).id).ref_count == 20


@pytest.mark.concurrent
@pytest.mark.parametrize("new_uow", ["sqlite", POSTGRES], indirect=True)
def test_parallel_versions_resolve_to_one_winner(new_uow: UowFactory) -> None:
    package = seed(new_uow())
    with new_uow() as uow:
        for n in range(10):
            uow.artifacts.add_reference(artifact(n))
        uow.commit()

    def claim(n: int) -> str:
        with new_uow() as uow:
            stored = uow.versions.add_if_absent(
                Version(package.id, "1.0", artifact(n).id, VersionSource.EXPLICIT, T0)
            )
            uow.commit()
        return stored.artifact_id

    winners = set(_in_parallel(10, claim))
    with new_uow() as uow:
        assert winners == {uow.versions.get(package.id, "1.0").artifact_id}


@pytest.mark.concurrent
@pytest.mark.parametrize("new_uow", ["sqlite", POSTGRES], indirect=True)
def test_an_upload_of_claimed_bytes_waits_for_the_claim_to_end(new_uow: UowFactory) -> None:
    """Garbage collection deletes an orphan blob while it holds the claim; the upload that
    would record a row for the same bytes must not slip in between."""
    claimed = threading.Event()
    release = threading.Event()

    def collector() -> None:
        with new_uow() as uow:
            assert uow.artifacts.claim_orphan(artifact(1).id, T0)
            claimed.set()
            release.wait(30)  # the blob would be deleted here; then leave, no commit

    def upload() -> tuple[int, bool]:
        claimed.wait(30)
        with new_uow() as uow:
            counted = uow.artifacts.add_reference(artifact(1))
            uow.commit()
            return counted

    with ThreadPoolExecutor(2) as pool:
        gc_done = pool.submit(collector)
        recorded = pool.submit(upload)
        claimed.wait(30)
        with pytest.raises(FutureTimeout):
            recorded.result(timeout=1)  # still waiting on the claim
        release.set()
        gc_done.result(30)
        assert recorded.result(30) == (1, False)  # a fresh row, once the claim is gone
    with new_uow() as uow:
        assert uow.artifacts.get(artifact(1).id).ref_count == 1


@pytest.mark.concurrent
@pytest.mark.parametrize("new_uow", ["sqlite", POSTGRES], indirect=True)
def test_two_demotions_of_the_last_two_administrators_cannot_both_commit(
    new_uow: UowFactory,
) -> None:
    """One transaction locks the administrators and demotes one; the other, demoting the
    second, waits for it, then finds a single administrator left and is refused."""
    with new_uow() as uow:
        for name in ("first", "second"):
            uow.users.add(User(name, "h", is_admin=True, created_at=T0))
        uow.commit()
    locked, release = threading.Event(), threading.Event()

    def demote_first() -> None:
        with new_uow() as uow:
            assert [u.username for u in uow.users.lock_admins()] == ["first", "second"]
            locked.set()
            release.wait(30)
            user = uow.users.get("first")
            user.is_admin = False
            uow.users.update(user)
            uow.commit()

    def demote_second() -> object:
        locked.wait(30)
        return admin.set_admin(new_uow(), username="second", is_admin=False)

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(demote_first)
        second = pool.submit(demote_second)
        locked.wait(30)
        with pytest.raises(FutureTimeout):
            second.result(timeout=1)  # waiting on the administrators' rows
        release.set()
        first.result(30)
        with pytest.raises(Conflict, match="'second' is the last administrator"):
            second.result(30)
    with new_uow() as uow:
        assert [u.username for u in uow.users.lock_admins()] == ["second"]
