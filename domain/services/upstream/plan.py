"""Which upstream, if any, a request to a project's index may use.

The environment names the default project's upstream (``ORCHARD_UPSTREAM_URL``); any
project may store its own (which wins). No upstream at all is the default: then nothing
here ever leads to a request leaving the machine.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.access import Principal
from domain.model import Package, Project
from domain.names import normalize_pypi_name
from domain.ports import BlobStore, Clock, MetadataReader, UnitOfWork
from domain.services.pypi.index import index_project
from domain.services.upstream.refresh import Revalidations
from domain.upstream import (
    UpstreamClient,
    UpstreamRepository,
    UpstreamSettings,
    upstream_applies,
    upstream_repository,
)

# A PEP 508 project name, normalized (PEP 503): what an upstream may be asked for.
_PROJECT_NAME = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,198}[a-z0-9])?")


class AbsentUpstreams:
    """Which projects had no upstream a moment ago, remembered per process for
    ``seconds``: the index of a project without one (every project, by default) then pays
    nothing for the cache, instead of a unit of work and two queries per request. Only the
    absence is remembered: an upstream turned off applies at once, one turned on within
    ``seconds`` on every worker and instance."""

    def __init__(self, seconds: float = 1.0) -> None:
        self._seconds = timedelta(seconds=seconds)
        self._until: dict[str, datetime] = {}

    def holds(self, project: str, now: datetime) -> bool:
        until = self._until.get(project)
        return until is not None and now < until

    def remember(self, project: str, now: datetime) -> None:
        if len(self._until) > 10_000:  # names come from URLs: stay bounded
            self._until.clear()
        self._until[project] = now + self._seconds  # one dict store: atomic under the GIL

    def forget(self, project: str) -> None:
        """This worker changed the project's settings: no need to wait out the second."""
        self._until.pop(project, None)


@dataclass(frozen=True)
class UpstreamContext:
    """The ports and settings the cache's use cases share (built by the composition root)."""

    uow: Callable[..., UnitOfWork]
    blobs: BlobStore
    clock: Clock
    client: UpstreamClient
    default_project: str
    default_settings: UpstreamSettings  # from the environment; url "" means none
    connect_timeout: float = 3.0
    read_timeout: float = 20.0
    max_file_size: int | None = None  # an upstream file larger than this is refused
    reader: MetadataReader | None = None  # a fetched wheel's METADATA is kept from it
    pause: Callable[[float], None] = lambda seconds: None  # time.sleep in production
    absent: AbsentUpstreams = field(default_factory=AbsentUpstreams)
    revalidate_wait: float = 5.0  # seconds a request with a stale copy waits for upstream
    revalidations: Revalidations = field(default_factory=Revalidations)

    @property
    def claim_lifetime(self) -> timedelta:
        """A fetch claim not renewed for this long belongs to a fetch that died."""
        return timedelta(seconds=self.connect_timeout + self.read_timeout + 5)


@dataclass(frozen=True)
class UpstreamPlan:
    """A name the upstream may be asked for, in a project the caller may read."""

    project: Project
    settings: UpstreamSettings
    name: str  # PEP 503-normalized
    local_exists: bool
    local_serial: int = 0  # the local package's serial (page keys change with it)


def settings_of(
    repository: UpstreamRepository, context: UpstreamContext, project: Project
) -> UpstreamSettings | None:
    """The project's upstream: its stored settings, else the environment's for the
    default project; None when it has none."""
    stored = repository.settings(project.id)
    if stored is not None:
        return stored if stored.enabled else None
    if project.name == context.default_project and context.default_settings.enabled:
        return context.default_settings
    return None


def plan_for_name(
    uow: UnitOfWork, context: UpstreamContext, actor: Principal | None, project: str, name: str
) -> UpstreamPlan | None:
    """The plan for one project page, or None where only local files may be shown: no
    upstream, or a local name that was not opted in to merging. Raises 401/404 as the
    index does for a project the caller may not read."""
    if context.absent.holds(project, context.clock.now()):
        return None  # the local index's own lookup checks access
    with uow:
        owner = index_project(uow, actor, project)
        repository = upstream_repository(uow)
        settings = settings_of(repository, context, owner)
        if settings is None:
            context.absent.remember(project, context.clock.now())
            return None
        normalized = normalize_pypi_name(name)
        if not _PROJECT_NAME.fullmatch(normalized):
            return None  # not a name any index could hold: never sent anywhere
        local = _local_package(uow, owner, normalized)
        local_exists = local is not None
        opted_in = local_exists and normalized in repository.merge_names(owner.id)
        if not upstream_applies(local_exists=local_exists, merge_opted_in=opted_in):
            return None
        return UpstreamPlan(owner, settings, normalized, local_exists, local.serial if local else 0)


def has_upstream(context: UpstreamContext, actor: Principal | None, project: str) -> bool:
    """Whether the project's index has an upstream (401/404 as the index, if unreadable)."""
    if context.absent.holds(project, context.clock.now()):
        return False
    with context.uow(read_only=True) as uow:
        owner = index_project(uow, actor, project)
        found = settings_of(upstream_repository(uow), context, owner) is not None
    if not found:
        context.absent.remember(project, context.clock.now())
    return found


def hidden_by_local(uow: UnitOfWork, project: Project, name: str) -> bool:
    """Whether a cached upstream name is now hidden by a local package of that name."""
    if _local_package(uow, project, name) is None:
        return False
    return name not in upstream_repository(uow).merge_names(project.id)


def _local_package(uow: UnitOfWork, project: Project, name: str) -> Package | None:
    """Any package of the name hides the upstream's (a generic one too: the name is
    taken here, and must not be asked for elsewhere)."""
    found = uow.packages.find(project.name, name)
    return found[1] if found is not None else None
