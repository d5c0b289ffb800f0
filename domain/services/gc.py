"""Garbage collection: delete blobs nobody references, never one that is still wanted.

An artifact becomes garbage when its reference count falls to zero. Its blob is deleted
only after a grace period, while this transaction holds the artifact row's lock: an
upload of the same bytes takes that lock before promoting its blob, so the two never
interleave. Blobs without any row (orphans of a failed commit) and stale temporary
uploads are swept after the same grace period; an orphan is deleted while its id is
claimed (``claim_orphan``), which makes an upload of the same bytes wait. A blob found
absent is never "deleted": an upload may place new bytes there without any row lock
(``BlobStore.place_new``), and its fresh modification time is what keeps it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.errors import BlobNotFound
from domain.ports import BlobStore, Clock, UnitOfWork
from domain.services.progress import NO_PROGRESS, Progress, listed


@dataclass
class GcReport:
    dry_run: bool
    artifacts: list[str] = field(default_factory=list)
    bytes_freed: int = 0
    orphans: list[str] = field(default_factory=list)
    orphan_bytes: int = 0
    temporary: int = 0  # stale temporary uploads found (and with apply, swept)
    temporary_bytes: int = 0
    temporary_removed: int = 0

    @property
    def total_bytes(self) -> int:
        """Bytes freed (or that would be): garbage artifacts plus orphan blobs."""
        return self.bytes_freed + self.orphan_bytes


def collect_garbage(
    uow_factory: Callable[[], UnitOfWork],
    blobs: BlobStore,
    clock: Clock,
    *,
    grace: timedelta,
    apply: bool = False,
    limit: int = 10_000,
    progress: Progress = NO_PROGRESS,
) -> GcReport:
    """Find (and with ``apply``, delete) garbage released before ``now - grace``.

    Blobs touched after the cutoff are kept whatever the database says (an upload may be
    promoting them), and temporary objects are swept only when older than the cutoff.
    """
    cutoff = clock.now() - grace
    report = GcReport(dry_run=not apply)
    with uow_factory() as uow:
        candidates = uow.artifacts.list_garbage(cutoff, limit)
    progress.start(len(candidates), "artifacts")
    for artifact in candidates:
        if not apply or _delete_garbage(uow_factory(), blobs, artifact.id, cutoff):
            report.artifacts.append(artifact.id)
            report.bytes_freed += artifact.size
        progress.advance(1)
    orphans = _find_orphans(uow_factory, blobs, cutoff, progress)
    report.orphan_bytes = sum(_size_of(blobs, sha) for sha in orphans)
    report.orphans = [
        sha
        for sha in orphans
        if not apply or _delete_orphan(uow_factory(), blobs, sha, cutoff, clock.now())
    ]
    stale = blobs.stale_temporary(cutoff)  # uploads a killed worker never finished
    report.temporary, report.temporary_bytes = stale.count, stale.bytes
    if apply:
        report.temporary_removed = blobs.sweep_temporary(cutoff)
    return report


def _delete_garbage(uow: UnitOfWork, blobs: BlobStore, artifact_id: str, cutoff) -> bool:
    with uow:
        artifact = uow.artifacts.lock_garbage(artifact_id, cutoff)
        if artifact is None:
            return False
        modified = blobs.modified_at(artifact_id)
        if modified is not None and modified >= cutoff:
            return False
        if modified is not None:
            blobs.delete(artifact_id)
        # else the blob is gone already: deleting "it" now could delete one an upload
        # has just placed (BlobStore.place_new), which takes no row lock first.
        uow.artifacts.delete(artifact_id)
        uow.commit()
        return True


def _find_orphans(
    uow_factory: Callable[[], UnitOfWork], blobs: BlobStore, cutoff, progress: Progress
) -> list[str]:
    with uow_factory() as uow:
        known = uow.artifacts.all_ids()
    orphans = []
    found = listed(blobs.iter_blobs(), progress, "blobs listed")
    progress.start(len(found), "blobs")
    for sha in found:
        if sha not in known and not _touched_since(blobs, sha, cutoff):
            orphans.append(sha)
        progress.advance(1)
    return orphans


def _delete_orphan(
    uow: UnitOfWork, blobs: BlobStore, sha256: str, cutoff: datetime, now: datetime
) -> bool:
    """Delete a blob no row names, while holding its id against an upload of the same
    bytes: that upload refreshes the blob it finds and records a row for it, so deleting
    between its refresh and its commit would lose the bytes its row points to."""
    return _delete_unrecorded(uow, blobs, sha256, now, cutoff)


def withdraw_unrecorded(uow: UnitOfWork, blobs: BlobStore, sha256: str, now: datetime) -> bool:
    """Delete a blob an upload placed (``BlobStore.place_new``) whose transaction then
    failed, unless a row names it by now: an upload of the same bytes that found it
    placed refreshed it and recorded its own row, which this claim waits for or sees."""
    return _delete_unrecorded(uow, blobs, sha256, now, None)


def _delete_unrecorded(
    uow: UnitOfWork, blobs: BlobStore, sha256: str, now: datetime, cutoff: datetime | None
) -> bool:
    with uow:  # never committed: leaving rolls the claim back
        if not uow.artifacts.claim_orphan(sha256, now):
            return False  # an upload recorded it since
        modified = blobs.modified_at(sha256)
        if modified is None or (cutoff is not None and modified >= cutoff):
            return False  # placed or refreshed since (or gone: never delete what is absent)
        blobs.delete(sha256)
        return True


def _size_of(blobs: BlobStore, sha256: str) -> int:
    """The size of an orphan blob (it has no row to say), 0 once it is gone."""
    try:
        reader = blobs.open(sha256)
    except BlobNotFound:
        return 0
    reader.close()
    return reader.size


def _touched_since(blobs: BlobStore, sha256: str, cutoff) -> bool:
    """A blob written or refreshed after the cutoff may belong to an in-flight upload."""
    modified = blobs.modified_at(sha256)
    return modified is not None and modified >= cutoff


def gc_grace(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)
