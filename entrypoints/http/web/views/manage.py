"""Changes made from the pages: yank, unyank and delete of Python files and releases,
removal of generic artifacts, project members (each removal behind a confirmation page),
and the generic upload form.

The confirmation page is a GET that changes nothing; the change is its form's POST,
which carries the CSRF token. Both check the write role first, as the API does.
"""

from __future__ import annotations

import mimetypes

from flask import Response, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from domain.errors import Unprocessable
from domain.services import artifacts, browse, projects
from domain.services.pypi import manage as pypi_manage
from domain.services.uploads import UploadRequest, upload_artifact, validate_upload_fields
from entrypoints.http.auth import current_principal
from entrypoints.http.context import request_uow, services
from entrypoints.http.metrics import record_upload
from entrypoints.http.requests import single_file
from entrypoints.http.streaming import claim_staged, drain_body
from entrypoints.http.web.blueprint import bp
from entrypoints.http.web.security import check_csrf, checks_own_csrf

PKG = "/projects/<project>/<package>"
ACTIONS = {
    "yank": ("Yank", "pip and uv skip yanked files unless a requirement pins their exact "
             "version (PEP 592). They stay downloadable, and you can unyank them later."),
    "unyank": ("Unyank", "Installers pick them again like any other file."),
    "delete": ("Delete", "Deleted files disappear from the index, and their names can never "
               "be uploaded again with other contents. This cannot be undone."),
}  # fmt: skip


@bp.get(f"{PKG}/files/<filename>/<action>")
@bp.get(f"{PKG}/releases/<version>/<action>")
def change_confirm(
    project: str, package: str, action: str, filename: str | None = None,
    version: str | None = None,
) -> str:  # fmt: skip
    verb, explanation = _action(action)
    browse.require_writer(
        request_uow(), actor=current_principal(), project=project, package=package
    )
    what = f"the file {filename}" if filename else f"every file of release {version}"
    return render_template(
        "confirm.html", title=f"{verb} {what}?", explanation=explanation,
        action=_same_url(), button=f"{verb}", reason=action == "yank",
        back=url_for("web.package", project=project, package=package),
        danger=action == "delete",
    )  # fmt: skip


@bp.post(f"{PKG}/files/<filename>/<action>")
@bp.post(f"{PKG}/releases/<version>/<action>")
def change(
    project: str, package: str, action: str, filename: str | None = None,
    version: str | None = None,
) -> BaseResponse:  # fmt: skip
    verb, _ = _action(action)
    svc, actor = services(), current_principal()
    uow = request_uow()
    if action == "yank":
        changed = pypi_manage.yank(
            uow, svc.clock, actor=actor, project=project, package=package, filename=filename,
            version=version, reason=request.form.get("reason"),
        )  # fmt: skip
    elif action == "unyank":
        changed = pypi_manage.unyank(
            uow, svc.clock, actor=actor, project=project, package=package, filename=filename,
            version=version,
        )  # fmt: skip
    else:
        changed = pypi_manage.delete(
            uow, svc.clock, actor=actor, project=project, package=package, filename=filename,
            version=version,
        )  # fmt: skip
    flash(f"{verb}: {', '.join(changed)}.")
    return redirect(url_for("web.package", project=project, package=package), code=303)


@bp.post(f"{PKG}/upload")
@checks_own_csrf
def upload(project: str, package: str) -> Response | BaseResponse:
    """The generic upload form: the API's upload, from a browser."""
    svc, actor = services(), current_principal()
    # The write role before a byte of the body is read, as the API's upload; then the
    # form's token, which is in the body (staged bytes of a refused form are discarded).
    browse.require_writer(request_uow(), actor=actor, project=project, package=package)
    check_csrf()
    drain_body()
    file = single_file("file")
    if file is None or not file.filename:
        raise Unprocessable("Choose a file to upload.")
    upload_request = validate_upload_fields(
        UploadRequest(
            project=project, package=package, filename=file.filename,
            content_type=mimetypes.guess_type(file.filename)[0] or "application/octet-stream",
            tag=request.form.get("tag", "").strip() or None,
            version=request.form.get("version", "").strip() or None,
        )
    )  # fmt: skip
    result = upload_artifact(
        request_uow(), svc.blobs, svc.clock, svc.reader, actor=actor,
        request=upload_request, staged=claim_staged(file),
    )  # fmt: skip
    record_upload(result.size, deduplicated=result.deduplicated)
    flash(f"Uploaded {result.original_name} ({result.artifact_id[:12]}…).")
    return redirect(url_for("web.package", project=project, package=package), code=303)


def _same_url() -> str:
    """This URL, built again (so a name is percent-encoded as it must be in ``action``);
    the POST of the same rule does what its GET page confirms."""
    return url_for(request.endpoint or "web.home", **(request.view_args or {}))


def _action(action: str) -> tuple[str, str]:
    if action not in ACTIONS:
        abort(404)
    return ACTIONS[action]


@bp.get(f"{PKG}/artifacts/<artifact_id>/delete")
def artifact_delete_confirm(project: str, package: str, artifact_id: str) -> str:
    browse.require_writer(
        request_uow(), actor=current_principal(), project=project, package=package
    )
    return render_template(
        "confirm.html", title=f"Remove artifact {artifact_id[:12]}… from {package}?",
        explanation="Its uploads, and the tags and versions that name it in this package, "
        "go with it. Other packages holding the same bytes keep them; unreferenced bytes "
        "are deleted by garbage collection after the grace period.",
        action=_same_url(), button="Remove artifact", danger=True,
        back=url_for("web.package", project=project, package=package),
    )  # fmt: skip


@bp.post(f"{PKG}/artifacts/<artifact_id>/delete")
def artifact_delete(project: str, package: str, artifact_id: str) -> BaseResponse:
    artifacts.delete_package_artifact(
        request_uow(), services().clock, actor=current_principal(), project=project,
        package=package, artifact_id=artifact_id,
    )  # fmt: skip
    flash(f"Removed artifact {artifact_id[:12]}… from {package}.")
    return redirect(url_for("web.package", project=project, package=package), code=303)


@bp.post("/projects/<project>/members")
def member_set(project: str) -> BaseResponse:
    username = request.form.get("username", "").strip()
    projects.set_member(
        request_uow(), services().clock, actor=current_principal(), project=project,
        username=username, role=request.form.get("role", ""),
    )  # fmt: skip
    flash(f"{username} is now a {request.form.get('role')} member of {project}.")
    return redirect(url_for("web.project", project=project), code=303)


@bp.get("/projects/<project>/members/<username>/remove")
def member_remove_confirm(project: str, username: str) -> str:
    browse.require_admin_of(request_uow(), actor=current_principal(), project=project)
    return render_template(
        "confirm.html", title=f"Remove {username} from {project}?",
        explanation="They lose their role in this project from their next request on.",
        action=_same_url(), button="Remove member", danger=True,
        back=url_for("web.project", project=project),
    )  # fmt: skip


@bp.post("/projects/<project>/members/<username>/remove")
def member_remove(project: str, username: str) -> BaseResponse:
    projects.remove_member(
        request_uow(), actor=current_principal(), project=project, username=username
    )
    flash(f"{username} is no longer a member of {project}.")
    return redirect(url_for("web.project", project=project), code=303)
