"""A release is a version holding several files; its version row names its first file.

The version row is what the generic API (``/versions/V``, ``+/version:V``) resolves, so
it must always point at a file the package still holds: these helpers re-point or drop it
when files come and go, inside the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from domain.errors import InvalidInput, NotFound
from domain.model import Distribution, Package, PackageFormat, Version, VersionSource
from domain.ports import UnitOfWork


def is_live(distribution: Distribution) -> bool:
    """Listed and downloadable: not deleted, and still holding its upload's reference
    (an upload removed through the generic API leaves ``upload_id`` empty)."""
    return distribution.deleted_at is None and distribution.upload_id is not None


def live_files(
    uow: UnitOfWork, package: Package, version: str | None = None, *, with_metadata: bool = True
) -> list[Distribution]:
    """The package's live files in release order, optionally of one version only."""
    listed = uow.distributions.list_live(package.id, with_metadata=with_metadata)
    found = [d for d in listed if is_live(d)]
    return [d for d in found if version is None or d.version == version]


def release_files(uow: UnitOfWork, package: Package, version: str) -> list[Distribution]:
    """The live files of a release; ``NotFound`` when it has none."""
    files = live_files(uow, package, version)
    if not files:
        raise NotFound(f"Release '{version}' of '{package.name}' has no files.")
    return files


def live_file(uow: UnitOfWork, package: Package, filename: str) -> Distribution:
    found = uow.distributions.get(package.id, filename)
    if found is None or not is_live(found):
        raise NotFound(f"File '{filename}' not found in package '{package.name}'.")
    return found


def require_pypi(package: Package) -> Package:
    if package.format is not PackageFormat.PYPI:
        raise InvalidInput(f"Package '{package.name}' is not a Python ('pypi') package.")
    return package


def claim_version(
    uow: UnitOfWork, package: Package, version: str, sha256: str, at: datetime
) -> None:
    """Record the release if it is new; its first file names it."""
    uow.versions.add_if_absent(
        Version(
            package_id=package.id,
            version=version,
            artifact_id=sha256,
            version_source=VersionSource.EXPLICIT,
            created_at=at,
        )
    )


def repoint_version(uow: UnitOfWork, package: Package, version: str, at: datetime) -> None:
    """After files changed: keep the version row on a live file of the release, or drop it."""
    stored = uow.versions.get(package.id, version)
    files = live_files(uow, package, version)
    if stored is not None and stored.artifact_id in {d.artifact_id for d in files}:
        return
    if stored is not None:
        uow.versions.delete(package.id, version)
    if files:
        claim_version(uow, package, version, files[0].artifact_id, at)
