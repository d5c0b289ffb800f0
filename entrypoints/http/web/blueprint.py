"""The ``web`` blueprint: its templates, static files, security headers, CSRF check and
HTML error pages.

Pages are for browsers, so a refusal is a page, not JSON: a domain error renders
``error.html`` with the status the API's table gives it (a private project is the same
404), and an anonymous visitor who needs to sign in is sent to the sign-in form.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from domain.errors import DomainError, Unauthenticated
from entrypoints.http.errors import status_for, with_retry_after
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


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> BaseResponse:
    signing_in = "Authorization" not in request.headers  # refused credentials: say so
    if isinstance(error, Unauthenticated) and request.method == "GET" and signing_in:
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    status = status_for(error)
    page = render_template("error.html", status=status, detail=error.detail)
    return with_retry_after(Response(page, status=status), error)
