"""The ``web`` blueprint: its templates, static files, security headers, CSRF check and
HTML error pages.

Pages are for browsers, so a refusal is a page, not JSON: a domain error renders
``error.html`` with the status the API's table gives it (a private project is the same
404), and an anonymous visitor who needs to sign in is sent to the sign-in form.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as BaseResponse

from domain.errors import DomainError, Unauthenticated
from entrypoints.http.errors import error_response, status_for, with_retry_after
from entrypoints.http.web import security
from entrypoints.http.web.formatting import install_filters

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/-/static",
)
security.install(bp)
install_filters(bp)


# Where clients that are not browsers live: their 404 stays the JSON one.
_MACHINE_PATHS = ("/api/", "/simple/", "/pypi/", "/files/", "/metrics", "/health", "/ready")


@bp.app_errorhandler(NotFound)
def _no_such_page(error: NotFound) -> Response:
    """An address no route knows, typed or followed in a browser, is a page that says so;
    for everyone else (and under the API and index paths) the JSON ``404`` as before."""
    browser = request.blueprint == "web" or (
        request.url_rule is None
        and not request.path.startswith(_MACHINE_PATHS)
        and request.accept_mimetypes["text/html"] > request.accept_mimetypes["application/json"]
    )
    if not browser:
        return error_response(404, "Not found.")
    page = render_template("error.html", status=404, detail="There is no page at this address.")
    return Response(page, status=404, headers=security.HEADERS)  # outside the blueprint


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> BaseResponse:
    signing_in = "Authorization" not in request.headers  # refused credentials: say so
    if isinstance(error, Unauthenticated) and request.method == "GET" and signing_in:
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    status = status_for(error)
    page = render_template("error.html", status=status, detail=error.detail)
    return with_retry_after(Response(page, status=status), error)
