"""Reading pages: home, project, package, tag history."""

from __future__ import annotations

from flask import Response, render_template, request
from werkzeug.exceptions import MethodNotAllowed

from domain.errors import InvalidInput
from domain.services import browse, projects
from entrypoints.http import schemas as s
from entrypoints.http.auth import current_principal
from entrypoints.http.context import request_uow, services
from entrypoints.http.requests import load_args
from entrypoints.http.web import snippets
from entrypoints.http.web.blueprint import bp
from entrypoints.http.web.description import render_description
from entrypoints.http.web.listings import listings

PROJECTS_PER_PAGE = 25
PACKAGES_PER_PAGE = 25
RELEASES_PER_PAGE = 10
ROWS_PER_PAGE = 25


def wants_html() -> bool:
    """A browser asks for HTML by name; curl's ``*/*`` and JSON clients get JSON."""
    accept = request.accept_mimetypes
    return accept["text/html"] > accept["application/json"] and "text/html" in accept.values()


@bp.get("/")
def home() -> Response:
    if not wants_html():
        # What GET / answered before it had a page: JSON clients keep their JSON.
        raise MethodNotAllowed(valid_methods=["POST"])
    q = _page_query(PROJECTS_PER_PAGE)
    found = projects.list_projects(
        request_uow(), actor=current_principal(), search=q["search"], page=q["page"],
        limit=q["limit"],
    )  # fmt: skip
    default = services().settings.default_index
    page = render_template(
        "home.html", projects=found, search=q["search"] or "",
        index_url=snippets.index_url(default), default_index=default,
    )  # fmt: skip
    response = Response(page)
    response.vary.add("Accept")  # the same URL answers JSON clients otherwise
    return response


@bp.get("/projects/<project>")
def project(project: str) -> str:
    return project_page(project)


def project_page(project: str, upstream_error: str | None = None) -> str:
    """The project page; ``upstream_error`` says why a change of its upstream settings
    was refused (shown in the upstream section, for its admins)."""
    q = _page_query(PACKAGES_PER_PAGE)
    view = browse.project_view(
        request_uow(), actor=current_principal(), project=project, search=q["search"],
        page=q["page"], limit=q["limit"], members_page=_number("members_page"),
        upstream=services().upstream, cache_page=_number("cache_page"),
    )  # fmt: skip
    return render_template(
        "project.html", view=view, search=q["search"] or "",
        index_url=snippets.index_url(view.project.name), upstream_error=upstream_error,
    )  # fmt: skip


@bp.get("/projects/<project>/<package>")
def package(project: str, package: str) -> str:
    actor = current_principal()
    view = browse.package_view(
        request_uow(), actor=actor, project=project, package=package,
        page=_page_query(RELEASES_PER_PAGE)["page"], limit=RELEASES_PER_PAGE, known=listings(),
    )  # fmt: skip
    if isinstance(view, browse.PythonPackageView):
        return render_template(
            "package_python.html", view=view,
            description=render_description(view.core_metadata),
            install=snippets.install_lines(view.project.name, view.package.name),
            publish=snippets.publish_lines(view.project.name),
            index_url=snippets.index_url(view.project.name),
        )  # fmt: skip
    first_tag = view.tags.items[0].name if view.tags.items else None
    return render_template(
        "package_generic.html", view=view,
        commands=snippets.generic_lines(
            view.project.name, view.package.name, f"tag:{first_tag}" if first_tag else None,
            private=not view.project.is_public,
        ),
    )  # fmt: skip


@bp.get("/projects/<project>/<package>/tags/<tag>")
def tag(project: str, package: str, tag: str) -> str:
    view = browse.tag_view(
        request_uow(), actor=current_principal(), project=project, package=package, tag=tag,
        page=_page_query(ROWS_PER_PAGE)["page"], limit=ROWS_PER_PAGE,
    )  # fmt: skip
    return render_template("tag.html", view=view)


def _number(name: str) -> int:
    """A second page number on a page listing two things (400 when malformed)."""
    value = request.args.get(name, "1")
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= s.MAX_PAGE:
        raise InvalidInput(f"{name} must be a page number from 1 to {s.MAX_PAGE}.")
    return int(value)


def _page_query(limit: int) -> dict:
    """``page`` and ``search`` as the API reads them (400 for a bad value)."""
    q = load_args(s.PageQuery())
    q["limit"] = limit
    q["search"] = (q["search"] or "").strip() or None
    return q
