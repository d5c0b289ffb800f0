"""The legacy upload API: ``POST /``, ``/legacy``, ``/legacy/`` (and under
``/pypi/<project>/``). Never a redirect: twine aborts on one."""

from __future__ import annotations

from flask import Blueprint, Response, request
from werkzeug.datastructures import FileStorage, MultiDict

from domain.errors import InvalidInput
from domain.services.pypi.checks import DIGEST_FIELDS, DistributionUpload
from domain.services.pypi.upload import check_upload_allowed, upload_distribution
from entrypoints.http.auth import current_principal
from entrypoints.http.context import read_uow, request_uow, services
from entrypoints.http.limits import file_upload
from entrypoints.http.metrics import record_upload
from entrypoints.http.pypi import problems
from entrypoints.http.pypi.routing import index_route, project_or_default
from entrypoints.http.requests import single_file
from entrypoints.http.streaming import claim_staged, declare_sha256, drain_body

bp = Blueprint("pypi_upload", __name__)
problems.install(bp)


@index_route(bp, "/", methods=["POST"])
@index_route(bp, "/legacy", methods=["POST"], strict_slashes=False)
@file_upload
def upload(project: str | None) -> Response:
    svc = services()
    project, actor = project_or_default(project), current_principal()
    check_upload_allowed(read_uow(), actor=actor, project=project)  # before reading the body
    declare_sha256(field="sha256_digest")  # sent before the content by twine and uv
    form, content = request.form, single_file("content")
    drain_body()
    distribution, part = _distribution_upload(project, form, content)
    result = upload_distribution(
        request_uow(),
        svc.blobs,
        svc.clock,
        svc.reader,
        actor=actor,
        upload=distribution,
        staged=claim_staged(part),
    )
    record_upload(result.size, deduplicated=result.duplicate)
    message = "identical file already present" if result.duplicate else "stored"
    return Response(f"OK: {result.filename} {message}\n", mimetype="text/plain")


def _distribution_upload(
    project: str, form: MultiDict, content: FileStorage | None
) -> tuple[DistributionUpload, FileStorage]:
    """The upload the form describes, with its file part (refused when missing)."""
    action = form.get(":action", "file_upload")
    if action != "file_upload":
        raise InvalidInput(f"Unsupported :action {action[:40]!r}: only 'file_upload' is.")
    if content is None or content.filename is None:
        raise InvalidInput("The upload has no 'content' part: send the file as 'content'.")
    if not form.get("name") or not form.get("version"):
        raise InvalidInput("The upload form needs the fields 'name' and 'version'.")
    return DistributionUpload(
        project=project,
        name=form["name"],
        version=form["version"],
        filename=content.filename,
        digests={field: form[field] for field in DIGEST_FIELDS if form.get(field)},
        requires_python=form.get("requires_python"),
    ), content
