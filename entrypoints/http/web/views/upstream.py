"""The upstream section of the project page, for the project's admins: change its
settings, opt names in to merging, refresh and purge cached pages.

Each form calls the use case the REST API calls (``domain.services.upstream.manage``), so
the same role decides and the same checks refuse. Refreshing every page and purging are
confirmed on a page first (a GET that changes nothing); the change is the confirmation's
POST, which carries the CSRF token like every form here. A refused change of the
settings (a bad URL) is shown on the project page, and nothing is stored.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from domain.errors import InvalidInput, Unprocessable
from domain.services import browse
from domain.services.upstream import manage
from entrypoints.http.api_upstream import UpstreamIn
from entrypoints.http.auth import current_principal
from entrypoints.http.context import request_uow, services
from entrypoints.http.errors import status_for
from entrypoints.http.requests import load_form
from entrypoints.http.web.blueprint import bp
from entrypoints.http.web.views.browse import project_page

UP = "/projects/<project>/-/upstream"  # "-" is no package name: no clash with one
NUMBERS = ("ttl", "cooldown", "stale_max_age", "negative_ttl")


def _back(project: str) -> BaseResponse:
    return redirect(url_for("web.project", project=project, _anchor="upstream"), code=303)


@bp.get(UP)
def upstream_section(project: str) -> BaseResponse:
    """The section's own address (its pager's links, after a refused change) is the
    project page at the section."""
    values: dict[str, Any] = {**request.args.to_dict(), "project": project}
    return redirect(url_for("web.project", _anchor="upstream", **values))


@bp.post(UP)
def upstream_configure(project: str) -> BaseResponse | tuple[str, int]:
    svc, actor = services(), current_principal()
    current = manage.show(svc.upstream, actor, project)  # the admin role, as the API
    try:
        changes = _changes(current)
        manage.configure(svc.upstream, actor, project, **changes)
    except (InvalidInput, Unprocessable) as error:
        return project_page(project, upstream_error=error.detail), status_for(error)
    flash(f"Upstream settings of {project} saved.")
    return _back(project)


def _changes(current: manage.UpstreamView) -> dict[str, object]:
    """What the form changes. The URL is shown without its credentials, so the same URL
    sent back keeps the stored one; the password is write-only: empty keeps it. Settings
    from the environment are copied into the project's own (they are not stored)."""
    form = load_form(UpstreamIn())  # the API's limits on every field
    own = current.source == "project"
    changes: dict[str, object] = {name: form[name] for name in NUMBERS if name in form}
    url = form.get("url", "").strip()
    if url != current.url or not own:
        changes["url"] = url
    username = (form.get("username") or "").strip() or None
    if username != current.username or not own:
        changes["username"] = username
    if form.get("password"):
        changes["password"] = form["password"]
    elif request.form.get("forget_password"):
        changes["password"] = None
    return changes


@bp.post(f"{UP}/merge")
def upstream_merge(project: str) -> BaseResponse:
    name = request.form.get("name", "").strip()
    if not name:
        raise InvalidInput("Name the package whose upstream files should be merged.")
    merge = request.form.get("merge") == "1"
    manage.set_merge(services().upstream, current_principal(), project, name, merge)
    flash(f"{name}: upstream files {'merged with' if merge else 'hidden by'} local ones.")
    return _back(project)


@bp.post(f"{UP}/pages/<name>/refresh")
def upstream_refresh(project: str, name: str) -> BaseResponse:
    outcome = manage.refresh(services().upstream, current_principal(), project, name)
    flash(f"Asked the upstream for {name}: {outcome}.")
    return _back(project)


# Confirmed changes: (title, explanation, button, danger) by action.
CONFIRM = {
    "refresh": ("Refresh every cached page of {project}?",
                "Each page asks the upstream again at its next request, and is not served "
                "from the cache until the upstream has answered for it: do this while the "
                "upstream is reachable.",
                "Refresh all", False),
    "purge": ("Purge the whole upstream cache of {project}?",
              "Every cached page and its files are forgotten; the next request asks the "
              "upstream again. Stored bytes nothing else holds are deleted by garbage "
              "collection after the grace period.", "Purge all", True),
    "purge-one": ("Purge {name} from the upstream cache of {project}?",
                  "Its cached page and files are forgotten; the next request for it asks "
                  "the upstream again.", "Purge", True),
}  # fmt: skip


@bp.get(f"{UP}/pages/<any(refresh, purge):action>")
@bp.get(f"{UP}/pages/<name>/purge", defaults={"action": "purge-one"})
def upstream_confirm(project: str, action: str, name: str | None = None) -> str:
    browse.require_admin_of(request_uow(), actor=current_principal(), project=project)
    title, explanation, button, danger = CONFIRM[action]
    return render_template(
        "confirm.html", title=title.format(project=project, name=name),
        explanation=explanation, button=button, danger=danger,
        action=url_for(request.endpoint or "web.home", **(request.view_args or {})),
        back=url_for("web.project", project=project, _anchor="upstream"),
    )  # fmt: skip


@bp.post(f"{UP}/pages/<any(refresh, purge):action>")
@bp.post(f"{UP}/pages/<name>/purge", defaults={"action": "purge-one"})
def upstream_change(project: str, action: str, name: str | None = None) -> BaseResponse:
    context, actor = services().upstream, current_principal()
    if action == "refresh":
        count = manage.expire_all(context, actor, project)
        flash(f"{count} cached pages of {project} ask the upstream at their next request.")
    elif name is None:
        released = manage.purge_all(context, actor, project)
        flash(f"Purged the upstream cache of {project} ({released} stored files released).")
    else:
        released = manage.purge(context, actor, project, name)
        flash(f"Purged {name} from the upstream cache ({released} stored files released).")
    return _back(project)
