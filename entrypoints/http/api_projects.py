"""``/api/v1/projects`` (projects and members) and ``/api/v1/project/<p>/packages``."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from domain.services import projects
from entrypoints.http import schemas as s
from entrypoints.http.auth import current_principal
from entrypoints.http.context import request_uow, services
from entrypoints.http.requests import load_args, load_json

bp = Blueprint("projects", __name__, url_prefix="/api/v1")


@bp.get("/projects")
def list_projects() -> Response:
    q = load_args(s.PageQuery())
    page = projects.list_projects(
        request_uow(),
        actor=current_principal(),
        search=q["search"],
        page=q["page"],
        limit=q["limit"],
    )
    return jsonify(s.page_of(s.ProjectOut, page))


@bp.post("/projects")
def create_project() -> Response:
    svc = services()
    body = load_json(s.ProjectIn())
    project = projects.create_project(request_uow(), svc.clock, actor=current_principal(), **body)
    return jsonify(s.ProjectOut().dump(project))


@bp.get("/projects/<project>")
def get_project(project: str) -> Response:
    found = projects.get_project(request_uow(), actor=current_principal(), name=project)
    return jsonify(s.ProjectOut().dump(found))


@bp.patch("/projects/<project>")
def update_project(project: str) -> Response:
    svc = services()
    body = load_json(s.ProjectPatch())
    updated = projects.update_project(
        request_uow(), svc.clock, actor=current_principal(), name=project, **body
    )
    return jsonify(s.ProjectOut().dump(updated))


@bp.delete("/projects/<project>")
def delete_project(project: str) -> Response:
    svc = services()
    projects.delete_project(request_uow(), svc.clock, actor=current_principal(), name=project)
    return Response(status=204)


@bp.get("/projects/<project>/members")
def list_members(project: str) -> Response:
    found = projects.list_members(request_uow(), actor=current_principal(), project=project)
    return jsonify(items=s.MemberOut(many=True).dump(found))


@bp.get("/projects/<project>/members/<username>")
def get_member(project: str, username: str) -> Response:
    found = projects.get_member(
        request_uow(), actor=current_principal(), project=project, username=username
    )
    return jsonify(s.MemberOut().dump(found))


@bp.put("/projects/<project>/members/<username>")
def set_member(project: str, username: str) -> Response:
    svc = services()
    body = load_json(s.MemberIn())
    member = projects.set_member(
        request_uow(),
        svc.clock,
        actor=current_principal(),
        project=project,
        username=username,
        role=body["role"],
    )
    return jsonify(s.MemberOut().dump(member))


@bp.delete("/projects/<project>/members/<username>")
def remove_member(project: str, username: str) -> Response:
    projects.remove_member(
        request_uow(), actor=current_principal(), project=project, username=username
    )
    return Response(status=204)


@bp.get("/project/<project>/packages")
def list_packages(project: str) -> Response:
    q = load_args(s.PageQuery())
    page = projects.list_packages(
        request_uow(),
        actor=current_principal(),
        project=project,
        search=q["search"],
        format=q["format"],
        page=q["page"],
        limit=q["limit"],
    )
    return jsonify(s.page_of(s.PackageOut, page))


@bp.post("/project/<project>/packages")
def create_package(project: str) -> Response:
    svc = services()
    body = load_json(s.PackageIn())
    package = projects.create_package(
        request_uow(), svc.clock, actor=current_principal(), project=project, **body
    )
    return jsonify(s.PackageOut().dump(package))


@bp.get("/project/<project>/packages/<package>")
def get_package(project: str, package: str) -> Response:
    found = projects.get_package(
        request_uow(), actor=current_principal(), project=project, name=package
    )
    return jsonify(s.PackageOut().dump(found))


@bp.delete("/project/<project>/packages/<package>")
def delete_package(project: str, package: str) -> Response:
    svc = services()
    projects.delete_package(
        request_uow(), svc.clock, actor=current_principal(), project=project, name=package
    )
    return Response(status=204)
