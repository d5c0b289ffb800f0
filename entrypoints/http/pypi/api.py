"""REST endpoints for the files of pypi packages: list, yank/unyank (PEP 592), delete.

Release-level deletion is the generic ``DELETE .../versions/<v>`` (a pypi version is a
release), and ``GET .../versions/<v>`` lists the release's files.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from domain.services.pypi import manage
from entrypoints.http.auth import current_principal
from entrypoints.http.context import request_uow, services

bp = Blueprint("pypi_api", __name__, url_prefix="/api/v1/project/<project>/<package>")


@bp.post("/files/<filename>/yank")
@bp.post("/versions/<version>/yank")
def yank(project: str, package: str, filename: str | None = None, version: str | None = None):
    svc = services()
    changed = manage.yank(
        request_uow(),
        svc.clock,
        actor=current_principal(),
        project=project,
        package=package,
        filename=filename,
        version=version,
        reason=_reason(),
    )
    return jsonify(yanked=changed, reason=_reason() or None)


@bp.delete("/files/<filename>/yank")
@bp.delete("/versions/<version>/yank")
def unyank(project: str, package: str, filename: str | None = None, version: str | None = None):
    svc = services()
    changed = manage.unyank(
        request_uow(),
        svc.clock,
        actor=current_principal(),
        project=project,
        package=package,
        filename=filename,
        version=version,
    )
    return jsonify(unyanked=changed)


@bp.delete("/files/<filename>")
def delete_file(project: str, package: str, filename: str) -> Response:
    svc = services()
    manage.delete(
        request_uow(),
        svc.clock,
        actor=current_principal(),
        project=project,
        package=package,
        filename=filename,
    )
    return Response(status=204)


def _reason() -> str | None:
    body = request.get_json(silent=True)
    reason = body.get("reason") if isinstance(body, dict) else request.args.get("reason")
    return reason if isinstance(reason, str) else None


def release_files_out(files: list) -> list[dict[str, object]]:
    """The ``files`` of a pypi version in the generic versions API."""
    return [
        {
            "filename": d.filename,
            "artifact_id": d.artifact_id,
            "size": d.size,
            "packagetype": d.packagetype,
            "requires_python": d.requires_python,
            "yanked": d.yanked,
            "yanked_reason": d.yanked_reason,
            "has_metadata": d.core_metadata is not None,
            "created_at": d.created_at.isoformat(),
        }
        for d in files
    ]
