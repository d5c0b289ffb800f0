"""What the web pages show, each page read in one unit of work.

The API answers one question per request; a page shows several at once (a project with
its packages and members, a package with its releases and description). Reading them in
one transaction keeps a page consistent and costs one connection checkout. The access
rules are the API's (``readable_project``, ``role_in``): a private project the caller
may not read is ``NotFound`` here exactly as there.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime

from domain.access import Principal, readable_project, require_role, role_in
from domain.errors import InvalidInput, NotFound
from domain.model import (
    Artifact,
    Distribution,
    Package,
    PackageFormat,
    Page,
    Project,
    Role,
    Tag,
)
from domain.ports import UnitOfWork
from domain.services.projects import writable_package
from domain.services.pypi.releases import live_files
from domain.services.upstream.plan import UpstreamContext
from domain.services.upstream.state import UpstreamState, upstream_state

MAX_LIMIT = 200


@dataclass(frozen=True)
class ProjectView:
    project: Project
    role: Role | None  # the caller's; None for a reader of a public project
    packages: Page
    members: Page | None  # of Membership, only for the project's admins
    upstream: UpstreamState | None = None  # only for its admins, when asked for


@dataclass(frozen=True)
class Release:
    version: str
    files: list[Distribution]

    @property
    def uploaded_at(self) -> datetime:
        return min(f.created_at for f in self.files)

    @property
    def yanked(self) -> bool:
        return all(f.yanked for f in self.files)

    @property
    def requires_python(self) -> str | None:
        return next((f.requires_python for f in self.files if f.requires_python), None)


@dataclass(frozen=True)
class ReleaseListing:
    """Everything a pypi package's page shows of its files, whatever the page number."""

    releases: tuple[Release, ...]  # newest first
    latest: Release | None
    core_metadata: bytes | None
    file_count: int


ListingKey = tuple[int, int]  # (package id, serial)


@dataclass(frozen=True)
class PythonPackageView:
    project: Project
    package: Package
    role: Role | None
    releases: Page  # of Release, newest first
    latest: Release | None  # newest release that is not wholly yanked (else the newest)
    core_metadata: bytes | None  # of the latest release's first wheel: the description
    file_count: int


@dataclass(frozen=True)
class StoredArtifact:
    artifact: Artifact
    filename: str  # the name of its latest upload into the package
    uploads: int  # how many of the package's uploads hold it


@dataclass(frozen=True)
class GenericPackageView:
    project: Project
    package: Package
    role: Role | None
    tags: Page  # of Tag
    versions: Page  # of Version
    artifacts: Page  # of StoredArtifact


@dataclass(frozen=True)
class TagView:
    project: Project
    package: Package
    name: str
    tag: Tag | None  # None once deleted: its history stays
    history: Page  # of TagChange, newest first


def project_view(
    uow: UnitOfWork,
    *,
    actor: Principal | None,
    project: str,
    search: str | None = None,
    page: int = 1,
    limit: int = 50,
    members_page: int = 1,
    upstream: UpstreamContext | None = None,
    cache_page: int = 1,
) -> ProjectView:
    """A project with one page of its packages and, for its admins, one of its members
    and (given ``upstream``) its upstream settings with one page of its cache."""
    _check_page(page, limit)
    _check_page(members_page, limit)
    _check_page(cache_page, limit)
    with uow:
        owner = readable_project(uow, actor, project)
        role = role_in(uow, actor, owner)
        items, total = uow.packages.list_page(
            owner.id, search=search, format=None, limit=limit, offset=(page - 1) * limit
        )
        everyone = uow.members.list_for_project(owner.id) if role is Role.ADMIN else None
        cache = None
        if role is Role.ADMIN and upstream is not None:
            cache = upstream_state(uow, upstream, owner, page=cache_page, limit=limit)
    for item in items:
        item.project_name = owner.name
    members = None
    if everyone is not None:
        shown = everyone[(members_page - 1) * limit : members_page * limit]
        members = Page(shown, len(everyone), members_page, limit)
    return ProjectView(owner, role, Page(items, total, page, limit), members, cache)


def package_view(
    uow: UnitOfWork,
    *,
    actor: Principal | None,
    project: str,
    package: str,
    page: int = 1,
    limit: int = 20,
    known: MutableMapping[ListingKey, ReleaseListing] | None = None,
) -> PythonPackageView | GenericPackageView:
    """A package's page, by its format: a pypi package's releases (newest first,
    ``limit`` per page) with their files and the METADATA of the wheel whose description
    the page shows; a generic package's tags, versions and artifacts (``page`` pages all
    three).

    ``known`` keeps release listings the caller may reuse: a listing depends only on the
    package's serial, which grows with every upload, yank and delete, so one read under
    the same ``(package id, serial)`` is still right (as the index's page cache).
    """
    _check_page(page, limit)
    with uow:
        owner, pkg, role = _package(uow, actor, project, package)
        if pkg.format is PackageFormat.PYPI:
            return _python_view(uow, owner, pkg, role, page, limit, known)
        return _generic_view(uow, owner, pkg, role, page, limit)


def _python_view(
    uow: UnitOfWork,
    owner: Project,
    pkg: Package,
    role: Role | None,
    page: int,
    limit: int,
    known: MutableMapping[ListingKey, ReleaseListing] | None,
) -> PythonPackageView:
    key = (pkg.id, pkg.serial)
    listing = known.get(key) if known is not None else None
    if listing is None:
        listing = _release_listing(uow, pkg)
        if known is not None:
            known[key] = listing
    releases = listing.releases
    return PythonPackageView(
        project=owner,
        package=pkg,
        role=role,
        releases=Page(
            list(releases[(page - 1) * limit : page * limit]), len(releases), page, limit
        ),
        latest=listing.latest,
        core_metadata=listing.core_metadata,
        file_count=listing.file_count,
    )


def _release_listing(uow: UnitOfWork, pkg: Package) -> ReleaseListing:
    files = live_files(uow, pkg, with_metadata=False)  # in release order, oldest first
    releases = _releases(files)
    latest = next((r for r in releases if not r.yanked), releases[0] if releases else None)
    wheels = [f for f in latest.files if f.packagetype == "bdist_wheel"] if latest else []
    stored = uow.distributions.get(pkg.id, wheels[0].filename) if wheels else None
    return ReleaseListing(
        tuple(releases), latest, stored.core_metadata if stored else None, len(files)
    )


def _generic_view(
    uow: UnitOfWork, owner: Project, pkg: Package, role: Role | None, page: int, limit: int
) -> GenericPackageView:
    offset = (page - 1) * limit
    tags, tag_total = uow.tags.list_page(pkg.id, search=None, limit=limit, offset=offset)
    versions, version_total = uow.versions.list_page(
        pkg.id, search=None, limit=limit, offset=offset
    )
    held, held_total = uow.uploads.held_artifacts(pkg.id, limit=limit, offset=offset)
    stored = []
    for artifact, uploads in held:
        upload = uow.uploads.latest_for_artifact(pkg.id, artifact.id)
        name = upload.original_name if upload else artifact.id
        stored.append(StoredArtifact(artifact, name, uploads))
    return GenericPackageView(
        project=owner,
        package=pkg,
        role=role,
        tags=Page(tags, tag_total, page, limit),
        versions=Page(versions, version_total, page, limit),
        artifacts=Page(stored, held_total, page, limit),
    )


def tag_view(
    uow: UnitOfWork,
    *,
    actor: Principal | None,
    project: str,
    package: str,
    tag: str,
    page: int = 1,
    limit: int = 50,
) -> TagView:
    """A tag (None once deleted) and its moves, newest first, ``limit`` per page."""
    _check_page(page, limit)
    with uow:
        owner, pkg, _ = _package(uow, actor, project, package)
        current = uow.tags.get(pkg.id, tag)
        history = uow.tags.history(pkg.id, tag)
    if current is None and not history:
        raise NotFound(f"Tag '{tag}' not found in package '{package}'.")
    newest_first = list(reversed(history))
    shown = newest_first[(page - 1) * limit : page * limit]
    return TagView(owner, pkg, tag, current, Page(shown, len(history), page, limit))


def require_writer(
    uow: UnitOfWork, *, actor: Principal | None, project: str, package: str
) -> Package:
    """The package if the caller may change it (before a confirmation page or a body is
    read); NotFound, 401 or 403 as the API answers."""
    with uow:
        return writable_package(uow, actor, project, package)[1]


def require_admin_of(uow: UnitOfWork, *, actor: Principal | None, project: str) -> Project:
    """The project if the caller administers it (before a confirmation page)."""
    with uow:
        return require_role(uow, actor, project, Role.ADMIN)


def _package(
    uow: UnitOfWork, actor: Principal | None, project: str, package: str
) -> tuple[Project, Package, Role | None]:
    owner = readable_project(uow, actor, project)
    pkg = uow.packages.get(owner.id, package)
    if pkg is None:
        raise NotFound(f"Package '{package}' not found in project '{project}'.")
    pkg.project_name = owner.name
    return owner, pkg, role_in(uow, actor, owner)


def _releases(files: list[Distribution]) -> list[Release]:
    """Files grouped by version, newest release first (files come in release order)."""
    grouped: dict[str, list[Distribution]] = {}
    for distribution in files:
        grouped.setdefault(distribution.version, []).append(distribution)
    return [Release(version, members) for version, members in reversed(grouped.items())]


def _check_page(page: int, limit: int) -> None:
    if page < 1 or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"page must be at least 1 and limit between 1 and {MAX_LIMIT}.")
