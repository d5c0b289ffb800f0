"""``/health`` (liveness and readiness in one JSON) and ``/ready`` (503 unless both
backends answer), for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from domain.errors import BackendUnavailable
from entrypoints.http.context import services

bp = Blueprint("health", __name__)


def _probe(check) -> str:
    try:
        check()
    except BackendUnavailable:
        return "unavailable"
    return "ok"


def _status() -> dict:
    svc = services()
    return {"database": _probe(lambda: svc.uow().check()), "blob_store": _probe(svc.blobs.check)}


@bp.get("/health")
def health() -> Response:
    checks = _status()
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ready else "degraded", checks=checks, version="0.1.0")


@bp.get("/ready")
def ready() -> Response:
    checks = _status()
    ready = all(v == "ok" for v in checks.values())
    response = jsonify(status="ready" if ready else "unavailable", checks=checks)
    response.status_code = 200 if ready else 503
    return response
