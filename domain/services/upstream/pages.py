"""Project pages that merge local files with a cached upstream page, kept fresh.

A cached page is served as it is while fresh (the TTL); after that the upstream is asked
again with a conditional GET. When the upstream fails, the cached page is served, marked
stale, for at most the stale max age; an upstream "not found" for a page Orchard holds
files of counts as a failure (a flaky upstream must not erase the cache), and for any
other name it is remembered for the negative-cache time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from packaging.version import InvalidVersion, Version

from domain.access import Principal
from domain.distributions import parse_distribution_filename
from domain.errors import InvalidInput, NotFound, UpstreamUnavailable
from domain.services.pypi.index import IndexFile, ProjectPage, RootPage, project_page, root_page
from domain.services.upstream.plan import UpstreamContext, UpstreamPlan
from domain.services.upstream.refresh import RevalidationPending
from domain.upstream import (
    CachedFile,
    CachedPage,
    Freshness,
    PageFetch,
    advertised_metadata,
    freshness,
    merge_files,
    upstream_repository,
    visible_files,
)

COOLDOWN_STEP = 60  # seconds: with a cooldown, a page is re-rendered at most this often


@dataclass(frozen=True)
class MergedPageKey:
    """What a merged page's content depends on: the cached upstream page's serial, the
    local package's, and (with a cooldown) the minute, since files come out of the
    cooldown as time passes. A rendering is reused while the key holds: a file leaving
    the cooldown may show up to a minute late, never early."""

    project_id: int
    name: str
    page_serial: int
    local_serial: int
    cooldown_step: int


@dataclass(frozen=True)
class MergedPage:
    key: MergedPageKey
    page: ProjectPage | None  # None where ``have(key)`` said the caller holds it
    outcome: str  # "hit", "miss" (fetched), "revalidated" (304) or "stale"
    stale_since: datetime | None = None  # the last time the upstream answered, when stale


def merged_page(
    context: UpstreamContext,
    plan: UpstreamPlan,
    actor: Principal | None,
    have: Callable[[MergedPageKey], bool] | None = None,
) -> MergedPage:
    """The page of ``plan.name``: local files first (where the name was opted in to
    merging), then the upstream files the cooldown lets through; only its key where
    ``have(key)`` says the caller holds that rendering (its files are then never read)."""
    try:
        cached, outcome = current_page(context, plan)
    except UpstreamUnavailable:
        if not plan.local_exists:
            raise
        cached, outcome = None, "stale"  # the local files of a merged name still install
    if not plan.local_exists and (cached is None or cached.missing):
        raise NotFound(f"No Python package '{plan.name}' here or upstream.")
    now = context.clock.now()
    cooldown = plan.settings.cooldown
    step = int(now.timestamp() // COOLDOWN_STEP) if cooldown > 0 else 0
    serial = cached.serial if cached and not cached.missing else -1
    key = MergedPageKey(plan.project.id, plan.name, serial, plan.local_serial, step)
    stale_since = cached.checked_at if cached and outcome == "stale" else None
    if have is not None and have(key):
        return MergedPage(key, None, outcome, stale_since)
    upstream = [_index_file(f) for f in visible_files(_upstream_files(context, plan, cached),
                                                      now, cooldown)]  # fmt: skip
    files = merge_files(_local_files(context, plan, actor), sorted(upstream, key=_release_order))
    page = ProjectPage(
        name=plan.name,
        files=tuple(files),
        versions=tuple(dict.fromkeys(f.version for f in files if f.version)),
        package_id=0,
        serial=serial,
    )
    return MergedPage(key, page, outcome, stale_since)


def _upstream_files(
    context: UpstreamContext, plan: UpstreamPlan, cached: CachedPage | None
) -> tuple[CachedFile, ...]:
    if cached is None or cached.missing:
        return ()
    with context.uow(read_only=True) as uow:
        found = upstream_repository(uow).page(plan.project.id, plan.name)
    return found.files if found is not None else ()


def current_page(context: UpstreamContext, plan: UpstreamPlan) -> tuple[CachedPage | None, str]:
    """The cached page, revalidated first when its TTL is over."""
    project_id = plan.project.id
    with context.uow(read_only=True) as uow:
        cached = upstream_repository(uow).page(project_id, plan.name, with_files=False)
    now = context.clock.now()
    state = (
        freshness(cached.checked_at, now, plan.settings, missing=cached.missing)
        if cached
        else Freshness.TOO_OLD
    )
    if cached is not None and state is Freshness.FRESH:
        return cached, "hit"
    servable = cached is not None and not cached.missing and state is Freshness.EXPIRED
    try:
        if servable:  # wait only so long: the copy can be served meanwhile
            key = (project_id, plan.name)
            work = lambda: _revalidate(context, plan, cached)  # noqa: E731
            outcome = context.revalidations.run(key, work, context.revalidate_wait)
        else:
            outcome = _revalidate(context, plan, cached)
    except (UpstreamUnavailable, RevalidationPending):
        if servable:
            return cached, "stale"
        raise
    if outcome == "stale":
        return cached, "stale"
    with context.uow(read_only=True) as uow:
        return upstream_repository(uow).page(project_id, plan.name, with_files=False), outcome


def revalidate_now(context: UpstreamContext, plan: UpstreamPlan) -> str:
    """Ask the upstream for the page now, whatever its TTL (an admin's refresh). The cached
    page is replaced only by what the upstream answers: when it fails, the error is raised
    and the copy stays as servable as it was."""
    with context.uow(read_only=True) as uow:
        cached = upstream_repository(uow).page(plan.project.id, plan.name, with_files=False)
    return _revalidate(context, plan, cached)


def _revalidate(context: UpstreamContext, plan: UpstreamPlan, cached: CachedPage | None) -> str:
    found = context.client.fetch_page(
        plan.settings,
        plan.name,
        etag=cached.etag if cached and not cached.missing else None,
        last_modified=cached.last_modified if cached and not cached.missing else None,
    )
    if found is PageFetch.MISSING and cached is not None and not cached.missing:
        return "stale"  # a 404 after a 200: keep serving what was cached
    with context.uow() as uow:
        now = context.clock.now()
        repository = upstream_repository(uow)
        if found is PageFetch.NOT_MODIFIED or found is PageFetch.MISSING:
            missing = found is PageFetch.MISSING
            repository.mark_checked(plan.project.id, plan.name, now, missing=missing)
        else:
            released = repository.save_page(plan.project.id, found, now)
            for artifact_id, count in released.items():
                uow.artifacts.release(artifact_id, count, now)
        uow.commit()
    return "revalidated" if found is PageFetch.NOT_MODIFIED else "miss"


def _local_files(
    context: UpstreamContext, plan: UpstreamPlan, actor: Principal | None
) -> list[IndexFile]:
    if not plan.local_exists:
        return []
    found = project_page(context.uow(read_only=True), actor=actor,
                         project=plan.project.name, name=plan.name)  # fmt: skip
    assert isinstance(found, ProjectPage)  # no ``have``: always the page
    return list(found.files)


def _index_file(cached: CachedFile) -> IndexFile:
    file = cached.file
    return IndexFile(
        filename=file.filename,
        version=_version(file.filename),
        sha256=file.sha256,
        size=file.size,
        upload_time=file.upload_time,
        requires_python=file.requires_python,
        yanked=file.yanked,
        yanked_reason=file.yanked_reason,
        metadata_sha256=advertised_metadata(cached),
    )


def _release_order(file: IndexFile) -> tuple[object, ...]:
    """PEP 440 order of the version (unparsable ones first), then filename."""
    try:
        return (1, Version(file.version), file.filename)
    except InvalidVersion:
        return (0, Version("0"), file.filename)


def _version(filename: str) -> str:
    try:
        return parse_distribution_filename(filename).version
    except InvalidInput:
        return ""  # an old format (.egg, .exe): listed, but no version pip would pick


def root_names(context: UpstreamContext, actor: Principal | None, project: str) -> tuple[str, ...]:
    """The project's local Python packages plus the upstream pages it has cached (never
    the upstream's own root list, which may hold hundreds of thousands of names)."""
    found = root_page(context.uow(read_only=True), actor=actor, project=project)
    assert isinstance(found, RootPage)  # no ``have``: always the page
    with context.uow(read_only=True) as uow:
        owner = uow.projects.get(project)
        cached = upstream_repository(uow).page_names(owner.id) if owner else []
    return tuple(sorted(set(found.names) | set(cached)))
