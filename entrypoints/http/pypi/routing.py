"""Every index URL exists twice: at the root for the default project (the seed's
``http://HOST:8080/simple/``) and under ``/pypi/<project>/`` for any project."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint

from entrypoints.http.context import services


def index_route(bp: Blueprint, rule: str, **options: Any) -> Callable:
    """``options`` go to Flask's ``add_url_rule`` as they are (typed ``Any`` there too)."""

    def register(view: Callable) -> Callable:
        # One endpoint per rule: rules sharing an endpoint and defaults would redirect to
        # each other (werkzeug's redirect_defaults), and an upload must never redirect.
        default, named = f"{view.__name__}@{rule}", f"{view.__name__}@/pypi{rule}"
        bp.add_url_rule(rule, default, view, defaults={"project": None}, **options)
        bp.add_url_rule(f"/pypi/<project>{rule}", named, view, **options)
        return view

    return register


def project_or_default(project: str | None) -> str:
    return project or services().settings.default_index
