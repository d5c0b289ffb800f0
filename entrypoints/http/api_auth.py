"""``/api/v1/auth`` and ``/api/v1/users``: sessions, API keys, user administration."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, session

from domain.services import sessions, users
from entrypoints.http import schemas as s
from entrypoints.http.auth import by_password, current_principal
from entrypoints.http.context import request_uow, services
from entrypoints.http.requests import load_json

bp = Blueprint("auth", __name__, url_prefix="/api/v1")


@bp.post("/auth/login")
def login() -> Response:
    body = load_json(s.LoginIn())
    principal = by_password(body["username"], body["password"])
    svc = services()
    token = sessions.start_session(
        request_uow(),
        svc.clock,
        principal=principal,
        lifetime=current_app.permanent_session_lifetime,
    )
    session.clear()
    session["token"] = token
    session.permanent = True
    return jsonify(username=principal.username, is_admin=principal.is_admin)


@bp.post("/auth/logout")
def logout() -> Response:
    token = session.pop("token", None)
    if token:
        sessions.end_session(request_uow(), token=token)
    session.clear()
    return jsonify(detail="Logged out.")


@bp.get("/auth/me")
def me() -> Response:
    principal = users.require_authenticated(current_principal())
    return jsonify(id=principal.user_id, username=principal.username, is_admin=principal.is_admin)


@bp.post("/auth/keys")
def create_key() -> Response:
    svc = services()
    body = load_json(s.ApiKeyIn())
    created = users.create_api_key(
        request_uow(), svc.clock, actor=current_principal(), name=body["name"], pepper=svc.pepper
    )
    return jsonify({**s.ApiKeyOut().dump(created.key), "key": created.secret})


@bp.get("/auth/keys")
def list_keys() -> Response:
    keys = users.list_api_keys(request_uow(), actor=current_principal())
    return jsonify(items=s.ApiKeyOut(many=True).dump(keys))


@bp.delete("/auth/keys/<int(max=9223372036854775807):key_id>")  # past 64 bits: no such key
def delete_key(key_id: int) -> Response:
    users.delete_api_key(request_uow(), actor=current_principal(), key_id=key_id)
    return Response(status=204)


@bp.get("/users")
def list_users() -> Response:
    found = users.list_users(request_uow(), actor=current_principal())
    return jsonify(items=s.UserOut(many=True).dump(found))


@bp.post("/users")
def create_user() -> Response:
    svc = services()
    body = load_json(s.UserIn())
    user = users.create_user(
        request_uow(), svc.hasher, svc.clock, actor=current_principal(), **body
    )
    return jsonify(s.UserOut().dump(user))


@bp.delete("/users/<username>")
def delete_user(username: str) -> Response:
    users.delete_user(request_uow(), actor=current_principal(), username=username)
    return Response(status=204)
