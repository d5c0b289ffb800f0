"""The one table from domain errors to HTTP statuses, and the JSON body it renders."""

from __future__ import annotations

import pytest
from flask import Flask

from domain import errors
from entrypoints.http.errors import register_error_handlers, status_for

CASES = [
    (errors.InvalidInput, 400),
    (errors.InvalidName, 400),
    (errors.EmptyContent, 400),
    (errors.InvalidChecksum, 400),
    (errors.IncompleteContent, 400),
    (errors.Unauthenticated, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.BlobNotFound, 404),
    (errors.Conflict, 409),
    (errors.VersionConflict, 409),
    (errors.FileExists, 409),
    (errors.AlreadyExists, 409),
    (errors.TooLarge, 413),
    (errors.ChecksumMismatch, 422),
    (errors.Unprocessable, 422),
    (errors.TooManyAttempts, 429),
    (errors.BackendUnavailable, 503),
    (errors.UpstreamUnavailable, 502),
    (errors.UpstreamTimeout, 504),
]


def test_every_domain_error_has_a_status():
    covered = {cls for cls, _ in CASES}

    def subclasses(cls):
        return set(cls.__subclasses__()).union(*(subclasses(c) for c in cls.__subclasses__()))

    assert subclasses(errors.DomainError) <= covered


@pytest.mark.parametrize(("error_class", "status"), CASES)
def test_errors_render_as_json_detail_with_their_status(error_class, status):
    app = Flask("t")
    register_error_handlers(app)

    @app.get("/boom")
    def boom():
        raise error_class("Something specific went wrong.")

    response = app.test_client().get("/boom")
    assert status_for(error_class("x")) == status
    assert response.status_code == status
    assert response.get_json() == {"detail": "Something specific went wrong."}
    assert ("WWW-Authenticate" in response.headers) == (status == 401)


def test_unexpected_errors_hide_their_internals():
    app = Flask("t")
    register_error_handlers(app)

    @app.get("/boom")
    def boom():
        raise RuntimeError("/secret/path/to/file.py exploded")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert response.get_json() == {"detail": "Internal server error."}


def test_too_many_attempts_says_when_to_retry_in_json_and_in_problems():
    from flask import Blueprint

    from entrypoints.http.pypi import problems

    app = Flask("t")
    register_error_handlers(app)
    upload = Blueprint("upload", __name__)
    problems.install(upload)

    def throttled():
        raise errors.TooManyAttempts("Too many failed logins.", retry_after=42)

    app.add_url_rule("/api", "api", throttled)
    upload.add_url_rule("/legacy", "legacy", throttled)
    app.register_blueprint(upload)
    for path in ("/api", "/legacy"):
        response = app.test_client().get(path)
        assert (response.status_code, response.headers["Retry-After"]) == (429, "42")
        assert response.get_json(force=True)["detail"] == "Too many failed logins."
