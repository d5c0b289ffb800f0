"""Upload, download, tags, versions and artifacts of a package (``/api/v1/project/...``)."""

from __future__ import annotations

import mimetypes

from flask import Blueprint, Response, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse  # what redirect() returns

from domain.errors import InvalidInput, Unprocessable
from domain.services import artifacts, tags
from domain.services.pypi import manage as pypi_manage
from domain.services.uploads import UploadRequest, check_upload_allowed, upload_artifact
from entrypoints.http import schemas as s
from entrypoints.http.auth import current_principal
from entrypoints.http.context import read_uow, request_uow, services
from entrypoints.http.downloads import send_blob
from entrypoints.http.limits import file_upload
from entrypoints.http.metrics import record_upload
from entrypoints.http.pypi import api as pypi_api
from entrypoints.http.requests import load_args, load_form, load_json, single_file
from entrypoints.http.streaming import claim_staged, declare_sha256, drain_body

bp = Blueprint("artifacts", __name__, url_prefix="/api/v1")
PKG = "/project/<project>/<package>"


@bp.post(f"{PKG}/upload")
@file_upload
def upload(project: str, package: str) -> Response:
    svc = services()
    actor = current_principal()
    checksum = request.headers.get("X-Checksum-SHA256")
    check_upload_allowed(  # before reading a byte of the body
        read_uow(), actor=actor, project=project, package=package, expected_sha256=checksum
    )
    declare_sha256(checksum)  # then the store may write the bytes to their final key
    form = load_form(s.UploadForm())
    drain_body()
    file = single_file("file")
    if file is None:
        raise Unprocessable("The multipart field 'file' is required.")
    upload_request = UploadRequest(  # validated by the use case, once
        project=project,
        package=package,
        filename=file.filename or "",
        content_type=_content_type(file.filename, file.mimetype),
        tag=form["tag"],
        version=form["version"],
        expected_sha256=checksum,
    )
    result = upload_artifact(
        request_uow(),
        svc.blobs,
        svc.clock,
        svc.reader,
        actor=actor,
        request=upload_request,
        staged=claim_staged(file),
    )
    record_upload(result.size, deduplicated=result.deduplicated)
    return jsonify(s.UploadOut().dump(result))


@bp.route(f"{PKG}/+/<path:ref>", methods=["GET", "HEAD"])
def download(project: str, package: str, ref: str) -> BaseResponse:
    svc = services()
    mode = request.args.get("mode") or svc.settings.download_mode
    if mode not in ("proxy", "redirect"):
        raise InvalidInput("mode must be 'proxy' or 'redirect'.")
    if request.args.get("filename"):  # one file of a pypi release
        found = pypi_manage.resolve_release_file(
            request_uow(),
            actor=current_principal(),
            project=project,
            package=package,
            ref=ref,
            filename=request.args["filename"],
        )
    else:
        found = artifacts.resolve(
            request_uow(), actor=current_principal(), project=project, package=package, ref=ref
        )
    if mode == "redirect" and request.method == "GET":
        url = svc.blobs.presigned_url(
            found.artifact.id,
            found.filename,
            found.artifact.content_type,
            svc.settings.presign_expiry,
        )
        if url:
            return redirect(url, code=302)
    return send_blob(svc.blobs, found.artifact, found.filename)


@bp.get(f"{PKG}/tags")
def list_tags(project: str, package: str) -> Response:
    q = load_args(s.PageQuery())
    page = tags.list_tags(
        request_uow(),
        actor=current_principal(),
        project=project,
        package=package,
        search=q["search"],
        page=q["page"],
        limit=q["limit"],
    )
    return jsonify(s.page_of(s.TagOut, page))


@bp.get(f"{PKG}/tags/<name>")
def get_tag(project: str, package: str, name: str) -> Response:
    found = tags.get_tag(
        request_uow(), actor=current_principal(), project=project, package=package, name=name
    )
    return jsonify(s.TagOut().dump(found))


@bp.put(f"{PKG}/tags/<name>")
def set_tag(project: str, package: str, name: str) -> Response:
    svc = services()
    body = load_json(s.TagIn())
    tag = tags.set_tag(
        request_uow(),
        svc.clock,
        actor=current_principal(),
        project=project,
        package=package,
        name=name,
        artifact_id=body["artifact_id"],
    )
    return jsonify(s.TagOut().dump(tag))


@bp.delete(f"{PKG}/tags/<name>")
def delete_tag(project: str, package: str, name: str) -> Response:
    svc = services()
    tags.delete_tag(
        request_uow(),
        svc.clock,
        actor=current_principal(),
        project=project,
        package=package,
        name=name,
    )
    return Response(status=204)


@bp.get(f"{PKG}/tags/<name>/history")
def tag_history(project: str, package: str, name: str) -> Response:
    history = tags.tag_history(
        request_uow(), actor=current_principal(), project=project, package=package, name=name
    )
    return jsonify(items=s.TagChangeOut(many=True).dump(history))


@bp.get(f"{PKG}/versions")
def list_versions(project: str, package: str) -> Response:
    q = load_args(s.PageQuery())
    page = tags.list_versions(
        request_uow(),
        actor=current_principal(),
        project=project,
        package=package,
        search=q["search"],
        page=q["page"],
        limit=q["limit"],
    )
    return jsonify(s.page_of(s.VersionOut, page))


@bp.get(f"{PKG}/versions/<version>")
def get_version(project: str, package: str, version: str) -> Response:
    found = tags.get_version(
        request_uow(),
        actor=current_principal(),
        project=project,
        package=package,
        version=version,
    )
    body = s.VersionOut().dump(found)
    files = pypi_manage.list_release(
        request_uow(),
        actor=current_principal(),
        project=project,
        package=package,
        version=version,
    )
    if files is not None:
        body["files"] = pypi_api.release_files_out(files)
    return jsonify(body)


@bp.delete(f"{PKG}/versions/<version>")
def delete_version(project: str, package: str, version: str) -> Response:
    svc = services()
    tags.delete_version(
        request_uow(),
        svc.clock,
        actor=current_principal(),
        project=project,
        package=package,
        version=version,
    )
    return Response(status=204)


@bp.get(f"{PKG}/artifacts")
def list_artifacts(project: str, package: str) -> Response:
    q = load_args(s.PageQuery())
    page = artifacts.list_package_artifacts(
        request_uow(),
        actor=current_principal(),
        project=project,
        package=package,
        page=q["page"],
        limit=q["limit"],
    )
    items = [{**s.ArtifactOut().dump(a), "uploads": n} for a, n in page.items]
    return jsonify(items=items, pagination=s.PaginationOut().dump(page))


@bp.delete(f"{PKG}/artifacts/<artifact_id>")
def delete_artifact(project: str, package: str, artifact_id: str) -> Response:
    svc = services()
    artifacts.delete_package_artifact(
        request_uow(),
        svc.clock,
        actor=current_principal(),
        project=project,
        package=package,
        artifact_id=artifact_id,
    )
    return Response(status=204)


@bp.get(f"{PKG}/uploads")
def list_uploads(project: str, package: str) -> Response:
    q = load_args(s.PageQuery())
    page = artifacts.list_uploads(
        request_uow(),
        actor=current_principal(),
        project=project,
        package=package,
        page=q["page"],
        limit=q["limit"],
    )
    return jsonify(s.page_of(s.UploadRecordOut, page))


@bp.get("/artifact/<artifact_id>")
def get_artifact(artifact_id: str) -> Response:
    found = artifacts.get_artifact(
        request_uow(), actor=current_principal(), artifact_id=artifact_id
    )
    return jsonify(s.ArtifactOut().dump(found))


def _content_type(filename: str | None, sent: str | None) -> str:
    if sent and sent != "application/octet-stream":
        return sent
    guessed, _ = mimetypes.guess_type(filename or "")
    return guessed or "application/octet-stream"
