"""Releasing references: the one place ref counts go down."""

from __future__ import annotations

from datetime import datetime

from domain.ports import UnitOfWork


def release_references(uow: UnitOfWork, counts: dict[str, int], at: datetime) -> None:
    """Release ``count`` references of each artifact inside the caller's transaction.

    Blobs are never deleted here: an artifact that falls to zero is garbage, collected
    later after the grace period.
    """
    for artifact_id, count in sorted(counts.items()):
        if count:
            uow.artifacts.release(artifact_id, count, at)
