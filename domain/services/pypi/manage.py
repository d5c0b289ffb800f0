"""Yank, unyank (PEP 592) and delete, per file or per release.

A yanked file stays installable by an exact pin (``==``) but is skipped otherwise. A
deleted file leaves a tombstone that keeps its filename (never reused with other bytes)
and releases the reference its upload held; the blob goes at garbage collection.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from domain.access import Principal
from domain.errors import InvalidInput
from domain.model import Distribution, Package, PackageFormat
from domain.ports import Clock, UnitOfWork
from domain.references import resolve_reference
from domain.services.artifacts import ResolvedArtifact
from domain.services.projects import readable_package, writable_package
from domain.services.pypi.index import release_file
from domain.services.pypi.releases import (
    live_file,
    release_files,
    repoint_version,
    require_pypi,
)
from domain.services.references import release_references

MAX_REASON = 1000


def yank(
    uow: UnitOfWork,
    clock: Clock,
    *,
    actor: Principal | None,
    project: str,
    package: str,
    filename: str | None = None,
    version: str | None = None,
    reason: str | None = None,
) -> list[str]:
    """Yank one file or every file of a release; returns the filenames yanked."""
    reason = _reason(reason)
    return _change(uow, clock, actor, project, package, filename, version, _yanker(reason))


def unyank(
    uow: UnitOfWork,
    clock: Clock,
    *,
    actor: Principal | None,
    project: str,
    package: str,
    filename: str | None = None,
    version: str | None = None,
) -> list[str]:
    return _change(uow, clock, actor, project, package, filename, version, _yanker(None, False))


def delete(
    uow: UnitOfWork,
    clock: Clock,
    *,
    actor: Principal | None,
    project: str,
    package: str,
    filename: str | None = None,
    version: str | None = None,
) -> list[str]:
    """Delete one file or a whole release: tombstones, references released."""
    return _change(uow, clock, actor, project, package, filename, version, tombstone)


def delete_release(uow: UnitOfWork, package: Package, version: str, at: datetime) -> bool:
    """Inside the caller's transaction: tombstone every live file of a release of a pypi
    package (the generic ``DELETE .../versions/V`` calls this). False when it has none."""
    if package.format is not PackageFormat.PYPI:
        return False
    files = [d for d in uow.distributions.list_live(package.id) if d.version == version]
    for distribution in files:
        tombstone(uow, package, distribution, at)
    return bool(files)


def tombstone(uow: UnitOfWork, package: Package, distribution: Distribution, at: datetime) -> None:
    distribution.deleted_at = at
    upload_id, distribution.upload_id = distribution.upload_id, None
    if upload_id is not None and uow.uploads.delete(upload_id) is not None:
        release_references(uow, {distribution.artifact_id: 1}, at)
    uow.distributions.update(distribution)
    repoint_version(uow, package, distribution.version, at)


def list_release(
    uow: UnitOfWork, *, actor: Principal | None, project: str, package: str, version: str
) -> list[Distribution] | None:
    """The live files of a release, or None when the package is not a pypi package."""
    with uow:
        pkg = readable_package(uow, actor, project, package)
        if pkg.format is not PackageFormat.PYPI:
            return None
        return release_files(uow, pkg, version)


def resolve_release_file(
    uow: UnitOfWork,
    *,
    actor: Principal | None,
    project: str,
    package: str,
    ref: str,
    filename: str,
) -> ResolvedArtifact:
    """``+/version:V?filename=F``: one file of the release the reference names."""
    with uow:
        pkg = require_pypi(readable_package(uow, actor, project, package))
        version = ref.removeprefix("version:")
        resolve_reference(
            f"version:{version}",
            find_tag=lambda _name: None,
            find_version=lambda name: _version_target(uow, pkg, name),
            holds_artifact=lambda _sha: False,
        )
        artifact = release_file(uow, pkg, version, filename)
        return ResolvedArtifact(artifact=artifact, filename=filename, package=pkg)


def _version_target(uow: UnitOfWork, package: Package, name: str) -> str | None:
    found = uow.versions.get(package.id, name)
    return found.artifact_id if found else None


def _change(
    uow: UnitOfWork,
    clock: Clock,
    actor: Principal | None,
    project: str,
    package: str,
    filename: str | None,
    version: str | None,
    apply: Callable[[UnitOfWork, Package, Distribution, datetime], None],
) -> list[str]:
    if (filename is None) == (version is None):
        raise InvalidInput("Name exactly one of a file or a release version.")
    with uow:
        _, pkg = writable_package(uow, actor, project, package)
        require_pypi(pkg)
        if filename is not None:
            files = [live_file(uow, pkg, filename)]
        elif version is not None:
            files = release_files(uow, pkg, version)
        else:  # excluded above; spelt out so that each branch has its name
            raise InvalidInput("Name exactly one of a file or a release version.")
        now = clock.now()
        for distribution in files:
            apply(uow, pkg, distribution, now)
        uow.packages.touch(pkg.id, now)
        uow.commit()
        return [d.filename for d in files]


def _yanker(
    reason: str | None, yanked: bool = True
) -> Callable[[UnitOfWork, Package, Distribution, datetime], None]:
    def apply(uow: UnitOfWork, _pkg: Package, distribution: Distribution, _at: datetime) -> None:
        distribution.yanked, distribution.yanked_reason = yanked, reason
        uow.distributions.update(distribution)

    return apply


def _reason(reason: str | None) -> str | None:
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"The yank reason is longer than {MAX_REASON} characters.")
    return reason or None
