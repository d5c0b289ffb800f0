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
    body_errors,
    cross_origin,
    draining,
    health,
    json_body,
    limits,
    metrics,
    observability,
    streaming,
    url_text,
)
from entrypoints.http.auth import THROTTLE_POLICY, throttle_policy
from entrypoints.http.client_address import TRUSTED_PROXIES
from entrypoints.http.cookie_session import CookieSessions
from entrypoints.http.errors import register_error_handlers
from entrypoints.http.openapi import build_spec
from entrypoints.http.pypi import blueprints as pypi_blueprints
from entrypoints.http.web import bp as web_bp


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    settings = settings or load_settings()
    services = services or bootstrap(settings, serving=True)
    app = Flask("orchard")
    app.config.update(
        SECRET_KEY=services.pepper,
        MAX_CONTENT_LENGTH=settings.max_body_size,  # file uploads: see limits.body_limit
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="orchard_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        JSON_SORT_KEYS=False,
    )
    app.session_interface = CookieSessions()
    app.extensions["orchard"] = services
    app.extensions[THROTTLE_POLICY] = throttle_policy(settings)
    app.extensions[TRUSTED_PROXIES] = settings.trusted_proxy_networks
    streaming.install(app)
    json_body.install(app, settings.max_json_depth)  # 400, not a RecursionError
    url_text.install(app)  # a NUL in the URL is a 400 on PostgreSQL too
    limits.install(app)  # small bodies everywhere but file uploads
    register_error_handlers(app)
    body_errors.install(app)  # a bad chunk size is a 400, not a 500
    observability.install(app)  # request id, JSON access log, request metrics
    draining.install(app)  # 503 while a SIGTERM'd worker drains
    cross_origin.install(app)  # 403 for cookie-authenticated cross-origin writes
    app.register_blueprint(metrics.bp)  # /metrics
    api = (health.bp, api_auth.bp, api_projects.bp, api_artifacts.bp, api_upstream.bp)
    for blueprint in (*api, *pypi_blueprints):
        app.register_blueprint(blueprint)
    app.register_blueprint(web_bp)  # the pages (GET / for browsers; POST / stays twine's)

    @app.get("/api/v1/openapi.json")
    def openapi() -> Response:
        return jsonify(build_spec(app))

    return app
