"""Artifacts and uploads: reference counts, garbage, orphan claims."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import Conflict
from domain.ports import UnitOfWork
from tests.integration.metadata_contract.support import (
    T0,
    UowFactory,
    artifact,
    seed,
    upload,
)


def test_add_reference_counts_each_reference_and_reports_existence(uow: UnitOfWork) -> None:
    with uow:
        assert uow.artifacts.add_reference(artifact(1)) == (1, False)
        assert uow.artifacts.add_reference(artifact(1)) == (2, True)
        uow.commit()
    with uow:
        stored = uow.artifacts.get(artifact(1).id)
        assert (stored.ref_count, stored.size, stored.md5) == (2, 10, artifact(1).md5)
        assert uow.artifacts.all_ids() == {artifact(1).id}


def test_released_artifacts_become_garbage_after_the_cutoff(uow: UnitOfWork) -> None:
    gone, at = artifact(1).id, T0 + timedelta(hours=1)
    with uow:
        uow.artifacts.add_reference(artifact(1))
        uow.artifacts.add_reference(artifact(1))
        assert uow.artifacts.release(gone, 1, at) == 1
        assert uow.artifacts.get(gone).released_at is None
        assert uow.artifacts.release(gone, 1, at) == 0
        uow.commit()
    with uow:
        assert uow.artifacts.get(gone).released_at == at
        assert uow.artifacts.list_garbage(at, 10) == []
        assert uow.artifacts.lock_garbage(gone, at) is None
        later = at + timedelta(seconds=1)
        assert [a.id for a in uow.artifacts.list_garbage(later, 10)] == [gone]
        assert uow.artifacts.lock_garbage(gone, later).id == gone
        uow.artifacts.delete(gone)
        uow.commit()
    with uow:
        assert uow.artifacts.get(gone) is None


def test_releasing_more_than_held_is_a_conflict(uow: UnitOfWork) -> None:
    with uow:
        uow.artifacts.add_reference(artifact(1))
        with pytest.raises(Conflict):
            uow.artifacts.release(artifact(1).id, 2, T0)
        uow.rollback()
        assert uow.artifacts.get(artifact(1).id) is None
        assert uow.artifacts.release(artifact(1).id, 1, T0) == 0  # nothing to release


def test_a_new_reference_rescues_garbage(uow: UnitOfWork) -> None:
    later = T0 + timedelta(days=1)
    with uow:
        uow.artifacts.add_reference(artifact(1))
        uow.artifacts.release(artifact(1).id, 1, T0)
        assert uow.artifacts.add_reference(artifact(1)) == (1, True)
        assert uow.artifacts.lock_garbage(artifact(1).id, later) is None
        uow.artifacts.set_ref_count(artifact(1).id, 0, T0)
        assert [a.id for a in uow.artifacts.list_garbage(later, 10)] == [artifact(1).id]
        uow.artifacts.set_ref_count(artifact(1).id, 3, later)
        assert uow.artifacts.get(artifact(1).id).ref_count == 3


def test_an_orphan_claim_is_refused_for_a_known_artifact_and_leaves_no_row(
    new_uow: UowFactory,
) -> None:
    with new_uow() as uow:
        uow.artifacts.add_reference(artifact(1))
        uow.commit()
    with new_uow() as uow:
        assert uow.artifacts.claim_orphan(artifact(1).id, T0) is False
        assert uow.artifacts.claim_orphan(artifact(2).id, T0) is True
        assert uow.artifacts.claim_orphan(artifact(2).id, T0) is False  # held already
    with new_uow() as uow:  # left without commit: the claim is gone
        assert uow.artifacts.get(artifact(2).id) is None
        assert uow.artifacts.get(artifact(1).id).ref_count == 1


def test_uploads_are_listed_counted_and_deleted(uow: UnitOfWork) -> None:
    package = seed(uow)
    other = seed(uow, "proj2", "other")
    with uow:
        first, second = upload(uow, package, 1), upload(uow, package, 1, T0 + timedelta(1))
        upload(uow, package, 2, T0 - timedelta(1))
        upload(uow, other, 1)
        page, total = uow.uploads.list_page(package.id, limit=2, offset=0)
        assert ([u.id for u in page], total) == ([second.id, first.id], 3)
        held, total = uow.uploads.held_artifacts(package.id, limit=1, offset=1)
        assert total == 2
        assert [(a.id, a.size, count) for a, count in held] == [
            (artifact(2).id, artifact(2).size, 1)
        ]
        held, _ = uow.uploads.held_artifacts(package.id, limit=5, offset=0)
        assert [(a.id, count) for a, count in held] == [(artifact(1).id, 2), (artifact(2).id, 1)]
        assert uow.uploads.references_by_artifact(project_id=other.project_id) == {
            artifact(1).id: 1
        }
        assert uow.uploads.references_by_artifact() == {artifact(1).id: 3, artifact(2).id: 1}
        assert uow.uploads.package_holds(package.id, artifact(2).id)
        assert uow.uploads.latest_for_artifact(package.id, artifact(1).id).id == second.id
        holders = uow.uploads.readable_packages_holding(artifact(1).id)
        assert [(p.name, k.name) for p, k in holders] == [("proj", "pkg"), ("proj2", "other")]
        assert uow.uploads.delete(first.id).original_name == "file1.bin"
        assert uow.uploads.delete(first.id) is None
        assert uow.uploads.delete_for_artifact(package.id, artifact(1).id) == 1
        assert not uow.uploads.package_holds(package.id, artifact(1).id)
