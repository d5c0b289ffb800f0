"""What a project's admins do with its upstream: see and change its settings, opt names
in to merging, refresh a cached page now, purge one from the cache.

The password is stored (it must be sent) but never returned: views show ``has_password``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from domain.access import Principal, require_role
from domain.errors import InvalidInput, NotFound
from domain.model import Project, Role
from domain.names import normalize_pypi_name
from domain.ports import UnitOfWork
from domain.services.upstream.pages import revalidate_now
from domain.services.upstream.plan import UpstreamContext, UpstreamPlan, settings_of
from domain.upstream import UpstreamSettings, upstream_repository


@dataclass(frozen=True)
class UpstreamView:
    project: str
    source: str  # "project" (stored), "environment" (the default project's) or "none"
    url: str  # without user information
    ttl: float
    cooldown: float
    stale_max_age: float
    negative_ttl: float
    username: str | None
    has_password: bool
    merge_names: tuple[str, ...]
    cached_pages: int


def show(context: UpstreamContext, actor: Principal | None, project: str) -> UpstreamView:
    with context.uow(read_only=True) as uow:
        owner = require_role(uow, actor, project, Role.ADMIN)
        return view_of(uow, context, owner)


def view_of(uow: UnitOfWork, context: UpstreamContext, owner: Project) -> UpstreamView:
    """The settings in effect for a project whose admin is asking, read in ``uow`` (the
    project page reads them in its own unit of work)."""
    repository = upstream_repository(uow)
    stored = repository.settings(owner.id)
    effective = settings_of(repository, context, owner)
    source = "project" if stored is not None else "environment" if effective else "none"
    shown = stored or effective or UpstreamSettings(url="")
    parts = urlsplit(shown.url)
    return UpstreamView(
        project=owner.name,
        source=source,
        url=_without_userinfo(shown.url),
        ttl=shown.ttl,
        cooldown=shown.cooldown,
        stale_max_age=shown.stale_max_age,
        negative_ttl=shown.negative_ttl,
        username=shown.username or parts.username,
        has_password=bool(shown.password or parts.password),
        merge_names=tuple(repository.merge_names(owner.id)),
        cached_pages=len(repository.page_names(owner.id)),
    )


def configure(
    context: UpstreamContext, actor: Principal | None, project: str, **changes: object
) -> UpstreamView:
    """Store the project's own settings: the current ones (stored, else the environment's
    defaults) with ``changes`` applied. An empty ``url`` turns the upstream off, also for
    the default project whatever the environment says."""
    with context.uow() as uow:
        owner = require_role(uow, actor, project, Role.ADMIN)
        repository = upstream_repository(uow)
        base = repository.settings(owner.id) or _defaults(context)
        if "password" not in changes and "username" in changes:
            changes["password"] = None  # a new user never inherits the old password
        updated = UpstreamSettings(**{**base.__dict__, **changes})
        _check(updated)
        repository.set_settings(owner.id, updated)
        uow.commit()
    context.absent.forget(owner.name)
    return show(context, actor, project)


def reset(context: UpstreamContext, actor: Principal | None, project: str) -> UpstreamView:
    """Forget the project's own settings (the default project falls back to the
    environment's)."""
    with context.uow() as uow:
        owner = require_role(uow, actor, project, Role.ADMIN)
        upstream_repository(uow).set_settings(owner.id, None)
        uow.commit()
    context.absent.forget(owner.name)
    return show(context, actor, project)


def set_merge(
    context: UpstreamContext, actor: Principal | None, project: str, name: str, merge: bool
) -> UpstreamView:
    """Opt one name in to (or out of) merging upstream files with the local ones."""
    with context.uow() as uow:
        owner = require_role(uow, actor, project, Role.ADMIN)
        upstream_repository(uow).set_merge(owner.id, normalize_pypi_name(name), merge)
        uow.commit()
    return show(context, actor, project)


def refresh(context: UpstreamContext, actor: Principal | None, project: str, name: str) -> str:
    """Ask the upstream for the page now; the outcome ("miss", "revalidated", "stale").
    An upstream that fails raises and leaves the cached page as it was (still served)."""
    normalized = normalize_pypi_name(name)
    with context.uow(read_only=True) as uow:
        owner = require_role(uow, actor, project, Role.ADMIN)
        settings = settings_of(upstream_repository(uow), context, owner)
        if settings is None:
            raise InvalidInput(f"Project '{project}' has no upstream.")
    return revalidate_now(context, UpstreamPlan(owner, settings, normalized, False))


def expire_all(context: UpstreamContext, actor: Principal | None, project: str) -> int:
    """Make every cached page ask the upstream at its next request, as ``refresh`` does
    for one, without holding the caller while each is fetched: until the upstream has
    answered for a page, its cached copy is not served; how many pages."""
    with context.uow() as uow:
        owner = require_role(uow, actor, project, Role.ADMIN)
        repository = upstream_repository(uow)
        expired = sum(repository.expire(owner.id, name) for name in repository.page_names(owner.id))
        uow.commit()
    return expired


def purge(context: UpstreamContext, actor: Principal | None, project: str, name: str) -> int:
    """Forget a cached page and its files (their blobs go at the next gc); the number of
    stored files released."""
    normalized = normalize_pypi_name(name)
    with context.uow() as uow:
        owner = require_role(uow, actor, project, Role.ADMIN)
        repository = upstream_repository(uow)
        if repository.page(owner.id, normalized, with_files=False) is None:
            raise NotFound(f"No cached upstream page '{normalized}' in project '{project}'.")
        released = repository.purge(owner.id, normalized)
        now = context.clock.now()
        for artifact_id, count in released.items():
            uow.artifacts.release(artifact_id, count, now)
        uow.commit()
    return sum(released.values())


def purge_all(context: UpstreamContext, actor: Principal | None, project: str) -> int:
    """Forget every cached page of the project and their files; the number of stored
    files released."""
    with context.uow() as uow:
        owner = require_role(uow, actor, project, Role.ADMIN)
        repository = upstream_repository(uow)
        released: dict[str, int] = {}
        for name in repository.page_names(owner.id):
            for artifact_id, count in repository.purge(owner.id, name).items():
                released[artifact_id] = released.get(artifact_id, 0) + count
        now = context.clock.now()
        for artifact_id, count in released.items():
            uow.artifacts.release(artifact_id, count, now)
        uow.commit()
    return sum(released.values())


def _defaults(context: UpstreamContext) -> UpstreamSettings:
    env = context.default_settings
    return UpstreamSettings(
        url="", ttl=env.ttl, cooldown=env.cooldown, stale_max_age=env.stale_max_age,
        negative_ttl=env.negative_ttl,
    )  # fmt: skip


def _check(settings: UpstreamSettings) -> None:
    parts = urlsplit(settings.url)
    if settings.url and (parts.scheme not in ("http", "https") or not parts.hostname):
        raise InvalidInput("The upstream URL must be an http:// or https:// URL.")
    for name in ("ttl", "cooldown", "stale_max_age", "negative_ttl"):
        if getattr(settings, name) < 0:
            raise InvalidInput(f"'{name}' must not be negative.")


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None:
        return url
    host = parts.hostname or ""
    return parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host).geturl()
