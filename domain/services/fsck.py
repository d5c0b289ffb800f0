"""fsck: compare what the blob store holds with what the database says it holds.

Every blob is re-hashed while it streams (bounded memory), so a bit flip on disk or a
truncated object is found even though its key looks right. Five kinds of problem:

- missing: an artifact row whose blob is gone (the bytes are lost: re-upload them);
- corrupt: a blob whose bytes no longer hash to its key;
- orphan: a blob without a row, older than the grace period (``orchard gc`` removes it;
  a younger one may belong to an upload that is still committing);
- drift: ``ref_count`` differs from the number of uploads holding the artifact;
- temporary: uploads a killed worker never finished (a file under ``.tmp/``, an S3
  multipart upload), untouched for the grace period (``orchard gc`` removes them).

``repair`` recomputes drifted counts from the uploads and quarantines corrupt blobs so
they are no longer served. Missing bytes cannot be repaired here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from domain.errors import BlobNotFound
from domain.ports import BlobStore, Clock, UnitOfWork
from domain.services.progress import NO_PROGRESS, Progress, listed


@dataclass(frozen=True)
class Drift:
    artifact_id: str
    recorded: int
    actual: int


@dataclass
class FsckReport:
    blobs_checked: int = 0
    bytes_checked: int = 0
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    recounted: list[str] = field(default_factory=list)
    temporary: int = 0
    temporary_bytes: int = 0

    @property
    def problems(self) -> int:
        found = len(self.missing) + len(self.corrupt) + len(self.orphans) + len(self.drift)
        return found + self.temporary

    @property
    def unrepaired(self) -> int:
        """Problems still standing: what the exit code reports."""
        return self.problems - len(self.quarantined) - len(self.recounted)


def hash_blob(blobs: BlobStore, sha256: str) -> tuple[str, int]:
    """The SHA-256 and size of a stored blob, streamed chunk by chunk."""
    digest, size = hashlib.sha256(), 0
    reader = blobs.open(sha256)
    try:
        for chunk in reader:
            digest.update(chunk)
            size += len(chunk)
    finally:
        reader.close()
    return digest.hexdigest(), size


def check_store(
    uow_factory: Callable[[], UnitOfWork],
    blobs: BlobStore,
    clock: Clock,
    *,
    grace: timedelta,
    repair: bool = False,
    progress: Progress = NO_PROGRESS,
) -> FsckReport:
    """Check every blob and every artifact row; with ``repair`` fix what can be fixed."""
    report = FsckReport()
    cutoff = clock.now() - grace
    with uow_factory() as uow:
        known = uow.artifacts.all_ids()
    seen = _check_blobs(blobs, known, cutoff, report, progress)
    report.missing = sorted(known - seen)
    report.drift = _find_drift(uow_factory)
    stale = blobs.stale_temporary(cutoff)
    report.temporary, report.temporary_bytes = stale.count, stale.bytes
    if repair:
        _repair(uow_factory, blobs, clock, report)
    return report


def _check_blobs(
    blobs: BlobStore, known: set[str], cutoff, report: FsckReport, progress: Progress
) -> set[str]:
    seen: set[str] = set()
    found = listed(blobs.iter_blobs(), progress, "blobs listed")
    progress.start(len(found), "blobs")  # re-hashing them is the long part
    for sha256 in found:
        try:
            actual, size = hash_blob(blobs, sha256)
        except BlobNotFound:
            continue  # deleted by gc while we walked: neither seen nor a problem
        seen.add(sha256)
        report.blobs_checked += 1
        report.bytes_checked += size
        if actual != sha256:
            report.corrupt.append(sha256)
        elif sha256 not in known and _older_than(blobs, sha256, cutoff):
            report.orphans.append(sha256)
        progress.advance(1)
    return seen


def _older_than(blobs: BlobStore, sha256: str, cutoff) -> bool:
    modified = blobs.modified_at(sha256)
    return modified is not None and modified < cutoff


def _find_drift(uow_factory: Callable[[], UnitOfWork]) -> list[Drift]:
    with uow_factory() as uow:
        actual = uow.uploads.references_by_artifact()
        rows = [uow.artifacts.get(sha) for sha in sorted(uow.artifacts.all_ids())]
    return [
        Drift(row.id, row.ref_count, actual.get(row.id, 0))
        for row in rows
        if row is not None and row.ref_count != actual.get(row.id, 0)
    ]


def _repair(
    uow_factory: Callable[[], UnitOfWork], blobs: BlobStore, clock: Clock, report: FsckReport
) -> None:
    for sha256 in report.corrupt:
        try:
            blobs.quarantine(sha256)
        except BlobNotFound:
            continue
        report.quarantined.append(sha256)
    for drift in report.drift:
        if _recount(uow_factory(), clock, drift.artifact_id):
            report.recounted.append(drift.artifact_id)


def _recount(uow: UnitOfWork, clock: Clock, artifact_id: str) -> bool:
    """Count again inside the repairing transaction, so an upload that committed since the
    first count is not undone."""
    with uow:
        row = uow.artifacts.get(artifact_id)
        if row is None:
            return False
        actual = uow.uploads.references_by_artifact().get(artifact_id, 0)
        if row.ref_count != actual:
            uow.artifacts.set_ref_count(artifact_id, actual, clock.now())
            uow.commit()
        return True
