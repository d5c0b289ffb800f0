"""``/simple/``, ``/simple/<name>/`` and ``/files/<sha256>/<filename>[.metadata]``, at the
root for the default project and under ``/pypi/<project>/``."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from flask import Blueprint, Response, redirect, request
from werkzeug.wrappers import Response as BaseResponse  # what redirect() returns

from domain.access import Principal
from domain.errors import NotFound
from domain.names import normalize_pypi_name, validate_package_name
from domain.services.pypi import index
from domain.services.upstream import files as upstream_files
from domain.services.upstream import pages as upstream_pages
from domain.services.upstream.plan import has_upstream, plan_for_name
from entrypoints.http.auth import current_principal
from entrypoints.http.context import request_uow, services
from entrypoints.http.downloads import send_blob
from entrypoints.http.pypi import problems, upstream
from entrypoints.http.pypi.responses import (
    IMMUTABLE,
    negotiated_media_type,
    project_response,
    root_response,
)
from entrypoints.http.pypi.routing import index_route, project_or_default
from entrypoints.http.upstream_metrics import record_cache

bp = Blueprint("pypi_simple", __name__)
problems.install(bp)
METADATA_SUFFIX = ".metadata"


@index_route(bp, "/simple/", methods=["GET", "HEAD"])
def root(project: str | None) -> Response:
    media = negotiated_media_type()
    actor, owner = current_principal(), project_or_default(project)
    context = services().upstream
    if has_upstream(context, actor=actor, project=owner):
        names = upstream_pages.root_names(context, actor=actor, project=owner)
        return upstream.merged_root_response(media, names)
    return root_response(
        media, lambda have: index.root_page(request_uow(), actor=actor, project=owner, have=have)
    )


@index_route(bp, "/simple/<name>/", methods=["GET", "HEAD"])
def project_page(project: str | None, name: str) -> BaseResponse:
    normalized = normalize_pypi_name(name)
    if normalized != name:  # PEP 503: one URL per project
        validate_package_name(name, pypi=True)  # 400 for CR/LF and the like, never a Location
        return _redirect_to(name, normalized)
    media = negotiated_media_type()
    actor, owner = current_principal(), project_or_default(project)
    context = services().upstream
    plan = plan_for_name(request_uow(), context, actor=actor, project=owner, name=name)
    if plan is not None:
        return upstream.merged_project_response(
            media, lambda have: upstream_pages.merged_page(context, plan, actor, have)
        )
    return project_response(
        media,
        lambda have: index.project_page(
            request_uow(), actor=actor, project=owner, name=name, have=have
        ),
    )


@index_route(bp, "/files/<sha256>/<filename>", methods=["GET", "HEAD"])
def file(project: str | None, sha256: str, filename: str) -> Response:
    svc = services()
    actor, owner = current_principal(), project_or_default(project)
    if filename.endswith(METADATA_SUFFIX):
        wheel = filename.removesuffix(METADATA_SUFFIX)
        try:
            body = index.core_metadata(
                request_uow(), actor=actor, project=owner, sha256=sha256, filename=wheel
            )
        except NotFound:  # not a local file: perhaps a cached upstream one
            body = upstream_files.upstream_metadata(
                svc.upstream, actor=actor, project=owner, sha256=sha256, filename=wheel
            )
        return _metadata_response(body)
    try:
        found = index.find_file(
            request_uow(), actor=actor, project=owner, sha256=sha256, filename=filename
        )
    except NotFound:  # not a local file: perhaps a cached upstream one
        return _upstream_file(actor, owner, sha256, filename)
    return send_blob(svc.blobs, found.artifact, found.filename, {"Cache-Control": IMMUTABLE})


def _upstream_file(actor: Principal | None, owner: str, sha256: str, filename: str) -> Response:
    svc = services()
    found = upstream_files.upstream_file(
        svc.upstream, actor=actor, project=owner, sha256=sha256, filename=filename
    )
    if isinstance(found, upstream_files.FetchingFile):
        return upstream.fetching_response(found, sha256.lower())
    record_cache("file", "hit")
    return send_blob(svc.blobs, found.artifact, found.filename, {"Cache-Control": IMMUTABLE})


def _redirect_to(name: str, normalized: str) -> BaseResponse:
    base = request.path[: -len(name) - 1] if request.path.endswith(f"{name}/") else "/simple/"
    query = f"?{request.query_string.decode('latin-1')}" if request.query_string else ""
    # The prefix holds the project segment as decoded from the URL: quoted again, so no
    # character of it can end the Location header (the name was validated above).
    return redirect(f"{quote(base)}{normalized}/{query}", code=301)


def _metadata_response(body: bytes) -> Response:
    digest = hashlib.sha256(body).hexdigest()
    headers = {"ETag": f'"{digest}"', "Cache-Control": IMMUTABLE, "X-Checksum-SHA256": digest}
    if request.if_none_match.contains_weak(digest):
        return Response(status=304, headers=headers)
    return Response(body, headers=headers, content_type="text/plain; charset=utf-8")
