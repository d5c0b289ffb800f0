"""What a project's admins see of its upstream on the project page: the settings in
effect and one page of the cache, each cached page fresh or stale by the same rule the
index applies (``domain.upstream.freshness``).

It reads in the caller's unit of work, after the caller checked the admin role, so the
project page stays one unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.model import Page, Project
from domain.ports import UnitOfWork
from domain.services.upstream.manage import UpstreamView, view_of
from domain.services.upstream.plan import UpstreamContext, settings_of
from domain.upstream import Freshness, freshness, upstream_repository

# How a cached page would be used by the next request, in the words the page shows.
STATES = {
    Freshness.FRESH: "fresh",
    Freshness.EXPIRED: "stale",  # revalidated at the next request, served if that fails
    # Past the stale max age, or refreshed by an admin: asked again at the next request,
    # and not served if the upstream fails then.
    Freshness.TOO_OLD: "expired",
}


@dataclass(frozen=True)
class CachedPageState:
    name: str
    checked_at: datetime
    state: str  # "fresh", "stale", "expired", "not found" or "kept" (no upstream now)
    files: int
    stored_files: int
    stored_bytes: int


@dataclass(frozen=True)
class UpstreamState:
    settings: UpstreamView
    pages: Page  # of CachedPageState, by name


def upstream_state(
    uow: UnitOfWork, context: UpstreamContext, owner: Project, *, page: int, limit: int
) -> UpstreamState:
    """The project's upstream settings and one page of its cache (``uow`` is open and the
    caller administers ``owner``)."""
    repository = upstream_repository(uow)
    settings = settings_of(repository, context, owner)
    summaries, total = repository.page_summaries(owner.id, offset=(page - 1) * limit, limit=limit)
    now = context.clock.now()
    items = []
    for summary in summaries:
        if summary.missing:
            state = "not found"  # the upstream's last answer (files it had are kept)
        elif settings is None:
            state = "kept"
        else:
            state = STATES[freshness(summary.checked_at, now, settings, missing=False)]
        items.append(
            CachedPageState(
                summary.name,
                summary.checked_at,
                state,
                summary.files,
                summary.stored_files,
                summary.stored_bytes,
            )
        )
    return UpstreamState(view_of(uow, context, owner), Page(items, total, page, limit))
