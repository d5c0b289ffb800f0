"""``/api/v1/projects/<project>/upstream``: a project's upstream index, for its admins.

GET shows the settings in effect (never the password), PUT changes them (fields left out
keep their value), DELETE forgets the project's own settings; ``merge/<name>`` opts a
local name in to merging upstream files; ``pages/<name>/refresh`` asks the upstream now;
POST ``pages/refresh`` makes every cached page ask at its next request; DELETE
``pages/<name>`` purges a cached page and its files, DELETE ``pages`` all of them.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, Response, jsonify
from marshmallow import EXCLUDE, Schema, fields, validate

from domain.services.upstream import manage
from entrypoints.http.auth import current_principal
from entrypoints.http.context import services
from entrypoints.http.requests import load_json

bp = Blueprint("upstream", __name__, url_prefix="/api/v1/projects/<project>/upstream")


class UpstreamIn(Schema):
    class Meta:
        unknown = EXCLUDE

    url = fields.String(validate=validate.Length(max=2000))
    ttl = fields.Float(validate=validate.Range(min=0))
    cooldown = fields.Float(validate=validate.Range(min=0))
    stale_max_age = fields.Float(validate=validate.Range(min=0))
    negative_ttl = fields.Float(validate=validate.Range(min=0))
    username = fields.String(allow_none=True, validate=validate.Length(max=255))
    password = fields.String(allow_none=True, validate=validate.Length(max=1000))


def _out(view: manage.UpstreamView) -> Response:
    body = asdict(view)
    body["merge_names"] = list(view.merge_names)
    return jsonify(body)


@bp.get("")
def show(project: str) -> Response:
    return _out(manage.show(services().upstream, current_principal(), project))


@bp.put("")
def configure(project: str) -> Response:
    changes = load_json(UpstreamIn())
    return _out(manage.configure(services().upstream, current_principal(), project, **changes))


@bp.delete("")
def reset(project: str) -> Response:
    return _out(manage.reset(services().upstream, current_principal(), project))


@bp.put("/merge/<name>")
def merge(project: str, name: str) -> Response:
    return _out(manage.set_merge(services().upstream, current_principal(), project, name, True))


@bp.delete("/merge/<name>")
def unmerge(project: str, name: str) -> Response:
    return _out(manage.set_merge(services().upstream, current_principal(), project, name, False))


@bp.post("/pages/<name>/refresh")
def refresh(project: str, name: str) -> Response:
    outcome = manage.refresh(services().upstream, current_principal(), project, name)
    return jsonify(outcome=outcome)


@bp.post("/pages/refresh")
def refresh_all(project: str) -> Response:
    expired = manage.expire_all(services().upstream, current_principal(), project)
    return jsonify(expired=expired)


@bp.delete("/pages")
def purge_all(project: str) -> Response:
    released = manage.purge_all(services().upstream, current_principal(), project)
    return jsonify(purged=True, files_released=released)


@bp.delete("/pages/<name>")
def purge(project: str, name: str) -> Response:
    released = manage.purge(services().upstream, current_principal(), project, name)
    return jsonify(purged=True, files_released=released)
