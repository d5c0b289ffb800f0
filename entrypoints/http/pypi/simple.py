"""``/simple/``, ``/simple/<name>/`` and ``/files/<sha256>/<filename>[.metadata]``, at the
root for the default project and under ``/pypi/<project>/``."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from flask import Blueprint, Response, redirect, request
from werkzeug.wrappers import Response as BaseResponse  # what redirect() returns

from domain.names import normalize_pypi_name, validate_package_name
from domain.services.pypi import index
from entrypoints.http.auth import current_principal
from entrypoints.http.context import request_uow, services
from entrypoints.http.downloads import send_blob
from entrypoints.http.pypi import problems
from entrypoints.http.pypi.responses import (
    IMMUTABLE,
    negotiated_media_type,
    project_response,
    root_response,
)
from entrypoints.http.pypi.routing import index_route, project_or_default

bp = Blueprint("pypi_simple", __name__)
problems.install(bp)
METADATA_SUFFIX = ".metadata"


@index_route(bp, "/simple/", methods=["GET", "HEAD"])
def root(project: str | None) -> Response:
    media = negotiated_media_type()
    actor, owner = current_principal(), project_or_default(project)
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
        body = index.core_metadata(
            request_uow(), actor=actor, project=owner, sha256=sha256, filename=wheel
        )
        return _metadata_response(body)
    found = index.find_file(
        request_uow(), actor=actor, project=owner, sha256=sha256, filename=filename
    )
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
