"""The Flask application factory (gunicorn calls ``create_app()``)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, jsonify

from entrypoints.bootstrap import Services, bootstrap
from entrypoints.config import Settings, load_settings
from entrypoints.http import (
    api_artifacts,
    api_auth,
    api_projects,
    api_upstream,
    draining,
    health,
    metrics,
    observability,
    streaming,
)
from entrypoints.http.auth import PasswordCache
from entrypoints.http.cookie_session import CookieSessions
from entrypoints.http.errors import register_error_handlers
from entrypoints.http.openapi import build_spec
from entrypoints.http.pypi import blueprints as pypi_blueprints


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    settings = settings or load_settings()
    services = services or bootstrap(settings)
    app = Flask("orchard")
    app.config.update(
        SECRET_KEY=services.pepper,
        MAX_CONTENT_LENGTH=settings.max_upload_size + 1024 * 1024,  # room for multipart framing
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="orchard_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        JSON_SORT_KEYS=False,
    )
    app.session_interface = CookieSessions()
    app.extensions["orchard"] = services
    app.extensions["orchard.password_cache"] = PasswordCache(
        settings.password_cache_seconds, services.pepper
    )
    streaming.install(app)
    register_error_handlers(app)
    observability.install(app)  # request id, JSON access log, request metrics
    draining.install(app)  # 503 while a SIGTERM'd worker drains
    app.register_blueprint(metrics.bp)  # /metrics
    for blueprint in (health.bp, api_auth.bp, api_projects.bp, api_artifacts.bp, api_upstream.bp,
                      *pypi_blueprints):  # fmt: skip
        app.register_blueprint(blueprint)

    @app.get("/api/v1/openapi.json")
    def openapi() -> Response:
        return jsonify(build_spec(app))

    return app
