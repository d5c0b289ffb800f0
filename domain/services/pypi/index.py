"""What the simple index shows, as plain values (renderers live in the entry points),
and the lookups behind its file URLs.

Reading a private index: an anonymous caller gets ``Unauthenticated`` (401, so pip and uv
retry with the credentials from the URL, netrc or keyring) whether or not the project
exists, so a 401 reveals nothing; an authenticated non-member gets ``NotFound``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from domain.access import Principal, can_read
from domain.errors import NotFound, Unauthenticated
from domain.model import Artifact, Distribution, Package, PackageFormat, Project
from domain.names import normalize_pypi_name
from domain.ports import UnitOfWork
from domain.services.artifacts import ResolvedArtifact
from domain.services.pypi.releases import is_live, live_files


@dataclass(frozen=True)
class IndexFile:
    filename: str
    version: str
    sha256: str
    size: int | None  # None only for an upstream file whose page did not say (PEP 503)
    upload_time: datetime | None
    requires_python: str | None
    yanked: bool
    yanked_reason: str | None
    metadata_sha256: str | None  # set only where a .metadata file exists (PEP 658/714)


@dataclass(frozen=True)
class ProjectPage:
    name: str
    files: tuple[IndexFile, ...]
    versions: tuple[str, ...]
    package_id: int
    serial: int  # grows with every upload, yank and delete: the ETag is built from it

    @property
    def key(self) -> PageKey:
        return PageKey(self.package_id, self.serial)


@dataclass(frozen=True)
class RootKey:
    """What the index root's content depends on: the project's package list, whose
    serial grows with every package added or deleted."""

    project_id: int
    serial: int


@dataclass(frozen=True)
class RootPage:
    names: tuple[str, ...]
    key: RootKey  # read before the names: the names are at least this new


def index_project(uow: UnitOfWork, actor: Principal | None, name: str) -> Project:
    """The project whose index the caller may read; 401 for anonymous, else 404."""
    project = uow.projects.get(name)
    if project is not None and can_read(uow, actor, project):
        return project
    _refuse(actor, name)


def _refuse(actor: Principal | None, project: str) -> NoReturn:
    if actor is None:
        raise Unauthenticated(f"The index '{project}' needs credentials.")
    raise NotFound(f"Project '{project}' not found.")


def root_page(
    uow: UnitOfWork,
    *,
    actor: Principal | None,
    project: str,
    have: Callable[[RootKey], bool] | None = None,
) -> RootPage | RootKey:
    """Every Python package of the project (PEP 503 root), or only the page's key where
    ``have(key)`` says the caller holds that page already."""
    with uow:
        owner = index_project(uow, actor, project)
        key = RootKey(owner.id, owner.index_serial)  # before the names: they are this new
        if have is not None and have(key):
            return key
        return RootPage(names=tuple(uow.packages.names(owner.id, format="pypi")), key=key)


def project_page(
    uow: UnitOfWork,
    *,
    actor: Principal | None,
    project: str,
    name: str,
    have: Callable[[PageKey], bool] | None = None,
) -> ProjectPage | PageKey:
    """The live files of one package with what PEP 503/592/658/691/700 show of them, or
    only the page's key where ``have(key)`` says the caller holds that page already (a
    rendering it cached, or the client's ETag): one transaction either way, and the files
    are read only when needed.

    The serial is read before the files. Under READ COMMITTED an upload may commit between
    the two reads; the page then holds more than its key says, and is replaced at the next
    request. The other order would file a page that misses a file under the new key.
    """
    with uow:
        package = index_package(uow, actor, project, name)
        key = PageKey(package.id, package.serial)
        if have is not None and have(key):
            return key
        files = tuple(_index_file(d) for d in live_files(uow, package, with_metadata=False))
        return ProjectPage(
            name=package.name,
            files=files,
            versions=tuple(dict.fromkeys(f.version for f in files)),
            package_id=package.id,
            serial=key.serial,
        )


@dataclass(frozen=True)
class PageKey:
    """What a project page's content depends on: it changes with every upload, yank and
    delete, so a rendered page can be reused for as long as the key is the same."""

    package_id: int
    serial: int


def index_package(uow: UnitOfWork, actor: Principal | None, project: str, name: str) -> Package:
    found = uow.packages.find(project, normalize_pypi_name(name))
    owner, package = found if found is not None else (None, None)
    if owner is None or not can_read(uow, actor, owner):
        _refuse(actor, project)
    if package is None or package.format is not PackageFormat.PYPI:
        raise NotFound(f"No Python package '{name}' in project '{project}'.")
    return package


def find_file(
    uow: UnitOfWork, *, actor: Principal | None, project: str, sha256: str, filename: str
) -> ResolvedArtifact:
    """The file behind ``/files/<sha256>/<filename>``."""
    with uow:
        owner, found, artifact = _index_file_lookup(
            uow, actor, project, sha256, filename, with_metadata=False
        )
        if found is None or artifact is None:
            raise NotFound(f"File '{filename}' not found.")
        package = Package(owner.id, "", PackageFormat.PYPI, id=found.package_id)
        return ResolvedArtifact(artifact=artifact, filename=filename, package=package)


def core_metadata(
    uow: UnitOfWork, *, actor: Principal | None, project: str, sha256: str, filename: str
) -> bytes:
    """The wheel's METADATA behind ``<file>.metadata``; NotFound where none was extracted."""
    with uow:
        _, found, _ = _index_file_lookup(uow, actor, project, sha256, filename, with_metadata=True)
        if found is None or not found.core_metadata:
            raise NotFound(f"No metadata for '{filename}'.")
        return found.core_metadata


def _index_file_lookup(
    uow: UnitOfWork,
    actor: Principal | None,
    project: str,
    sha256: str,
    filename: str,
    *,
    with_metadata: bool,
) -> tuple[Project, Distribution | None, Artifact | None]:
    """The project index the caller may read (401 for anonymous, else 404 when it is
    missing or hidden) with its live file of those bytes and that name and the file's
    artifact; Nones when there is no such file."""
    found = uow.distributions.find_in_project(
        project, sha256.lower(), filename, with_metadata=with_metadata
    )
    if found is None or not can_read(uow, actor, found[0]):
        _refuse(actor, project)
    owner, distribution, artifact = found
    if distribution is None or not is_live(distribution):
        return owner, None, None
    return owner, distribution, artifact


def release_file(uow: UnitOfWork, package: Package, version: str, filename: str) -> Artifact:
    """One file of a release (``+/version:V?filename=F``)."""
    found = uow.distributions.get(package.id, filename)
    artifact = uow.artifacts.get(found.artifact_id) if found and is_live(found) else None
    if found is None or artifact is None or found.version != version:
        raise NotFound(f"Release '{version}' of '{package.name}' has no file '{filename}'.")
    return artifact


def _index_file(distribution: Distribution) -> IndexFile:
    return IndexFile(
        filename=distribution.filename,
        version=distribution.version,
        sha256=distribution.artifact_id,
        size=distribution.size,
        upload_time=distribution.created_at,
        requires_python=distribution.requires_python,
        yanked=distribution.yanked,
        yanked_reason=distribution.yanked_reason,
        metadata_sha256=distribution.metadata_sha256,
    )
