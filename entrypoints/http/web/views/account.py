"""Signing in and out, and a user's API keys."""

from __future__ import annotations

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from domain.errors import NotFound, TooManyAttempts, Unauthenticated
from domain.model import Page
from domain.services import sessions, users
from entrypoints.http import schemas as s
from entrypoints.http.auth import by_password, current_principal
from entrypoints.http.context import request_uow, services
from entrypoints.http.requests import load_args
from entrypoints.http.web.blueprint import bp
from entrypoints.http.web.security import rotate_csrf


@bp.get("/login")
def login() -> str:
    return render_template("login.html", next=_safe_next(request.args.get("next")))


@bp.post("/login")
def login_submit() -> BaseResponse:
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    target = _safe_next(request.form.get("next"))
    try:
        principal = by_password(username, password)
    except Unauthenticated:
        page = render_template(
            "login.html", next=target, username=username,
            error="Wrong username or password.",
        )  # fmt: skip
        return Response(page, status=401)
    except TooManyAttempts as refused:
        page = render_template("login.html", next=target, username=username, error=refused.detail)
        response = Response(page, status=429)
        response.headers["Retry-After"] = str(refused.retry_after)
        return response
    token = sessions.start_session(
        request_uow(), services().clock, principal=principal,
        lifetime=current_app.permanent_session_lifetime,
    )  # fmt: skip
    session.clear()
    session["token"] = token
    session.permanent = True
    rotate_csrf()
    return redirect(target or url_for("web.home"), code=303)


@bp.post("/logout")
def logout() -> BaseResponse:
    token = session.pop("token", None)
    if token:
        sessions.end_session(request_uow(), token=token)
    session.clear()
    rotate_csrf()
    flash("You are signed out.")
    return redirect(url_for("web.home"), code=303)


KEYS_PER_PAGE = 50


@bp.get("/account/keys")
def keys() -> str:
    return render_template("keys.html", keys=_keys_page())


@bp.post("/account/keys")
def create_key() -> Response:
    svc = services()
    created = users.create_api_key(
        request_uow(), svc.clock, actor=current_principal(),
        name=request.form.get("name", "").strip(), pepper=svc.pepper,
    )  # fmt: skip
    # The secret is in this response only: never in a URL, the session or a cache.
    response = Response(render_template("keys.html", keys=_keys_page(), created=created))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/account/keys/<int(max=9223372036854775807):key_id>/revoke")
def revoke_key_confirm(key_id: int) -> str:
    found = users.list_api_keys(request_uow(), actor=current_principal())
    key = next((k for k in found if k.id == key_id), None)
    if key is None:
        raise NotFound(f"API key {key_id} not found.")
    return render_template(
        "confirm.html", title=f"Revoke the key “{key.name}”?",
        explanation="Clients that use it are refused from the next request on. "
        "This cannot be undone.",
        action=url_for("web.revoke_key", key_id=key_id), button="Revoke key",
        back=url_for("web.keys"),
    )  # fmt: skip


@bp.post("/account/keys/<int(max=9223372036854775807):key_id>/revoke")
def revoke_key(key_id: int) -> BaseResponse:
    users.delete_api_key(request_uow(), actor=current_principal(), key_id=key_id)
    flash("The key is revoked.")
    return redirect(url_for("web.keys"), code=303)


def _keys_page() -> Page:
    page = load_args(s.PageQuery())["page"]
    found = users.list_api_keys(request_uow(), actor=current_principal())
    shown = found[(page - 1) * KEYS_PER_PAGE : page * KEYS_PER_PAGE]
    return Page(shown, len(found), page, KEYS_PER_PAGE)


def _safe_next(target: str | None) -> str | None:
    """Only a path on this server: ``//evil.example`` or a scheme is an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 0x21 or ord(c) == 0x7F for c in target):
        return None  # browsers drop tabs and newlines: "/\t/evil.example" is "//evil…"
    return target
